//! `optimist::connect` on every networked scheme, against the servers scripts/test
//! starts (this crate builds every backend): a working store, bad options refused
//! before anything is sent, an unreachable server, and no password in any error or
//! `Debug` output.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

mod common;

use common::{aws_env, optimist, with_options};
use optimist::{Error, Key, StoreConfig, VersionedStore};
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::json;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// The password of a URL's user information.
fn password(url: &str) -> String {
    let (_, rest) = url.split_once("://").unwrap();
    let (userinfo, _) = rest.rsplit_once('@').unwrap();
    userinfo.split_once(':').unwrap().1.to_string()
}

/// Connects, writes and reads one item, and checks that the config's Debug output
/// hides the password.
fn works(url: &str) {
    let config = StoreConfig::from_url(url).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !format!("{config:?}").contains(&password(url)),
        "{config:?}"
    );
    runtime().block_on(async {
        let store = optimist::connect(url)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let key = Key::new("connect");
        let v1 = store.insert(&key, json!({"n": 1})).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap().map(|i| i.version), Some(v1));
        store.remove(&key).await.unwrap();
    });
}

/// What connecting answers, as one line with its causes, asserted free of `secret`.
fn failure(url: &str, secret: &str) -> (Error, String) {
    let err = runtime()
        .block_on(optimist::connect(url))
        .err()
        .unwrap_or_else(|| panic!("{url}: connected"));
    let mut shown = format!("{err}\n{err:?}\n");
    let mut cause = std::error::Error::source(&err);
    while let Some(c) = cause {
        shown.push_str(&format!("{c}\n{c:?}\n"));
        cause = c.source();
    }
    assert!(!shown.contains(secret), "{url}: {shown}");
    (err, shown)
}

#[test]
fn postgres_urls() {
    let Some(url) = common::postgres("postgres_urls") else {
        return;
    };
    let secret = password(&url);
    let table = format!("optimist_cli_connect_{:08x}", rand::random::<u32>());
    works(&with_options(
        &url,
        &format!("table={table}&max_connections=2&response_timeout_ms=5000"),
    ));
    runtime().block_on(async {
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(&mut conn)
            .await
            .unwrap();
    });
    let (err, shown) = failure(&with_options(&url, "table=t&pool=3"), &secret);
    assert!(
        matches!(err, Error::Configuration { .. }) && shown.contains("unknown option `pool`"),
        "{shown}"
    );
    // The same password, on a port nothing listens on.
    let (_, rest) = url.split_once('@').unwrap();
    let unreachable = url.replace(rest, "127.0.0.1:1/optimist?table=t");
    let (err, _) = failure(&unreachable, &secret);
    assert!(matches!(err, Error::Backend { .. }), "{err:?}");
}

#[test]
fn redis_urls() {
    let Some(url) = common::redis("redis_urls") else {
        return;
    };
    let secret = password(&url);
    let prefix = format!("cli-connect-{:08x}", rand::random::<u32>());
    works(&with_options(
        &url,
        &format!("prefix={prefix}&pool_size=2&tombstones=false"),
    ));
    let (err, shown) = failure(&url, &secret);
    assert!(
        matches!(err, Error::Configuration { .. }) && shown.contains("no key prefix"),
        "{shown}"
    );
    let (_, shown) = failure(&with_options(&url, "prefix=p&size=2"), &secret);
    assert!(shown.contains("unknown option `size`"), "{shown}");
    let (_, rest) = url.split_once('@').unwrap();
    let (err, _) = failure(
        &format!("{}127.0.0.1:1?prefix=p", &url[..url.len() - rest.len()]),
        &secret,
    );
    assert!(matches!(err, Error::Backend { .. }), "{err:?}");
}

#[test]
fn dynamodb_urls() {
    // The credentials come from the environment, which a test must not change: the
    // binary connects, with them set on its command.
    let table = format!("cli-connect-{:08x}", rand::random::<u32>());
    let Some(url) = common::dynamodb("dynamodb_urls", &table) else {
        return;
    };
    let mut cmd = optimist();
    aws_env(&mut cmd)
        .args(["get", &url, "k"])
        .assert()
        .code(2)
        .stderr(contains(format!("table \"{table}\" does not exist")));
    let mut cmd = optimist();
    aws_env(&mut cmd)
        .args([
            "get",
            &with_options(&url, "partition_key=pk&version_atribute=v"),
            "k",
        ])
        .assert()
        .code(2)
        .stderr(contains("unknown field `version_atribute`"));
    optimist()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["get", &url, "k"])
        .assert()
        .code(2)
        .stderr(contains("no credentials").and(contains("AWS_ACCESS_KEY_ID")));
}

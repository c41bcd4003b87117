//! A password never shows: not in any error (its message, its sources, their `Debug`),
//! not in the builder's, the store's or the pool's `Debug`, whatever characters it
//! holds and however the URL writes it (raw or percent-encoded, in the user info or as
//! a `password=` parameter).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::str::FromStr;
use std::time::Duration;

use optimist_core::{Error, ErrorKind, Key, VersionedStore};
use optimist_postgres::PostgresStore;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;

/// Passwords with each character that makes a URL ambiguous, `%`, and non-ASCII. Each
/// starts with a letter, so a URL parser that misreads one finds an invalid port rather
/// than a host name to look up (the tests stay on loopback).
const HARD: [&str; 9] = [
    "pa/ss",
    "pa?ss",
    "pa#ss",
    "pa@ss",
    "pa:ss",
    "pa%ss",
    "pa%41ss",
    "pässwörd",
    "p/?#@:%é",
];

/// Every byte but ASCII letters, digits and `-._~` as `%XX`.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `%XX` sequences decoded, as a driver reads a password written in a URL.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The forms of `password` that must never show: as given, encoded, and as a driver
/// decodes it. A password too short to be told from other text would make this test
/// meaningless, so none is.
fn forms(password: &str) -> Vec<String> {
    assert!(password.chars().count() >= 5, "{password}");
    vec![password.to_string(), encode(password), decode(password)]
}

/// The URLs that carry `password` to `host_port`: raw and encoded, in the user info and
/// as a parameter.
fn urls(user: &str, password: &str, host_port: &str, db: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for written in [password.to_string(), encode(password)] {
        urls.push(format!("postgres://{user}:{written}@{host_port}/{db}"));
        urls.push(format!(
            "postgres://{user}@{host_port}/{db}?password={written}&sslmode=prefer"
        ));
    }
    urls
}

/// Fails if the URL, as the driver reads it, leads anywhere but loopback.
fn stays_on_loopback(url: &str) {
    if let Ok(options) = PgConnectOptions::from_str(url) {
        assert_eq!(
            options.get_host(),
            "127.0.0.1",
            "{url} would leave loopback"
        );
    }
}

fn assert_hidden(password: &str, shown: &str, url: &str) {
    for form in forms(password) {
        assert!(!shown.contains(&form), "{form:?} shows for {url}:\n{shown}");
    }
}

#[tokio::test]
async fn no_password_shows_when_the_url_is_bad_or_the_server_is_down() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    for password in HARD {
        for url in urls("optimist", password, &format!("127.0.0.1:{port}"), "db") {
            stays_on_loopback(&url);
            let builder = PostgresStore::builder()
                .url(url.clone())
                .acquire_timeout(Duration::from_secs(2));
            assert_hidden(password, &format!("{builder:?}"), &url);
            let err = builder.build().await.expect_err("nothing listens there");
            assert!(
                matches!(
                    err,
                    Error::Configuration { .. }
                        | Error::Backend {
                            kind: ErrorKind::Unavailable,
                            ..
                        }
                ),
                "{url}: {err:?}"
            );
            assert_hidden(password, &common::everything_shown(&err), &url);
        }
    }
}

#[tokio::test]
async fn a_hard_password_works_encoded_and_never_shows() {
    let Some(url) = common::url_or_skip("a_hard_password_works_encoded_and_never_shows") else {
        return;
    };
    let admin = sqlx::PgPool::connect(&url).await.expect("pool");
    let role = format!("optimist_pw_{:08x}", rand::random::<u32>());
    let password = "p/?#@:%é ü";
    sqlx::query(&format!(
        "CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'"
    ))
    .execute(&admin)
    .await
    .expect("role");
    sqlx::query(&format!(
        "GRANT CREATE, USAGE ON SCHEMA public TO \"{role}\""
    ))
    .execute(&admin)
    .await
    .expect("grant");
    let (_, host_port) = common::through(&url, 0);
    let db = url.rsplit('/').next().unwrap_or("optimist").to_string();

    // Percent-encoded, as URLs require, it connects.
    let good = format!("postgres://{role}:{}@{host_port}/{db}", encode(password));
    stays_on_loopback(&good);
    let builder = PostgresStore::builder()
        .url(good.clone())
        .table(common::fresh_table());
    let shown = format!("{builder:?}");
    let store = builder.build().await.expect("the role connects");
    store
        .insert(&Key::new("k"), json!(1))
        .await
        .expect("insert");
    let shown = format!("{shown} {store:?} {:?}", store.pool());
    assert_hidden(password, &shown, &good);
    // A statement the server refuses: its error holds no password either.
    sqlx::query(&format!("DROP TABLE \"{}\"", store.table()))
        .execute(&admin)
        .await
        .expect("drop");
    let err = store.get(&Key::new("k")).await.expect_err("no table");
    assert_hidden(password, &common::everything_shown(&err), &good);
    store.pool().close().await;

    // Every other way of writing it: connected or refused, never shown.
    for url in urls(&role, password, &host_port, &db) {
        stays_on_loopback(&url);
        match PostgresStore::builder()
            .url(url.clone())
            .table(common::fresh_table())
            .build()
            .await
        {
            Ok(store) => {
                assert_hidden(password, &format!("{store:?} {:?}", store.pool()), &url);
                store.pool().close().await;
            }
            Err(err) => assert_hidden(password, &common::everything_shown(&err), &url),
        }
    }

    // A wrong password, as hard: the server refuses it, for good, and neither shows.
    let wrong = "w/?#@:%é ü";
    let bad = format!("postgres://{role}:{}@{host_port}/{db}", encode(wrong));
    let err = PostgresStore::builder()
        .url(bad.clone())
        .build()
        .await
        .expect_err("wrong password");
    assert!(
        matches!(
            err,
            Error::Backend {
                kind: ErrorKind::Rejected,
                retryable: false,
                ..
            }
        ),
        "{err:?}"
    );
    let shown = common::everything_shown(&err);
    assert!(shown.contains("password authentication failed"), "{shown}");
    assert_hidden(wrong, &shown, &bad);
    assert_hidden(password, &shown, &bad);

    sqlx::query(&format!("DROP OWNED BY \"{role}\""))
        .execute(&admin)
        .await
        .expect("drop owned");
    sqlx::query(&format!("DROP ROLE \"{role}\""))
        .execute(&admin)
        .await
        .expect("drop role");
}

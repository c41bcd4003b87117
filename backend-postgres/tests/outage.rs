//! A server that goes away under a running store: typed errors that say whether the
//! write may have landed (contract R12), never a conflict, never the password.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::Duration;

use common::proxy::Proxy;
use optimist_core::{Error, Key, VersionedStore};
use optimist_postgres::PostgresStore;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_is_indeterminate_for_writes_and_retryable_otherwise() {
    let Some(url) = common::url_or_skip("a_lost_connection_is_indeterminate_for_writes") else {
        return;
    };
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", &url));
    let (userinfo, after) = rest.rsplit_once('@').unwrap_or(("", rest));
    let end = after.find(['/', '?']).unwrap_or(after.len());
    let (host, tail) = after.split_at(end);
    let proxy = Proxy::start(host.to_string()).await.expect("proxy");
    let proxied = format!("{scheme}://{userinfo}@127.0.0.1:{}{tail}", proxy.port);
    let password = userinfo
        .split_once(':')
        .map(|(_, p)| p.to_string())
        .unwrap_or_default();

    let store = PostgresStore::builder()
        .url(proxied)
        .table(common::fresh_table())
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(2))
        .build()
        .await
        .expect("store");
    let key = Key::new("k");
    store.insert(&key, json!(1)).await.expect("insert");

    // Wait until the pool holds the connection idle (sqlx pings it on release first).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while store.pool().num_idle() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "connection never went idle"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    proxy.cut();
    // The pooled connection is broken; the put goes out on it and its answer is lost.
    let put = store.put(&key, json!(2)).await.expect_err("server gone");
    assert!(put.is_indeterminate(), "{put:?}");
    // No connection can be made now: nothing is sent, so it is a retryable backend error.
    let get = store.get(&key).await.expect_err("server gone");
    assert!(
        matches!(
            get,
            Error::Backend {
                retryable: true,
                ..
            }
        ),
        "{get:?}"
    );
    let update = store
        .update(&key, optimist_core::Version::FIRST, json!(3))
        .await
        .expect_err("gone");
    assert!(
        matches!(
            update,
            Error::Backend {
                retryable: true,
                ..
            }
        ),
        "{update:?}"
    );
    for err in [&put, &get, &update] {
        let shown = format!("{err} {err:?}");
        assert!(password.is_empty() || !shown.contains(&password), "{shown}");
        assert!(!err.is_conflict());
    }
}

//! A server that goes away under a running store: typed errors that say whether the
//! write may have landed (contract R12), a failure that applied nothing sent again
//! within the retry policy, never a conflict, never the password.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::Duration;

use optimist_core::retry::RetryPolicy;
use optimist_core::{Error, ErrorKind, Key, Version, VersionedStore};
use optimist_postgres::PostgresStore;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_is_indeterminate_for_writes_and_retried_otherwise() {
    let Some(url) = common::url_or_skip("a_lost_connection_is_indeterminate_for_writes") else {
        return;
    };
    let (proxy, proxied) = common::proxied(&url).await;
    let password = common::password(&url);

    const ATTEMPTS: u32 = 3;
    let store = PostgresStore::builder()
        .url(proxied)
        .table(common::fresh_table())
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(2))
        .retry_policy(
            RetryPolicy::transient_default()
                .clone()
                .with_max_attempts(ATTEMPTS),
        )
        .build()
        .await
        .expect("store");
    let key = Key::new("k");
    store.insert(&key, json!(1)).await.expect("insert");

    common::idle(&store).await;
    proxy.cut();
    // The store's connection is broken; the put goes out on it and its answer is lost:
    // it may have been applied. The connection is closed and the pool tries to open
    // another in the background (refused). The engine tries to read the key to settle
    // the put, finds no connection (nothing sent), and never sends the put again.
    let put = store.put(&key, json!(2)).await.expect_err("server gone");
    assert!(put.is_indeterminate(), "{put:?}");
    assert!(
        proxy.refused() >= 1,
        "the pool tried to open a connection in place of the broken one"
    );

    // No connection can be had now: nothing is sent, so the engine tries again, once
    // per attempt of the retry policy, then reports the failure as spent.
    let get = store.get(&key).await.expect_err("server gone");
    assert!(
        matches!(
            get,
            Error::Backend {
                kind: ErrorKind::Unavailable,
                retryable: false,
                ..
            }
        ),
        "{get:?}"
    );
    let update = store
        .update(&key, Version::FIRST, json!(3))
        .await
        .expect_err("gone");
    assert!(
        matches!(
            update,
            Error::Backend {
                kind: ErrorKind::Unavailable,
                retryable: false,
                ..
            }
        ),
        "{update:?}"
    );
    for err in [&put, &get, &update] {
        let shown = common::everything_shown(err);
        if let Some(password) = &password {
            assert!(!shown.contains(password.as_str()), "{shown}");
        }
        assert!(!err.is_conflict());
    }
}

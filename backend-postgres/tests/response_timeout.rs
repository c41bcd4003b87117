//! A server that stops answering: PostgreSQL has no response timeout of its own, so
//! the store's `response_timeout` is what keeps a caller from hanging. A write or a
//! transaction whose answer does not come may have been applied: the engine settles it
//! by reading its token; a read applied nothing (sent again on a new connection,
//! `Timeout` once attempts run out).
//!
//! The proxy holds back the answers on the connections open at the moment it stalls;
//! connections opened later work. Each call is wrapped in a generous outer timeout only
//! so that a regression fails instead of hanging the test run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::future::Future;
use std::time::Duration;

use optimist_core::retry::RetryPolicy;
use optimist_core::{Error, ErrorKind, Key, Version, VersionedStore};
use optimist_postgres::PostgresStore;
use serde_json::json;

const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

/// `call`'s result; a call still running after a minute is a hang, and fails the test.
async fn returns<T>(name: &str, call: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), call)
        .await
        .unwrap_or_else(|_| panic!("{name} hung instead of timing out"))
}

async fn store(url: &str, table: &str, attempts: u32, create_table: bool) -> PostgresStore {
    PostgresStore::builder()
        .url(url)
        .table(table)
        .create_table(create_table)
        .max_connections(1)
        .response_timeout(RESPONSE_TIMEOUT)
        .retry_policy(
            RetryPolicy::transient_default()
                .clone()
                .with_max_attempts(attempts),
        )
        .build()
        .await
        .expect("store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_answering_times_out_and_writes_are_settled() {
    let Some(url) = common::url_or_skip("a_server_that_stops_answering_times_out") else {
        return;
    };
    let (proxy, proxied) = common::proxied(&url).await;
    let table = common::fresh_table();
    let retrying = store(&proxied, &table, 2, true).await;
    let key = Key::new("k");
    // Warm up, so each statement below is sent in one go on a prepared statement.
    assert_eq!(
        retrying.insert(&key, json!(1)).await.expect("insert"),
        Version::FIRST
    );
    assert_eq!(
        retrying.put(&key, json!(2)).await.expect("put"),
        Version::new(2)
    );
    assert!(retrying.get(&key).await.expect("get").is_some());

    // A write: sent, answer held back. It may have been applied, so the engine reads
    // the key (on a new connection: the stalled one was closed) and finds the write's
    // token there: applied, once (see tests/lost_answers.rs for the other outcomes).
    common::idle(&retrying).await;
    proxy.stall_open();
    let update = returns("update", retrying.update(&key, Version::new(2), json!(3))).await;
    assert_eq!(update.expect("settled"), Version::new(3));
    // It was applied: the server answered it (after committing), and the proxy held
    // the answer back.
    returns("the server's answer", async {
        while proxy.held() == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    let item = returns("get", retrying.get(&key)).await.expect("get");
    assert_eq!(
        item.map(|item| (item.value, item.version)),
        Some((json!(3), Version::new(3))),
        "the write whose answer was lost landed once"
    );

    // A read: sent, answer held back. It applied nothing, so the engine sends it again,
    // on a new connection (the stalled one was closed), which answers.
    common::idle(&retrying).await;
    let connections = proxy.connections();
    proxy.stall_open();
    let item = returns("get", retrying.get(&key))
        .await
        .expect("read again");
    assert_eq!(item.map(|item| item.version), Some(Version::new(3)));
    assert_eq!(
        proxy.connections(),
        connections + 1,
        "the read was sent again, on one new connection"
    );

    // With a single attempt, the read's own failure shows: a timeout, nothing applied.
    let once = store(&proxied, &table, 1, false).await;
    assert!(once.get(&key).await.expect("get").is_some());
    common::idle(&once).await;
    proxy.stall_open();
    let get = returns("get", once.get(&key)).await;
    let err = get.expect_err("no answer");
    assert!(
        matches!(
            err,
            Error::Backend {
                kind: ErrorKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_indeterminate());
    // The stalled connection was closed; the next call opens another.
    assert!(returns("get", once.get(&key)).await.expect("get").is_some());

    // A transaction: one call of the commit function, which commits when it returns.
    // Its answer held back, it may have been applied: the engine reads the key (on the
    // replacement connection) and finds the transaction's token there: applied, once.
    common::idle(&once).await;
    let held = proxy.held();
    proxy.stall_open();
    let tx = returns(
        "transact",
        once.transact(vec![optimist_core::TxOp::put(key.clone(), json!(4))]),
    )
    .await;
    assert_eq!(tx.expect("settled"), vec![Some(Version::new(4))]);
    returns("the server's answer", async {
        while proxy.held() == held {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    let item = returns("get", once.get(&key)).await.expect("get");
    assert_eq!(
        item.map(|item| (item.value, item.version)),
        Some((json!(4), Version::new(4))),
        "the transaction whose answer was lost landed once"
    );
}

#[tokio::test]
async fn a_zero_response_timeout_is_a_configuration_error() {
    let err = PostgresStore::builder()
        .url("postgres://127.0.0.1:1/db")
        .response_timeout(Duration::ZERO)
        .build()
        .await
        .expect_err("zero");
    assert!(
        matches!(err, Error::Configuration { ref reason, .. } if reason.contains("response timeout")),
        "{err:?}"
    );
}

//! `check_idle_after`: connections idle that long are checked before an operation
//! uses them, so that connections something between the store and the server closed
//! while idle (a proxy's or load balancer's idle timeout, a NAT) are replaced before a
//! write is sent on them, and a busy store sends no check at all.
//!
//! Without the check, a proxy that cuts every idle connection makes a burst of 32
//! puts right after it lose some answers (measured: 5, 5 and 2 `Indeterminate` over
//! three rounds), as each write sent on a dead connection finds an end of stream it
//! cannot tell from a lost answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::Duration;

use common::proxy::Proxy;
use optimist_conformance::network::{FaultProxy, url_through};
use optimist_core::{Key, VersionedStore};
use optimist_postgres::PostgresStore;
use serde_json::json;

/// Concurrent puts after each cut.
const BURST: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_cut_while_idle_are_replaced_before_a_write_is_sent() {
    let Some(url) = common::url_or_skip("connections_cut_while_idle") else {
        return;
    };
    let (_, upstream) = url_through(&url, "127.0.0.1:1".parse().unwrap()).unwrap();
    let proxy = FaultProxy::start(&upstream).await.unwrap();
    let (through, _) = url_through(&url, proxy.address()).unwrap();
    let store = PostgresStore::builder()
        .url(through)
        .table(common::fresh_table())
        .check_idle_after(Duration::from_millis(100))
        .build()
        .await
        .unwrap();
    for round in 0..3 {
        proxy.cut();
        // Longer than the check's period: every connection is checked.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let puts: Vec<_> = (0..BURST)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let key = Key::new(format!("after-{round}-{i}"));
                    let version = store.put(&key, json!(i)).await?;
                    Ok::<_, optimist_core::Error>((key, version))
                })
            })
            .collect();
        for (i, put) in puts.into_iter().enumerate() {
            let (key, version) = put
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}, put {i}: {e:?}"));
            let item = store.get(&key).await.unwrap().unwrap();
            assert_eq!((item.version, item.value), (version, json!(i)));
        }
    }
}

/// A store of one connection, checked after `period` idle, through the proxy that
/// counts what the client sends; `None` after the skip line.
async fn one_connection(test: &str, period: Duration) -> Option<(Proxy, PostgresStore)> {
    let url = common::url_or_skip(test)?;
    let (proxy, proxied) = common::proxied(&url).await;
    let store = PostgresStore::builder()
        .url(proxied)
        .table(common::fresh_table())
        .max_connections(1)
        .check_idle_after(period)
        .build()
        .await
        .unwrap();
    Some((proxy, store))
}

#[tokio::test]
async fn only_a_connection_idle_that_long_is_checked() {
    let period = Duration::from_millis(300);
    let Some((proxy, store)) = one_connection("only_a_connection_idle_that_long", period).await
    else {
        return;
    };
    let key = Key::new("k");
    store.put(&key, json!(0)).await.unwrap();

    // Back to back: one round trip each, no check.
    proxy.reset();
    for i in 1..=3 {
        store.put(&key, json!(i)).await.unwrap();
    }
    let sent = proxy.sent();
    assert_eq!((sent.round_trips, sent.pings), (3, 0), "{}", proxy.kinds());

    // Idle longer than the period: the check, then the statement.
    tokio::time::sleep(period + Duration::from_millis(200)).await;
    proxy.reset();
    store.put(&key, json!(4)).await.unwrap();
    let sent = proxy.sent();
    assert_eq!((sent.round_trips, sent.pings), (2, 1), "{}", proxy.kinds());
}

#[tokio::test]
async fn a_call_dropped_during_the_check_leaves_the_pool_whole() {
    let period = Duration::from_millis(100);
    let Some((proxy, store)) = one_connection("a_call_dropped_during_the_check", period).await
    else {
        return;
    };
    let key = Key::new("k");
    store.put(&key, json!(1)).await.unwrap();
    tokio::time::sleep(period * 2).await;

    // The server stops answering on the store's one connection: the check waits, and
    // the caller gives up on it.
    proxy.stall_open();
    let gave_up = tokio::time::timeout(Duration::from_millis(300), store.get(&key)).await;
    assert!(gave_up.is_err(), "the check got no answer: {gave_up:?}");

    // The connection was closed and replaced (the new one answers): the pool still has
    // one, and the next call does not wait for the acquire timeout (10 s).
    let put = tokio::time::timeout(Duration::from_secs(5), store.put(&key, json!(2))).await;
    let version = put.expect("a connection within 5 s").unwrap();
    assert_eq!(version.get(), 2);
    assert_eq!(proxy.connections(), 2, "one replacement");
}

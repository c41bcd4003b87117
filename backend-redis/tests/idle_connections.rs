//! A connection the server closes while the store is idle (its `timeout` setting, a
//! restart, `CLIENT KILL`, a proxy's idle limit) is replaced before the next request,
//! so the writes after a quiet spell are answered, none left `Indeterminate`.
//!
//! Alone in its binary: it closes every other client's connection on the test server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::{Duration, Instant};

use optimist_core::retry::RetryPolicy;
use optimist_core::{Key, VersionedStore};
use optimist_redis::RedisStore;
use serde_json::json;

/// Concurrent writes after the close.
const BURST: usize = 32;

/// The normal clients connected to the server other than the asking one.
async fn other_clients(conn: &mut redis::aio::MultiplexedConnection) -> usize {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("normal")
        .query_async(conn)
        .await
        .unwrap();
    list.lines().count().saturating_sub(1)
}

#[tokio::test]
async fn connections_closed_while_idle_are_replaced_before_the_next_request() {
    let test = "connections_closed_while_idle_are_replaced_before_the_next_request";
    let url = match common::url() {
        Ok(url) => url,
        Err(why) => return common::skip_or_fail(test, &why),
    };
    let store = RedisStore::builder()
        .url(url.clone())
        .prefix(common::fresh_prefix())
        .retry_policy(RetryPolicy::no_retry())
        .build()
        .await
        .unwrap();
    let pool = store.pool_size();
    for i in 0..pool * 2 {
        store
            .put(&Key::new(format!("warm-{i}")), json!(i))
            .await
            .unwrap();
    }
    let mut admin = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for round in 0..3 {
        let closed: usize = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("normal")
            .arg("SKIPME")
            .arg("yes")
            .query_async(&mut admin)
            .await
            .unwrap();
        assert!(closed >= pool, "round {round}: closed {closed} of {pool}");

        // No request is made: the store reconnects on its own.
        let started = Instant::now();
        while other_clients(&mut admin).await < pool {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "round {round}: the store did not reconnect while idle"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        // Without retries: every write must go out on a live connection.
        let writes = (0..BURST).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let key = Key::new(format!("after-{round}-{i}"));
                let version = store.put(&key, json!(i)).await?;
                let item = store.get(&key).await?;
                Ok::<_, optimist_core::Error>((version, item))
            })
        });
        for (i, write) in writes.collect::<Vec<_>>().into_iter().enumerate() {
            match write.await.unwrap() {
                Ok((version, Some(item))) => {
                    assert_eq!((item.version, item.value), (version, json!(i)));
                }
                other => panic!("round {round}, write {i}: {other:?}"),
            }
        }
    }
}

//! Connections the server closes while the store is idle (its `timeout` setting, a
//! restart, `CLIENT KILL`, a proxy's idle limit) are replaced before the next request,
//! on one server and on a Redis Cluster, so the writes after a quiet spell are
//! answered, none left `Indeterminate`.
//!
//! The tests close every other client's connection on the test servers: they stay in
//! a binary of their own. (The single server and the cluster's nodes are different
//! servers, so the two tests do not close each other's.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::{Duration, Instant};

use optimist_core::{Key, VersionedStore};
use optimist_redis::RedisStore;
use redis::aio::MultiplexedConnection;
use serde_json::json;

/// Concurrent writes after each close.
const BURST: usize = 32;

/// Connections to each server, for `CLIENT` commands.
async fn admin(urls: &[String]) -> Vec<MultiplexedConnection> {
    let mut conns = Vec::new();
    for url in urls {
        let client = redis::Client::open(url.as_str()).unwrap();
        conns.push(client.get_multiplexed_async_connection().await.unwrap());
    }
    conns
}

/// Closes every normal client's connection on each server but the asking one's; how
/// many it closed.
async fn close_all(admin: &mut [MultiplexedConnection]) -> usize {
    let mut closed = 0;
    for conn in admin {
        let n: usize = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("normal")
            .arg("SKIPME")
            .arg("yes")
            .query_async(conn)
            .await
            .unwrap();
        closed += n;
    }
    closed
}

/// The normal clients connected to the servers, not counting the asking ones.
async fn other_clients(admin: &mut [MultiplexedConnection]) -> usize {
    let mut count = 0;
    for conn in admin {
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .arg("TYPE")
            .arg("normal")
            .query_async(conn)
            .await
            .unwrap();
        count += list.lines().count().saturating_sub(1);
    }
    count
}

/// Three rounds of: close all of `store`'s connections on `servers` (it holds
/// `connections` of them there), see them opened again with no request made, then
/// `BURST` concurrent puts and reads, each answered on the first attempt.
async fn closed_while_idle(store: RedisStore, servers: &[String], connections: usize) {
    let mut admin = admin(servers).await;
    for i in 0..store.pool_size() * 2 {
        store
            .put(&Key::new(format!("warm-{i}")), json!(i))
            .await
            .unwrap();
    }
    assert_eq!(other_clients(&mut admin).await, connections);
    for round in 0..3 {
        let closed = close_all(&mut admin).await;
        assert!(closed >= connections, "round {round}: closed {closed}");

        let started = Instant::now();
        while other_clients(&mut admin).await < connections {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "round {round}: the store did not reconnect while idle"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The quiet spell goes on a little: the new connections are open on the
        // servers a moment before the store has finished setting them up.
        tokio::time::sleep(Duration::from_millis(200)).await;

        let writes: Vec<_> = (0..BURST)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let key = Key::new(format!("after-{round}-{i}"));
                    let version = store.put(&key, json!(i)).await?;
                    let item = store.get(&key).await?;
                    Ok::<_, optimist_core::Error>((version, item))
                })
            })
            .collect();
        for (i, write) in writes.into_iter().enumerate() {
            match write.await.unwrap() {
                Ok((version, Some(item))) => {
                    assert_eq!((item.version, item.value), (version, json!(i)));
                }
                other => panic!("round {round}, write {i}: {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn connections_closed_while_idle_are_replaced_before_the_next_request() {
    let test = "connections_closed_while_idle_are_replaced_before_the_next_request";
    let url = match common::url() {
        Ok(url) => url,
        Err(why) => return common::skip_or_fail(test, &why),
    };
    // Without retries: every write must go out on a live connection.
    let store = common::no_retry_builder(&url).build().await.unwrap();
    let connections = store.pool_size();
    closed_while_idle(store, &[url], connections).await;
}

#[tokio::test]
async fn cluster_connections_closed_while_idle_are_replaced_before_the_next_request() {
    let test = "cluster_connections_closed_while_idle_are_replaced_before_the_next_request";
    let url = match common::cluster_url() {
        Ok(url) => url,
        Err(why) => return common::skip_or_fail(test, &why),
    };
    let store = common::no_retry_builder(&url).build().await.unwrap();
    let nodes = common::cluster_nodes(&url);
    // Each of the pool's cluster connections holds one connection per node.
    let connections = store.pool_size() * nodes.len();
    closed_while_idle(store, &nodes, connections).await;
}

//! Connections the server closes while the store is idle (its `timeout` setting, a
//! restart, `CLIENT KILL`, a proxy's idle limit) are replaced before the next request,
//! on one server and on a Redis Cluster, so the writes after a quiet spell are
//! answered, none left `Indeterminate`. On a cluster that refuses clients for a while
//! after the close (nodes restarting), the store keeps trying, and opens its
//! connections once the cluster takes clients again.
//!
//! The tests close every other client's connection on the test servers: they stay in
//! a binary of their own, and the cluster's two take turns ([`CLUSTER`]). (The single
//! server and the cluster's nodes are different servers, so the single server's test
//! runs beside them.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::{Duration, Instant};

use common::admin::Admin;
use optimist_core::{Key, VersionedStore};
use optimist_redis::RedisStore;
use serde_json::json;
use tokio::sync::Mutex;

/// Concurrent writes after each close.
const BURST: usize = 32;

/// Held by the tests that close every connection on the cluster.
static CLUSTER: Mutex<()> = Mutex::const_new(());

/// Writes on every connection of `store`, then checks that it holds `connections`
/// on the servers `admin` reaches and that nobody else does.
async fn warm(store: &RedisStore, admin: &mut Admin, connections: usize) {
    for i in 0..store.pool_size() * 2 {
        store
            .put(&Key::new(format!("warm-{i}")), json!(i))
            .await
            .unwrap();
    }
    assert_eq!(admin.other_clients().await, connections);
}

/// Waits, at most 10 s, until the servers hold `connections` again; `why` says what
/// it means when they do not.
async fn reopened(admin: &mut Admin, connections: usize, why: &str) {
    let started = Instant::now();
    while admin.other_clients().await < connections {
        assert!(started.elapsed() < Duration::from_secs(10), "{why}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The quiet spell goes on a little: the new connections are open on the servers
    // a moment before the store has finished setting them up.
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// `BURST` concurrent puts and reads on `store`, each answered on the first attempt.
async fn burst_answered(store: &RedisStore, round: usize) {
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

/// Three rounds of: close all of `store`'s connections on `servers` (it holds
/// `connections` of them there), see them opened again with no request made, then a
/// burst of writes, each answered on the first attempt.
async fn closed_while_idle(store: RedisStore, servers: &[String], connections: usize) {
    let mut admin = Admin::connect(servers).await;
    warm(&store, &mut admin, connections).await;
    for round in 0..3 {
        let closed = admin.close_all().await;
        assert!(closed >= connections, "round {round}: closed {closed}");
        let why = format!("round {round}: the store did not reconnect while idle");
        reopened(&mut admin, connections, &why).await;
        burst_answered(&store, round).await;
    }
}

/// A store on the cluster that never resends a request, the nodes' `redis://` URLs,
/// and how many connections it holds on them together.
async fn cluster_store(url: &str) -> (RedisStore, Vec<String>, usize) {
    let store = common::no_retry_builder(url).build().await.unwrap();
    let nodes = common::cluster_nodes(url);
    // Each of the pool's cluster connections holds one connection per node.
    let connections = store.pool_size() * nodes.len();
    (store, nodes, connections)
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
    let _turn = CLUSTER.lock().await;
    let (store, nodes, connections) = cluster_store(&url).await;
    closed_while_idle(store, &nodes, connections).await;
}

#[tokio::test]
async fn cluster_connections_are_replaced_once_the_cluster_takes_clients_again() {
    let test = "cluster_connections_are_replaced_once_the_cluster_takes_clients_again";
    let url = match common::cluster_url() {
        Ok(url) => url,
        Err(why) => return common::skip_or_fail(test, &why),
    };
    let _turn = CLUSTER.lock().await;
    let (store, nodes, connections) = cluster_store(&url).await;
    let mut admin = Admin::connect(&nodes).await;
    warm(&store, &mut admin, connections).await;

    // Each node takes no client beyond the asking one, as a node restarting takes
    // none: the store's attempts to reopen its connections fail, for a second.
    let before = admin.set_config("maxclients", "1").await;
    let closed = admin.close_all().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let during = admin.other_clients().await;
    admin.restore_config("maxclients", &before).await;
    assert!(closed >= connections, "closed {closed}");
    assert_eq!(during, 0, "the cluster took clients while it should not");

    reopened(
        &mut admin,
        connections,
        "the store did not reconnect once the cluster took clients again",
    )
    .await;
    burst_answered(&store, 0).await;
}

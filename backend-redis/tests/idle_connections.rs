//! Connections the server closes while the store is idle (its `timeout` setting, a
//! restart, `CLIENT KILL`, a proxy's idle limit) are replaced before the next request,
//! on one server and on a Redis Cluster, so the writes after a quiet spell are
//! answered, none left `Indeterminate`. On servers that refuse clients for a while
//! after the close (restarting, full), the store keeps trying, and opens its
//! connections once they take clients again; a write made meanwhile fails as not
//! sent (`Unavailable`), not as `Indeterminate`. A server that refused the store's
//! password for a while (a rotation gone wrong) gets its connections back too.
//!
//! The tests close every other client's connection on the test servers: they stay in
//! a binary of their own, and the tests on one set of servers take turns ([`SINGLE`],
//! [`CLUSTER`]). (The single server and the cluster's nodes are different servers.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::{Duration, Instant};

use common::admin::Admin;
use optimist_core::{Error, ErrorKind, Key, VersionedStore};
use optimist_redis::RedisStore;
use serde_json::json;
use tokio::sync::{Mutex, MutexGuard};

/// Concurrent writes after each close.
const BURST: usize = 32;

/// Held by the tests that close every connection on the single server.
static SINGLE: Mutex<()> = Mutex::const_new(());

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

/// How the servers refuse the store for a while, and how a write made then fails.
struct Refusal {
    /// The server parameter set for the while, and its value then.
    config: (&'static str, &'static str),
    /// How long.
    lasting: Duration,
    /// The kind of the error of a write made at the end of it.
    write_fails_as: ErrorKind,
}

/// Each server takes no client beyond the asking one for a second, as a server
/// restarting (or full) takes none: a write made then is not sent.
const NO_CLIENTS: Refusal = Refusal {
    config: ("maxclients", "1"),
    lasting: Duration::from_secs(1),
    write_fails_as: ErrorKind::Unavailable,
};

/// A password rotation gone wrong for 3 s: the servers take another password than
/// the store's. On one server the driver spends its own attempts to reconnect (3) in
/// that time, and would then answer every request with the refusal, for ever.
const WRONG_PASSWORD: Refusal = Refusal {
    config: ("requirepass", "not-the-stores-password"),
    lasting: Duration::from_secs(3),
    write_fails_as: ErrorKind::Rejected,
};

/// Closes every connection of `store` on `servers` while they refuse it as `refusal`
/// says; a write made then fails so, and applied nothing. Then sees the store open
/// its connections again once they take it, with no request made, and a burst of
/// writes answered.
async fn refused_for_a_while(
    store: &RedisStore,
    servers: &[String],
    connections: usize,
    refusal: Refusal,
) {
    let mut admin = Admin::connect(servers).await;
    warm(store, &mut admin, connections).await;

    let (name, value) = refusal.config;
    let before = admin.set_config(name, value).await;
    let closed = admin.close_all().await;
    tokio::time::sleep(refusal.lasting).await;
    let refused = Key::new("while-refused");
    let write = store.put(&refused, json!(0)).await;
    admin.restore_config(name, &before).await;
    assert!(closed >= connections, "closed {closed}");
    assert!(
        matches!(write, Err(Error::Backend { kind, .. }) if kind == refusal.write_fails_as),
        "{write:?}"
    );

    let why = format!("the store did not reconnect once the servers took it again ({name})");
    reopened(&mut admin, connections, &why).await;
    burst_answered(store, 0).await;
    assert_eq!(store.get(&refused).await.unwrap(), None);
}

/// A store on `url` that never resends a request and waits half a second for an
/// answer (or, on a cluster, for a closed connection's replacement).
async fn impatient_store(url: &str) -> RedisStore {
    common::no_retry_builder(url)
        .response_timeout(Duration::from_millis(500))
        .build()
        .await
        .unwrap()
}

/// The `redis://` URLs of the nodes of the cluster at `url`, and how many connections
/// `store` holds on them together.
fn on_cluster(store: &RedisStore, url: &str) -> (Vec<String>, usize) {
    let nodes = common::cluster_nodes(url);
    // Each of the pool's cluster connections holds one connection per node.
    let connections = store.pool_size() * nodes.len();
    (nodes, connections)
}

/// The single server's URL and this test's turn on it; `None` when the test skips.
async fn single_server(test: &str) -> Option<(MutexGuard<'static, ()>, String)> {
    match common::url() {
        Ok(url) => Some((SINGLE.lock().await, url)),
        Err(why) => {
            common::skip_or_fail(test, &why);
            None
        }
    }
}

/// The cluster's URL and this test's turn on it; `None` when the test skips.
async fn cluster(test: &str) -> Option<(MutexGuard<'static, ()>, String)> {
    match common::cluster_url() {
        Ok(url) => Some((CLUSTER.lock().await, url)),
        Err(why) => {
            common::skip_or_fail(test, &why);
            None
        }
    }
}

#[tokio::test]
async fn connections_closed_while_idle_are_replaced_before_the_next_request() {
    let test = "connections_closed_while_idle_are_replaced_before_the_next_request";
    let Some((_turn, url)) = single_server(test).await else {
        return;
    };
    // Without retries: every write must go out on a live connection.
    let store = common::no_retry_builder(&url).build().await.unwrap();
    let connections = store.pool_size();
    closed_while_idle(store, &[url], connections).await;
}

#[tokio::test]
async fn connections_are_reopened_once_the_server_takes_clients_again() {
    let test = "connections_are_reopened_once_the_server_takes_clients_again";
    let Some((_turn, url)) = single_server(test).await else {
        return;
    };
    let store = impatient_store(&url).await;
    let connections = store.pool_size();
    refused_for_a_while(&store, &[url], connections, NO_CLIENTS).await;
}

#[tokio::test]
async fn connections_come_back_after_the_server_refused_their_password_for_a_while() {
    let test = "connections_come_back_after_the_server_refused_their_password_for_a_while";
    let Some((_turn, url)) = single_server(test).await else {
        return;
    };
    let store = impatient_store(&url).await;
    let connections = store.pool_size();
    refused_for_a_while(&store, &[url], connections, WRONG_PASSWORD).await;
}

#[tokio::test]
async fn cluster_connections_closed_while_idle_are_replaced_before_the_next_request() {
    let test = "cluster_connections_closed_while_idle_are_replaced_before_the_next_request";
    let Some((_turn, url)) = cluster(test).await else {
        return;
    };
    let store = common::no_retry_builder(&url).build().await.unwrap();
    let (nodes, connections) = on_cluster(&store, &url);
    closed_while_idle(store, &nodes, connections).await;
}

#[tokio::test]
async fn cluster_connections_are_replaced_once_the_cluster_takes_clients_again() {
    let test = "cluster_connections_are_replaced_once_the_cluster_takes_clients_again";
    let Some((_turn, url)) = cluster(test).await else {
        return;
    };
    let store = impatient_store(&url).await;
    let (nodes, connections) = on_cluster(&store, &url);
    refused_for_a_while(&store, &nodes, connections, NO_CLIENTS).await;
}

#[tokio::test]
async fn cluster_connections_come_back_after_the_cluster_refused_their_password_for_a_while() {
    let test = "cluster_connections_come_back_after_the_cluster_refused_their_password_for_a_while";
    let Some((_turn, url)) = cluster(test).await else {
        return;
    };
    let store = impatient_store(&url).await;
    let (nodes, connections) = on_cluster(&store, &url);
    // The slot's connection closed and its replacement cannot open: the write waits
    // for it, then fails unsent.
    let refusal = Refusal {
        write_fails_as: ErrorKind::Unavailable,
        ..WRONG_PASSWORD
    };
    refused_for_a_while(&store, &nodes, connections, refusal).await;
}

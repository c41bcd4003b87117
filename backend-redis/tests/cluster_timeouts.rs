//! A Redis Cluster store's connection whose request got no answer within the response
//! timeout is replaced in the background, as on one server: silence can mean a
//! half-open connection, whose later requests would wait too. The cluster's primaries
//! hold every write (`CLIENT PAUSE … WRITE`) so that a put gets no answer in time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::{Duration, Instant};

use optimist_core::{Error, Key, Version, VersionedStore};
use optimist_redis::{RedisConnection, RedisStore};
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use serde_json::json;

/// The id the server at `node` gives the connection the store holds now; `None` when
/// it does not answer (a connection whose requests wait behind a paused write).
async fn connection_id(store: &RedisStore, node: &str) -> Option<i64> {
    let RedisConnection::Cluster(mut conn) = store.connection() else {
        panic!("a cluster store has a cluster connection");
    };
    let (host, port) = node.rsplit_once(':').unwrap();
    let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
        host: host.to_string(),
        port: port.parse().unwrap(),
    });
    let reply = conn
        .route_command(redis::cmd("CLIENT").arg("ID").clone(), route)
        .await
        .ok()?;
    Some(redis::from_redis_value(reply).unwrap())
}

/// Runs `CLIENT <args>` on every node.
async fn on_every_node(nodes: &[String], args: &[&str]) {
    for node in nodes {
        let mut conn = redis::Client::open(node.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let _: () = redis::cmd("CLIENT")
            .arg(args)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_cluster_connection_that_timed_out_is_replaced() {
    let test = "a_cluster_connection_that_timed_out_is_replaced";
    let url = match common::cluster_url() {
        Ok(url) => url,
        Err(why) => return common::skip_or_fail(test, &why),
    };
    let store = common::no_retry_builder(&url)
        .pool_size(1)
        .response_timeout(Duration::from_millis(300))
        .build()
        .await
        .unwrap();
    let key = Key::new("k");
    assert_eq!(store.put(&key, json!(1)).await.unwrap(), Version::FIRST);
    let nodes = common::cluster_nodes(&url);
    let node = nodes[0]
        .rsplit_once('@')
        .map_or(nodes[0].as_str(), |(_, host)| host);
    let node = node.trim_start_matches("redis://").to_string();
    let before = connection_id(&store, &node).await;
    assert!(before.is_some());

    on_every_node(&nodes, &["PAUSE", "2000", "WRITE"]).await;
    let put = store.put(&key, json!(2)).await;
    assert!(matches!(put, Err(Error::Indeterminate { .. })), "{put:?}");

    // Reads are not paused: the replacement opens now, and the slot takes it.
    let started = Instant::now();
    while [None, before].contains(&connection_id(&store, &node).await) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the connection that timed out was kept"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    on_every_node(&nodes, &["UNPAUSE"]).await;
    // The next put goes on the new connection. (The paused one may have run when the
    // pause ended, or not, if the server dropped it with the old connection.)
    let version = store.put(&key, json!(3)).await.unwrap();
    assert!(
        [Version::new(2), Version::new(3)].contains(&version),
        "{version}"
    );
    let item = store.get(&key).await.unwrap().unwrap();
    assert_eq!((item.version, item.value), (version, json!(3)));
}

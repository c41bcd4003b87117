//! The cluster layout on a real Redis Cluster (`OPTIMIST_REDIS_CLUSTER_URL`): a store
//! spreads over every primary while each partition keeps to one hash slot, a
//! transaction across partitions is refused with nothing written, and reads across
//! partitions (`get_many`, `scan`) gather every shard's items.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::{BTreeMap, BTreeSet};

use optimist_core::{Error, Key, ScanOptions, TxOp, Version, VersionedStore};
use optimist_redis::{RedisConnection, RedisStore};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use serde_json::json;

fn cluster_connection(store: &RedisStore) -> ClusterConnection {
    match store.connection() {
        RedisConnection::Cluster(conn) => conn,
        other => panic!("a cluster store has a cluster connection, not {other:?}"),
    }
}

/// The address of every primary serving slots.
async fn primaries(conn: &mut ClusterConnection) -> Vec<(String, u16)> {
    let nodes: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(conn)
        .await
        .unwrap();
    nodes
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let primary = fields.get(2)?.split(',').any(|f| f == "master") && fields.len() > 8;
            let address = fields.get(1)?.split(['@', ',']).next()?;
            let (host, port) = address.rsplit_once(':')?;
            primary.then(|| (host.to_string(), port.parse().unwrap()))
        })
        .collect()
}

/// The keys of `store` on the primary at `node`.
async fn keys_on(
    conn: &mut ClusterConnection,
    node: &(String, u16),
    store: &RedisStore,
) -> Vec<Vec<u8>> {
    let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
        host: node.0.clone(),
        port: node.1,
    });
    let pattern = format!("{{{}/b*", store.prefix());
    let mut cursor = 0u64;
    let mut keys = Vec::new();
    loop {
        let mut scan = redis::cmd("SCAN");
        scan.arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000);
        let reply = conn.route_command(scan, route.clone()).await.unwrap();
        let (next, found): (u64, Vec<Vec<u8>>) = redis::from_redis_value(reply).unwrap();
        keys.extend(found);
        if next == 0 {
            return keys;
        }
        cursor = next;
    }
}

async fn keyslot(conn: &mut ClusterConnection, key: &[u8]) -> u16 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_store_spreads_over_every_primary_and_a_partition_keeps_to_one_slot() {
    let Some(store) = common::cluster_store_or_skip("cluster spread").await else {
        return;
    };
    assert!(store.is_cluster());
    for p in 0..48 {
        for s in 0..2 {
            let key = Key::with_sort(format!("customer-{p}"), format!("order-{s}"));
            store.insert(&key, json!({"p": p, "s": s})).await.unwrap();
        }
    }
    let mut conn = cluster_connection(&store);
    let nodes = primaries(&mut conn).await;
    assert_eq!(nodes.len(), 3, "the test cluster has three primaries");
    let mut total = 0;
    for node in &nodes {
        let keys = keys_on(&mut conn, node, &store).await;
        assert!(!keys.is_empty(), "no key of the store on {node:?}");
        total += keys.len();
    }
    // Each partition: two items, its index and (shared per bucket) a partitions set.
    assert!(total >= 48 * 3, "{total} keys");
    // Every key of a partition, its index and its partitions set in one slot.
    for p in 0..48 {
        let partition = format!("customer-{p}");
        let mut slots = BTreeSet::new();
        for s in 0..2 {
            let key = Key::with_sort(partition.clone(), format!("order-{s}"));
            slots.insert(keyslot(&mut conn, &store.redis_key(&key)).await);
        }
        let tag_end = store
            .redis_key(&Key::new(partition.clone()))
            .iter()
            .position(|&b| b == b'}')
            .unwrap();
        let mut index = store.redis_key(&Key::new(partition.clone()));
        index.extend_from_slice(b"#index");
        slots.insert(keyslot(&mut conn, &index).await);
        let mut partitions = store.redis_key(&Key::new(partition.clone()))[..=tag_end].to_vec();
        partitions.extend_from_slice(b"#partitions");
        slots.insert(keyslot(&mut conn, &partitions).await);
        assert_eq!(slots.len(), 1, "{partition}: {slots:?}");
    }
}

#[tokio::test]
async fn a_transaction_across_partitions_is_invalid_input_and_writes_nothing() {
    let Some(store) = common::cluster_store_or_skip("cluster transactions").await else {
        return;
    };
    assert!(!store.capabilities().transactions_span_partitions);
    let a = Key::with_sort("alice", "balance");
    let b = Key::with_sort("bob", "balance");
    let v = store.insert(&a, json!(10)).await.unwrap();
    let across = vec![
        TxOp::update(a.clone(), v, json!(5)),
        TxOp::insert(b.clone(), json!(5)),
    ];
    match store.transact(across).await {
        Err(Error::InvalidInput { reason, .. }) => {
            assert!(reason.contains("partition"), "{reason}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    let item = store.get(&a).await.unwrap().unwrap();
    assert_eq!((item.value, item.version), (json!(10), v));
    assert_eq!(store.get(&b).await.unwrap(), None);
    // Within one partition: one script, all or nothing, conflicts reported.
    let log = Key::with_sort("alice", "log");
    let versions = store
        .transact(vec![
            TxOp::update(a.clone(), v, json!(5)),
            TxOp::insert(log.clone(), json!(["-5"])),
        ])
        .await
        .unwrap();
    assert_eq!(versions, vec![Some(Version::new(2)), Some(Version::FIRST)]);
    let stale = store
        .transact(vec![
            TxOp::update(a.clone(), v, json!(0)),
            TxOp::put(log.clone(), json!([])),
        ])
        .await;
    assert!(
        matches!(&stale, Err(Error::TransactionConflict { failures }) if failures.len() == 1),
        "{stale:?}"
    );
    assert_eq!(store.get(&log).await.unwrap().unwrap().value, json!(["-5"]));
}

#[tokio::test]
async fn get_many_and_scan_gather_every_shard() {
    let Some(store) = common::cluster_store_or_skip("cluster reads").await else {
        return;
    };
    let mut expected = BTreeMap::new();
    for p in 0..30 {
        let key = if p % 3 == 0 {
            Key::new(format!("p{p}"))
        } else {
            Key::with_sort(format!("p{p}"), "s")
        };
        let version = store.insert(&key, json!(p)).await.unwrap();
        expected.insert(key, version);
    }
    // Asked in reverse, with a key holding nothing in the middle.
    let mut asked: Vec<Key> = expected.keys().rev().cloned().collect();
    asked.insert(7, Key::new("nothing-here"));
    let got = store.get_many(&asked).await.unwrap();
    for (key, item) in asked.iter().zip(&got) {
        match expected.get(key) {
            Some(version) => assert_eq!(item.as_ref().map(|i| i.version), Some(*version)),
            None => assert!(item.is_none(), "{key:?}"),
        }
    }
    // Pages of 4: every item exactly once, across all buckets.
    let mut seen = Vec::new();
    let mut options = ScanOptions::new().limit(4);
    loop {
        let page = store.scan(options).await.unwrap();
        seen.extend(page.items.iter().map(|(key, _)| key.clone()));
        match page.next {
            Some(cursor) => options = ScanOptions::new().limit(4).cursor(Some(cursor)),
            None => break,
        }
    }
    let distinct: BTreeSet<Key> = seen.iter().cloned().collect();
    assert_eq!(distinct.len(), seen.len(), "an item came twice");
    assert_eq!(distinct, expected.keys().cloned().collect::<BTreeSet<_>>());
}

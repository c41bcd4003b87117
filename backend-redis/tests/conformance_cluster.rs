//! The public conformance suite on a Redis Cluster: every case on a fresh random key
//! prefix of the cluster named by `OPTIMIST_REDIS_CLUSTER_URL` (scripts/test starts
//! three primaries), in the default mode and in tombstone mode. The store uses the
//! cluster layout, so its partitions spread over every shard.
//!
//! A transaction stays within one partition on a cluster
//! (`Capabilities::transactions_span_partitions` is false): the cases that need
//! transactions across partitions show as ignored with that reason, and
//! `r10_transact_spanning_partitions_is_refused_where_declared` checks the refusal.
//! Without the variable every case is ignored with a printed reason, or fails when
//! `CI` or `OPTIMIST_REQUIRE_ALL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_conformance::factory_fn;

/// What the durability case's reopen does, and what it does not.
const REOPEN: &str = "a new cluster client with new connections on the same key prefix; the \
                      nodes are not restarted (they keep no RDB or AOF), so only the store is \
                      reopened, not Redis's persistence";

optimist_conformance::suite!(
    default: factory_fn(
        "Redis Cluster (fresh key prefix per case)",
        common::cluster_store
    )
    .with_reopen(REOPEN, |store: optimist_redis::RedisStore| {
        let prefix = store.prefix().to_string();
        drop(store);
        common::cluster_store_at(prefix, false)
    }),
    tombstones: factory_fn(
        "Redis Cluster in tombstone mode (fresh key prefix per case)",
        common::cluster_tombstone_store
    )
    .with_reopen(REOPEN, |store: optimist_redis::RedisStore| {
        let prefix = store.prefix().to_string();
        drop(store);
        common::cluster_store_at(prefix, true)
    })
);

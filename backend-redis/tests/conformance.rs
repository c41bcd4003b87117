//! The public conformance suite on Redis: every case on a fresh random key prefix of
//! the server named by `OPTIMIST_REDIS_URL`, in the default mode (a delete removes
//! the item) and in tombstone mode (contract R15).
//!
//! The durability case reopens the store: a new client with new connections on the same
//! key prefix. That is all it can check here: scripts/test runs redis-server without
//! persistence (`--save '' --appendonly no`) and never restarts it, so what a Redis
//! keeps across its own restart (RDB snapshots, the AOF) is not exercised.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_conformance::factory_fn;

/// What the durability case's reopen does, and what it does not.
const REOPEN: &str = "a new client with new connections on the same key prefix; the server is \
                      not restarted (the test server keeps no RDB or AOF), so only the store is \
                      reopened, not Redis's persistence";

optimist_conformance::suite!(
    default: factory_fn("Redis (fresh key prefix per case)", common::store)
        .with_reopen(REOPEN, |store| common::reopen(store, false)),
    tombstones: factory_fn(
        "Redis in tombstone mode (fresh key prefix per case)",
        common::tombstone_store
    )
    .with_reopen(REOPEN, |store| common::reopen(store, true))
);

//! The public conformance suite on Redis: every case on a fresh random key prefix of
//! the server named by `OPTIMIST_REDIS_URL`, in the default mode (a delete removes
//! the item) and in tombstone mode (contract R15).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_conformance::factory_fn;

optimist_conformance::suite!(
    default: factory_fn("Redis (fresh key prefix per case)", common::store),
    tombstones: factory_fn(
        "Redis in tombstone mode (fresh key prefix per case)",
        common::tombstone_store
    )
);

//! The whole conformance suite, each case on a fresh table of the server that
//! `OPTIMIST_POSTGRES_URL` names (scripts/test starts one): once on a store in the
//! default mode (a delete removes the row) and once in tombstone mode (a delete leaves
//! a tombstone that keeps the version counting). The durability case reopens each
//! table with a new pool; the server is not restarted (the test cluster runs with
//! `fsync=off`, so a crash of it is not what this checks).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_conformance::{StoreFactory, factory_fn};

fn default_mode() -> impl StoreFactory {
    factory_fn("PostgreSQL (fresh table per case)", common::store)
        .with_reopen(REOPEN, |store| common::reopen(store, false))
}

/// What the durability case's reopen does.
const REOPEN: &str = "the same table, opened by a new store with a new pool after the old \
                      pool was closed; the server is not restarted";

fn tombstone_mode() -> impl StoreFactory {
    factory_fn(
        "PostgreSQL in tombstone mode (fresh table per case)",
        common::tombstone_store,
    )
    .with_reopen(REOPEN, |store| common::reopen(store, true))
}

optimist_conformance::suite!(default: default_mode(), tombstones: tombstone_mode());

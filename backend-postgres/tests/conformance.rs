//! The whole conformance suite, each case on a fresh table of the server that
//! `OPTIMIST_POSTGRES_URL` names (scripts/test starts one): once on a store in the
//! default mode (a delete removes the row) and once in tombstone mode (a delete leaves
//! a tombstone that keeps the version counting).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_conformance::{StoreFactory, factory_fn};

fn default_mode() -> impl StoreFactory {
    factory_fn("PostgreSQL (fresh table per case)", common::store)
}

fn tombstone_mode() -> impl StoreFactory {
    factory_fn(
        "PostgreSQL in tombstone mode (fresh table per case)",
        common::tombstone_store,
    )
}

optimist_conformance::suite!(default: default_mode(), tombstones: tombstone_mode());

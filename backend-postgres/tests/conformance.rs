//! The whole conformance suite, each case on a fresh table of the server that
//! `OPTIMIST_POSTGRES_URL` names (scripts/test starts one).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

optimist_conformance::suite!(optimist_conformance::factory_fn(
    "PostgreSQL (fresh table per case)",
    common::store
));

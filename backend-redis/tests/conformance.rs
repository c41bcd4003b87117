//! The public conformance suite on Redis: every case on a fresh random key prefix of
//! the server named by `OPTIMIST_REDIS_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_conformance::factory_fn;

optimist_conformance::suite!(factory_fn(
    "Redis (fresh key prefix per case)",
    common::store
));

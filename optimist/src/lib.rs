//! # optimist
//!
//! Optimistic concurrency control with exact compare-and-swap semantics, the same on
//! every store: the one crate to depend on. It re-exports the core API
//! ([`VersionedStore`], [`Key`], [`Version`], [`Error`], the [`typed`] layer, ...) and
//! each backend behind a cargo feature, and connects to any enabled backend by URL:
//!
//! | feature | backend | URL |
//! | --- | --- | --- |
//! | `memory` (default) | `optimist::memory` | `memory://` |
//! | `sqlite` (default) | `optimist::sqlite` | `sqlite::memory:`, `sqlite://path.db?mode=rwc` |
//! | `postgres` | `optimist::postgres` | `postgres://user:pw@host/db?table=NAME` |
//! | `redis` | `optimist::redis` | `redis://host:6379?prefix=NAME`, `rediss://…`, `redis+cluster://h1:7000,h2:7000?prefix=NAME` |
//! | `dynamodb` | `optimist::dynamodb` | `dynamodb://TABLE?region=…&endpoint=…` |
//!
//! `derive` is `#[derive(Entity)]`; `tls-rustls` and `tls-native-tls` pass TLS through
//! to sqlx and the redis crate; `full` is every backend. Each backend's options are
//! documented on its config type ([`StoreConfig`] lists them), which services can also
//! keep in their own config files (serde).
//!
//! ```
//! use optimist::{Key, VersionedStore};
//! use serde_json::json;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // In unit tests: memory. In production: OPTIMIST_URL=dynamodb://orders?region=eu-west-1
//! // and optimist::connect_from_env().
//! let store = optimist::connect("memory://").await?;
//! let key = Key::new("order-1");
//! let v1 = store.insert(&key, json!({"deliveries": []})).await?;
//! store.update(&key, v1, json!({"deliveries": ["van"]})).await?;
//! assert!(store.update(&key, v1, json!({"deliveries": ["bike"]})).await.is_err());
//! # Ok::<(), optimist::Error>(())
//! # }).unwrap();
//! ```
//!
//! A URL whose backend is not compiled in is refused with the feature to enable; an
//! unknown scheme, a malformed URL or an option the backend does not know is refused
//! before anything is sent, naming the problem. No password ever shows in an error or
//! in `Debug` output.

#![deny(missing_docs)]

mod config;
mod connect;
mod scheme;

pub use config::StoreConfig;
pub use connect::{URL_VAR, connect, connect_from_env};
pub use optimist_core::*;
pub use scheme::Backend;

/// The in-memory backend ([`optimist_memory`]).
#[cfg(feature = "memory")]
pub use optimist_memory as memory;

/// The SQLite backend ([`optimist_sqlite`]).
#[cfg(feature = "sqlite")]
pub use optimist_sqlite as sqlite;

/// The PostgreSQL backend ([`optimist_postgres`]).
#[cfg(feature = "postgres")]
pub use optimist_postgres as postgres;

/// The Redis backend ([`optimist_redis`]).
#[cfg(feature = "redis")]
pub use optimist_redis as redis;

/// The DynamoDB backend ([`optimist_dynamodb`]).
#[cfg(feature = "dynamodb")]
pub use optimist_dynamodb as dynamodb;

// The examples of the repository's README.md run as doc tests of this crate.
#[cfg(all(doctest, feature = "memory", feature = "sqlite"))]
#[doc = include_str!("../../README.md")]
struct Readme;

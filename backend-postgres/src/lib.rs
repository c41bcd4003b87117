//! # optimist-postgres
//!
//! The PostgreSQL backend of optimist, on sqlx. [`PostgresStore`] implements core's
//! [`Storage`](optimist_core::Storage) on one table, and core's engine makes it a
//! [`VersionedStore`](optimist_core::VersionedStore) that keeps the whole contract:
//! each single-item operation is one SQL statement in one round trip that also returns
//! the current item when its condition fails, and a transaction across keys is one
//! statement too, a call of a function the store creates next to its table. Nothing
//! else is sent on an operation's path: the store keeps its own connections, opened
//! with every statement prepared before `build` returns. Every write stores its write token with the row it leaves, so
//! the engine settles a write whose answer was lost by reading the key (contract R14).
//! In tombstone mode ([`PostgresStoreBuilder::tombstones`]) a delete leaves a tombstone
//! that keeps the version counting (R15), which
//! [`purge_tombstones`](optimist_core::VersionedStore::purge_tombstones) removes once
//! old enough.
//!
//! ```no_run
//! use optimist_core::{Key, TxOp, VersionedStore};
//! use optimist_postgres::PostgresStore;
//! use serde_json::json;
//!
//! # async fn demo() -> optimist_core::Result<()> {
//! let store = PostgresStore::builder()
//!     .url("postgres://app:secret@127.0.0.1:5432/app")
//!     .table("accounts")
//!     .build()
//!     .await?;
//! let alice = Key::new("alice");
//! let bob = Key::new("bob");
//! let a = store.insert(&alice, json!({"balance": 100})).await?;
//! let b = store.insert(&bob, json!({"balance": 0})).await?;
//! store
//!     .transact(vec![
//!         TxOp::update(alice.clone(), a, json!({"balance": 60})),
//!         TxOp::update(bob.clone(), b, json!({"balance": 40})),
//!     ])
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! See the crate's README for the schema, the statements and why they are safe under
//! concurrency, transactions, tombstone mode, what happens to each write when its answer
//! is lost, errors and timeouts, and the limits (no NUL in keys).

#![deny(missing_docs)]

mod builder;
mod catalog;
mod commit_call;
mod commit_function;
mod config;
mod connection;
mod error;
mod item;
mod pool;
mod purge;
mod read_sql;
mod reads;
mod response_timer;
mod row;
mod schema;
mod sql;
mod store;
mod table;
mod transaction;
mod write;

pub use builder::{
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_RESPONSE_TIMEOUT, DEFAULT_TABLE,
    PostgresStoreBuilder,
};
pub use config::PostgresConfig;
pub use store::PostgresStore;

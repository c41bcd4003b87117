//! # optimist-postgres
//!
//! The PostgreSQL backend of optimist, on sqlx: every rule of the
//! [`VersionedStore`](optimist_core::VersionedStore) contract on one table, with each
//! single-item operation one SQL statement in one round trip that also returns the
//! current item when its condition fails, and transactions across keys as one database
//! transaction.
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
//! concurrency, transactions, retries, and the limits (no NUL in keys).

#![deny(missing_docs)]

mod builder;
mod codec;
mod error;
mod retry;
mod sql;
mod store;
mod table;
mod transact;

pub use builder::{
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_RETRY_BUDGET, DEFAULT_TABLE,
    PostgresStoreBuilder,
};
pub use store::PostgresStore;

//! # optimist-sqlite
//!
//! The SQLite backend of optimist, on sqlx: every rule of the
//! [`VersionedStore`](optimist_core::VersionedStore) contract on an in-memory database
//! or on a file in WAL mode that any number of stores and processes share.
//!
//! ```
//! use optimist_core::{Key, TxOp, VersionedStore};
//! use optimist_sqlite::SqliteStore;
//! use serde_json::json;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = SqliteStore::builder().memory().table("accounts").build().await?;
//! let alice = Key::new("alice");
//! let bob = Key::new("bob");
//! let a = store.insert(&alice, json!({"balance": 100})).await?;
//! let b = store.insert(&bob, json!({"balance": 0})).await?;
//! let versions = store
//!     .transact(vec![
//!         TxOp::update(alice.clone(), a, json!({"balance": 60})),
//!         TxOp::update(bob.clone(), b, json!({"balance": 40})),
//!     ])
//!     .await?;
//! assert_eq!(versions, vec![Some(a.next().unwrap()), Some(b.next().unwrap())]);
//! assert_eq!(store.get(&bob).await?.map(|i| i.value), Some(json!({"balance": 40})));
//! # Ok::<(), optimist_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! The store implements core's [`Storage`](optimist_core::Storage): it reads items
//! and applies conditional writes; core's engine validates input, derives versions,
//! judges conflicts and retries busy answers for it.
//!
//! See the crate's README for the schema, what each operation runs and how a busy
//! database is handled.

#![deny(missing_docs)]

mod builder;
mod config;
mod db;
mod detach;
mod error;
mod item;
mod purge;
mod read_sql;
mod reads;
mod schema;
mod sql;
mod statement;
mod store;
mod table;
mod transaction;

pub use builder::{
    DEFAULT_BUSY_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_TABLE, SqliteStoreBuilder,
};
pub use config::{OpenMode, SqliteConfig};
pub use store::SqliteStore;

//! # optimist-memory
//!
//! The in-memory reference backend of optimist: every rule of the
//! [`VersionedStore`] contract, atomic transactions across keys, no I/O. Cheap to
//! build, so a test suite can make one per test and swap it in for DynamoDB, SQLite,
//! Redis or PostgreSQL.
//!
//! [`VersionedStore`]: optimist_core::VersionedStore
//!
//! A test can make another writer's write land between its read and its write with
//! [`MemoryStore::before_next_write`], to prove its conflict handling.
//!
//! ```
//! use optimist_core::{Key, TxOp, VersionedStore};
//! use optimist_memory::MemoryStore;
//! use serde_json::json;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = MemoryStore::new();
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
//! assert_eq!(store.get(&bob).await?.map(|i| i.value), Some(json!({"balance": 40})));
//! # Ok::<(), optimist_core::Error>(())
//! # }).unwrap();
//! ```

#![deny(missing_docs)]

mod config;
mod inject;
mod range;
mod store;

pub use config::MemoryConfig;
pub use store::MemoryStore;

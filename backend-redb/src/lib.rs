//! # optimist-redb
//!
//! An embedded, durable backend of optimist on [redb](https://docs.rs/redb): items in
//! one file, every write one redb transaction committed with an fsync before it answers,
//! the whole [`VersionedStore`](optimist_core::VersionedStore) contract (transactions,
//! tombstone mode, `get_many`, `query`, `scan`), no server.
//!
//! redb is synchronous: its calls block on the file and on each other (one write
//! transaction at a time). The store runs every call on tokio's blocking pool
//! (`spawn_blocking`), so it never stalls the runtime; it must be called inside a tokio
//! runtime. A caller that drops a call's future does not stop a write already handed to
//! the pool: it commits whole, after the caller has gone, which is what the contract
//! allows a dropped call (contract R12). Failures map to optimist's in one place
//! (`error.rs`): a failed commit or fsync may have reached the file and is
//! `Indeterminate`; a failure before the commit applied nothing.
//!
//! ```
//! use optimist_core::{Key, TxOp, VersionedStore};
//! use optimist_redb::RedbStore;
//! use serde_json::json;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! # let dir = std::env::temp_dir().join(format!("optimist-redb-lib-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let store = RedbStore::builder().path(dir.join("accounts.redb")).build().await?;
//! let (alice, bob) = (Key::new("alice"), Key::new("bob"));
//! let a = store.insert(&alice, json!({"balance": 100})).await?;
//! let b = store.insert(&bob, json!({"balance": 0})).await?;
//! store
//!     .transact(vec![
//!         TxOp::update(alice.clone(), a, json!({"balance": 60})),
//!         TxOp::update(bob.clone(), b, json!({"balance": 40})),
//!     ])
//!     .await?;
//! assert_eq!(store.get(&bob).await?.map(|i| i.value), Some(json!({"balance": 40})));
//! # drop(store);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), optimist_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! See the crate's README for the file layout, what each call does, and the errors.

#![deny(missing_docs)]

mod blocking;
mod builder;
mod error;
mod item;
mod ops;
mod range;
mod store;

pub use builder::{DEFAULT_TABLE, RedbStoreBuilder};
pub use store::RedbStore;

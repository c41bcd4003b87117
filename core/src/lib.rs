//! # optimist-core
//!
//! Optimistic concurrency control with exact compare-and-swap semantics, the same on
//! every store. Two clients read an item, both change it, and without a check the
//! second write silently wipes out the first: the lost update. Here every item carries
//! a [`Version`]; every checked write says which version it read, and the store refuses
//! it with a [`Conflict`] that carries the current item if the item changed since.
//!
//! This crate holds the contract ([`VersionedStore`], whose rules are numbered in
//! docs/CONTRACT.md), its types and errors, and the input checks every backend shares
//! ([`validate`]). Backends live in their own crates: `optimist-memory`,
//! `optimist-sqlite`, and more; `optimist-conformance` proves a backend keeps the
//! contract.
//!
//! ```
//! use optimist_core::{Error, Key, VersionedStore};
//! use optimist_memory::MemoryStore;
//! use serde_json::json;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = MemoryStore::new();
//! let key = Key::new("order-1");
//! let v1 = store.insert(&key, json!({"deliveries": []})).await?;
//!
//! // Two clients read version 1; the first to save wins.
//! store.update(&key, v1, json!({"deliveries": ["by client 2"]})).await?;
//! let refused = store.update(&key, v1, json!({"deliveries": ["by client 1"]})).await;
//! let current = refused.unwrap_err().conflict_ref().and_then(|c| c.current()).cloned();
//! assert_eq!(current.map(|c| c.value["deliveries"][0].clone()), Some(json!("by client 2")));
//! # Ok::<(), Error>(())
//! # }).unwrap();
//! ```

#![deny(missing_docs)]

mod capabilities;
mod engine;
mod error;
mod ext;
mod key;
pub mod lease;
mod reads;
pub mod redact;
pub mod retry;
mod storage;
mod store;
mod store_future;
mod transaction;
pub mod typed;
pub mod url_options;
pub mod validate;
mod version;
mod versioned;

pub use async_trait::async_trait;
pub use capabilities::{Capabilities, KeyShape, NumberSupport};
pub use error::{BoxError, Conflict, ConflictKind, Error, OpFailure, Operation, Result};
pub use ext::{VersionedStoreExt, is_conflict_kind};
pub use key::{Key, MAX_KEY_PART_BYTES};
pub use reads::{
    Cursor, DEFAULT_PAGE_SIZE, Direction, Page, QueryOptions, RangePage, RangeRequest, RangeScope,
    ScanOptions, SortRange, prefix_upper_bound,
};
pub use serde_json::Value;
pub use storage::{
    Applied, Change, CommitOutcome, Decision, ErrorKind, Expect, Held, Outcome, OwnedPut,
    OwnedWrite, ParseTokenError, PutAnswer, Record, Storage, StorageError, Write, WriteToken,
};
pub use store::VersionedStore;
pub use store_future::StoreFuture;
pub use transaction::{TxAction, TxOp};
pub use version::Version;
pub use versioned::Versioned;

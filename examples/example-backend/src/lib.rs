//! # optimist-example-backend
//!
//! The example of `docs/writing-a-backend.md`: a complete, small
//! [`VersionedStore`](optimist_core::VersionedStore) over a toy storage engine that
//! keeps rows of JSON text under plain string keys, like many key-value servers do.
//! It shows what every backend does:
//!
//! - declare its limits in [`Capabilities`](optimist_core::Capabilities) (here: keys
//!   have a partition part only);
//! - implement [`Storage`](optimist_core::Storage), the storage primitives (a read and
//!   a conditional write, `store.rs`; transactions, `transaction.rs`): core's engine
//!   turns it into a `VersionedStore`, with input checks, versions, conflicts, retries
//!   and tracing written once for every backend;
//! - read several keys at once and the whole store in pages (`reads.rs`: `read_many`,
//!   `read_range` and `identity`, for `get_many` and `scan`);
//! - map its stored form to items in one place (`item.rs`) and the engine's errors in
//!   another (`error.rs`);
//! - do each check-and-write atomically, and return the current item with a refusal;
//! - run the conformance suite from `tests/conformance.rs`.
//!
//! ```
//! use optimist_core::{Key, VersionedStore};
//! use optimist_example_backend::ExampleStore;
//! use serde_json::json;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = ExampleStore::new();
//! let key = Key::new("greeting");
//! let v1 = store.insert(&key, json!({"text": "hello"})).await?;
//! let v2 = store.update(&key, v1, json!({"text": "hello, world"})).await?;
//! assert_eq!(store.get(&key).await?.map(|item| item.version), Some(v2));
//! # Ok::<(), optimist_core::Error>(())
//! # }).unwrap();
//! ```

#![deny(missing_docs)]

mod engine;
mod error;
mod item;
mod reads;
mod store;
mod transaction;

pub use store::ExampleStore;

//! The typed layer (contract R20–R24): plain serde structs saved, loaded and deleted with
//! their version, as .NET's `DynamoDBContext` does, on any [`VersionedStore`].
//!
//! - [`Entity`]: derive it to mark the key fields and the `Option<u64>` version field.
//! - [`Context`]: `save`, `load`, `delete` (checked), `delete_key` (unchecked),
//!   [`VersionCheck::Skip`] on the context or per operation, and
//!   [`update_with`](Context::update_with): read, change, save, retried on conflict.
//! - [`Transaction`]: saves, deletes and checks of entities of different types, all or
//!   nothing.
//! - [`load_many`](Context::load_many), [`query`](Context::query) (an [`EntityPage`] at
//!   a time) and [`query_stream`](Context::query_stream) (a `Stream` of entities that
//!   fetches pages as it goes): reads beyond one key (contract R16, R17).
//!
//! ```
//! use optimist_core::typed::{Context, Entity, Error};
//! use optimist_memory::MemoryStore;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Entity, Serialize, Deserialize, Clone, Debug, PartialEq)]
//! struct Book {
//!     #[entity(partition_key)]
//!     id: u64,
//!     title: String,
//!     #[entity(version)]
//!     version: Option<u64>,
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let ctx = Context::new(MemoryStore::new());
//! let mut book = Book { id: 111, title: "Dune".into(), version: None };
//! ctx.save(&mut book).await?; // never saved: insert
//! assert_eq!(book.version, Some(1));
//!
//! let mut stale = book.clone();
//! book.title = "Dune Messiah".into();
//! ctx.save(&mut book).await?; // update expecting version 1
//! assert_eq!(book.version, Some(2));
//!
//! stale.title = "Lost update".into();
//! let err = ctx.save(&mut stale).await.unwrap_err();
//! assert!(err.is_conflict());
//! assert_eq!(stale.version, Some(1)); // unchanged by the failed save
//! assert_eq!(err.current::<Book>()?, Some(book.clone())); // the current item, decoded
//!
//! assert_eq!(ctx.load::<Book>(111).await?, Some(book));
//! # Ok::<(), Error>(())
//! # }).unwrap();
//! ```
//!
//! [`VersionedStore`]: crate::VersionedStore

mod context;
mod entity;
mod error;
mod key_part;
mod reads;
mod transaction;
mod update;

pub use context::{Context, VersionCheck};
pub use entity::{Entity, EntityFields};
pub use error::{Direction, Error, Result};
pub use key_part::{AsKeyPart, IntoKey, KeyPart};
#[cfg(feature = "derive")]
pub use optimist_derive::Entity;
pub use reads::EntityPage;
pub use transaction::Transaction;

/// Helpers for the code `#[derive(Entity)]` writes; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use serde::Serialize;
    pub use serde::de::DeserializeOwned;

    /// A key field's JSON value, with serde's error as a message.
    pub fn field_value<T: Serialize>(value: &T) -> Result<crate::Value, String> {
        serde_json::to_value(value).map_err(|_| "a key field does not serialize".to_owned())
    }

    /// Fails to compile, at the field, if a key field's type is not a `KeyPart`.
    pub fn assert_key_part<T: super::KeyPart>() {}
}

// The examples in core/README-typed.md run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README-typed.md")]
struct ReadmeTyped;

//! # optimist-dynamodb
//!
//! The DynamoDB backend of optimist: a [`VersionedStore`](optimist_core::VersionedStore)
//! on one table, built from your own `aws_sdk_dynamodb::Client` and a
//! [`TableDescription`] (table name, partition-key attribute, optional sort-key
//! attribute, version attribute). Items are native: a JSON object's fields are the
//! item's attributes (`S`, `N`, `BOOL`, `NULL`, `L`, `M`), so the console, boto3 and
//! any other client read and write the same items. Other tools that follow the usual
//! pattern (`ConditionExpression` on the version attribute, `SET version = version + 1`)
//! interoperate: each side sees the other's versions and no update is lost.
//!
//! ```no_run
//! use optimist_core::{Conflict, Error, Key, VersionedStore};
//! use optimist_dynamodb::{DynamoDbStore, TableDescription};
//! use serde_json::json;
//!
//! # async fn example(client: aws_sdk_dynamodb::Client) -> optimist_core::Result<()> {
//! // An existing table keyed on `Id` with a `VersionNumber` attribute.
//! let table = TableDescription::new("ProductCatalog", "Id").with_version_attribute("VersionNumber");
//! let store = DynamoDbStore::builder(client, table).connect().await?;
//! let key = Key::new("101");
//! let v1 = store.insert(&key, json!({"Title": "Book 101", "Price": 2})).await?;
//! store.update(&key, v1, json!({"Title": "Book 101", "Price": 3})).await?;
//! match store.update(&key, v1, json!({"Title": "stale"})).await {
//!     Err(Error::Conflict { conflict: Conflict::VersionMismatch { current, .. }, .. }) => {
//!         assert_eq!(current.value["Price"], 3); // the item, without another read
//!     }
//!     other => panic!("{other:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! The store implements core's [`Storage`](optimist_core::Storage): reads, conditional
//! writes and transactions on the table, each item and tombstone carrying the token of
//! the write that left it. Core's engine makes it a `VersionedStore`: it checks the
//! input, derives versions, judges conflicts, resends failures that applied nothing,
//! and settles a write whose answer was lost by reading its key for that token (else
//! `Indeterminate`). In tombstone mode
//! ([`tombstones`](DynamoDbStoreBuilder::tombstones)) a delete leaves a tombstone that
//! keeps the version counting; DynamoDB's time to live or
//! [`purge_tombstones`](optimist_core::VersionedStore::purge_tombstones) removes old
//! ones.
//!
//! Reads of many items: `get_many` is one consistent `BatchGetItem` per 100 keys,
//! `query` one consistent `Query` per page on a table with a sort key (by the UTF-8
//! bytes of the sort key), `scan` one consistent `Scan` per page.
//!
//! See the crate's README.md for requests per operation, write tokens, tombstone mode,
//! errors and lost answers, limits and the differences between DynamoDB and moto.

#![deny(missing_docs)]

mod batch;
mod builder;
mod condition;
mod config;
mod error;
mod identity;
mod item;
mod key_condition;
mod last_seen;
mod purge;
mod put;
mod range;
mod remove;
mod requests;
mod setup;
mod single;
mod size;
mod store;
mod table;
mod transaction;

pub use builder::{ConflictItems, DynamoDbStoreBuilder};
pub use config::{ConflictItemsSetting, DynamoDbConfig};
pub use error::DynamoDbError;
pub use setup::{create_table, delete_table};
pub use size::{DYNAMODB_MAX_ITEM_BYTES, DYNAMODB_MAX_NESTING};
pub use store::DynamoDbStore;
pub use table::TableDescription;

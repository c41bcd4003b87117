//! Reads beyond one key (contract R16–R18): [`get_many`](crate::VersionedStore::get_many),
//! [`query`](crate::VersionedStore::query) over one partition in sort order, and
//! [`scan`](crate::VersionedStore::scan) over a whole store, both in pages joined by an
//! opaque [`Cursor`].
//!
//! ```
//! use optimist_core::{Key, QueryOptions, SortRange, VersionedStore};
//! use serde_json::json;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = optimist_memory::MemoryStore::new();
//! for order in ["2026-01-05", "2026-02-11", "2026-03-30"] {
//!     store.insert(&Key::with_sort("customer-9", order), json!({"total": 10})).await?;
//! }
//! let page = store
//!     .query("customer-9", SortRange::prefix("2026-0"), QueryOptions::new().limit(2))
//!     .await?;
//! let sorts: Vec<_> = page.items.iter().map(|(key, _)| key.sort().unwrap_or_default()).collect();
//! assert_eq!(sorts, ["2026-01-05", "2026-02-11"]);
//!
//! let rest = store
//!     .query("customer-9", SortRange::prefix("2026-0"), QueryOptions::new().limit(2).cursor(page.next))
//!     .await?;
//! assert_eq!(rest.items.len(), 1);
//! assert!(rest.next.is_none());
//! # Ok::<(), optimist_core::Error>(())
//! # }).unwrap();
//! ```

mod cursor;
mod options;
mod page;
mod range;
mod request;

pub use cursor::Cursor;
pub(crate) use cursor::{CursorKind, Position, fnv1a};
pub use options::{DEFAULT_PAGE_SIZE, Direction, QueryOptions, ScanOptions};
pub use page::Page;
pub use range::{SortRange, prefix_upper_bound};
pub use request::{RangePage, RangeRequest, RangeScope};

#[cfg(test)]
mod tests;

//! One page of a query or a scan.

use serde_json::Value;

use super::Cursor;
use crate::{Key, Versioned};

/// One page of a [`query`](crate::VersionedStore::query) or a
/// [`scan`](crate::VersionedStore::scan): items with their keys and versions, and the
/// cursor of the next page.
///
/// A page may hold fewer items than the limit, even none, while more follow: keep asking
/// until [`next`](Self::next) is `None`.
///
/// ```
/// use optimist_core::{Key, ScanOptions, VersionedStore};
/// use serde_json::json;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = optimist_memory::MemoryStore::new();
/// for n in 0..5 {
///     store.insert(&Key::new(format!("item-{n}")), json!(n)).await?;
/// }
/// let mut seen = 0;
/// let mut cursor = None;
/// loop {
///     let page = store.scan(ScanOptions::new().limit(2).cursor(cursor)).await?;
///     seen += page.items.len();
///     match page.next {
///         Some(next) => cursor = Some(next),
///         None => break,
///     }
/// }
/// assert_eq!(seen, 5);
/// # Ok::<(), optimist_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Page {
    /// The items, each with its key and the version it was read at.
    pub items: Vec<(Key, Versioned<Value>)>,
    /// Where the next page starts; `None` when this page is the last.
    pub next: Option<Cursor>,
}

impl Page {
    /// A page of these items followed by `next`.
    ///
    /// ```
    /// let page = optimist_core::Page::new(Vec::new(), None);
    /// assert!(page.items.is_empty() && page.next.is_none());
    /// ```
    pub fn new(items: Vec<(Key, Versioned<Value>)>, next: Option<Cursor>) -> Self {
        Self { items, next }
    }
}

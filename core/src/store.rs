//! The `VersionedStore` trait: the contract every backend implements.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::{
    Capabilities, Key, Operation, Page, QueryOptions, Result, ScanOptions, SortRange, StoreFuture,
    TxOp, Version, Versioned,
};

/// A store of versioned items with exact compare-and-swap semantics (contract R4–R15).
///
/// Every method checks its input against [`capabilities`](Self::capabilities) first and
/// answers [`Error::InvalidInput`](crate::Error::InvalidInput) without sending anything.
/// Any error but [`Error::Indeterminate`](crate::Error::Indeterminate) means nothing
/// was written (contract R12), and every history of concurrent calls is linearizable
/// (contract R13).
///
/// Conveniences live in [`VersionedStoreExt`](crate::VersionedStoreExt); a backend
/// implements only these methods, and proves it with the `optimist-conformance` suite.
///
/// The single-item calls (`get`, `insert`, `update`, `delete`, `put`, `remove`) return a
/// [`StoreFuture`], which a store that answers at once (the memory store) fills without
/// allocating; an implementor returns `StoreFuture::new(async move { .. })`. The other
/// methods are `async`, written with [`async_trait`](crate::async_trait) as the
/// trait is. (A storage backend implements [`Storage`](crate::Storage) instead, and gets
/// this trait from the engine.)
///
/// ```
/// use optimist_core::{Conflict, Error, Key, Version, VersionedStore};
/// use optimist_memory::MemoryStore;
/// use serde_json::json;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let key = Key::new("book#1");
/// let v1 = store.insert(&key, json!({"title": "Dune"})).await?;
/// let v2 = store.update(&key, v1, json!({"title": "Dune Messiah"})).await?;
///
/// // A writer still holding v1 is refused, and told what is there now.
/// let err = store.update(&key, v1, json!({"title": "Lost"})).await.unwrap_err();
/// match err {
///     Error::Conflict { conflict: Conflict::VersionMismatch { expected, current }, .. } => {
///         assert_eq!(expected, v1);
///         assert_eq!(current.version, v2);
///         assert_eq!(current.value["title"], "Dune Messiah");
///     }
///     other => panic!("unexpected {other}"),
/// }
/// # Ok::<(), Error>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait VersionedStore: Send + Sync {
    /// The backend's limits and features.
    fn capabilities(&self) -> &Capabilities;

    /// Reads an item, strongly consistent: it sees every write that completed before the
    /// call started (contract R4).
    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>>;

    /// Creates an item at version 1, only if the key holds none; otherwise
    /// `Conflict::AlreadyExists` with the item that is there (contract R5).
    fn insert<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version>;

    /// Replaces the value, only if the item is at `expected`, and returns the new version
    /// `expected + 1`. Absent: `Conflict::NotFound`; other version:
    /// `Conflict::VersionMismatch` with the current item (contract R6).
    fn update<'a>(
        &'a self,
        key: &'a Key,
        expected: Version,
        value: Value,
    ) -> StoreFuture<'a, Version>;

    /// Deletes the item, only if it is at `expected`; conflicts as in
    /// [`update`](Self::update) (contract R7).
    fn delete<'a>(&'a self, key: &'a Key, expected: Version) -> StoreFuture<'a, ()>;

    /// Writes unconditionally: creates at version 1 or overwrites at previous + 1. Never
    /// a conflict (contract R8).
    fn put<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version>;

    /// Deletes unconditionally and returns the removed item's version, `None` if there
    /// was none. Never a conflict (contract R9).
    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Version>>;

    /// Applies all ops or none (contract R10). On success, returns for each op the version
    /// its item has afterwards: the new version for Insert, Update and Put, the checked
    /// version for Check, `None` for Delete and Remove. If any condition fails, nothing
    /// is applied and the error is `TransactionConflict` with one entry per failing op.
    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>>;

    /// Reads several items at once (contract R16): for each key, in the order asked, its
    /// item with its version or `None`, each reflecting every write completed before the
    /// call started. An empty list, a key asked twice, a bad key, or more keys than
    /// [`Capabilities::max_get_many`] is `InvalidInput`, and nothing is sent. The
    /// default answers `Unsupported`.
    ///
    /// ```
    /// use optimist_core::{Key, VersionedStore};
    /// use serde_json::json;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_memory::MemoryStore::new();
    /// store.insert(&Key::new("a"), json!(1)).await?;
    /// let items = store.get_many(&[Key::new("b"), Key::new("a")]).await?;
    /// assert!(items[0].is_none());
    /// assert_eq!(items[1].as_ref().map(|item| item.value.clone()), Some(json!(1)));
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Value>>>> {
        let _ = keys;
        Err(crate::Error::Unsupported {
            operation: Operation::GetMany,
        })
    }

    /// One page of the items of `partition` whose sort part lies in `range`, ordered by
    /// the UTF-8 bytes of the sort part (contract R17). Items without a sort part are
    /// not part of any partition's query. Over the pages of one query while others
    /// write, an item present and unchanged throughout comes exactly once, an item
    /// absent throughout never, and every item comes as a state it held during the
    /// query, with its version. A store whose keys have no sort part answers
    /// `Unsupported`, as does the default; bad input (an empty or oversized partition or
    /// bound, inverted bounds, a page limit of 0 or above
    /// [`Capabilities::max_page_size`], a malformed or foreign cursor) is
    /// `InvalidInput`, and nothing is sent.
    ///
    /// ```
    /// use optimist_core::{Key, QueryOptions, SortRange, VersionedStore};
    /// use serde_json::json;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_memory::MemoryStore::new();
    /// for day in ["01", "02", "03"] {
    ///     store.insert(&Key::with_sort("log", day), json!(day)).await?;
    /// }
    /// let newest = store.query("log", SortRange::All, QueryOptions::new().descending().limit(1)).await?;
    /// assert_eq!(newest.items[0].0, Key::with_sort("log", "03"));
    /// assert!(newest.next.is_some());
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    async fn query(
        &self,
        partition: &str,
        range: SortRange,
        options: QueryOptions,
    ) -> Result<Page> {
        let _ = (partition, range, options);
        Err(crate::Error::Unsupported {
            operation: Operation::Query,
        })
    }

    /// One page of every item of the store, in an order of the backend's choosing, with
    /// the guarantees of [`query`](Self::query) across pages (contract R18). For tooling
    /// and migrations. The default answers `Unsupported`.
    ///
    /// ```
    /// use optimist_core::{Key, ScanOptions, VersionedStore};
    /// use serde_json::json;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_memory::MemoryStore::new();
    /// store.insert(&Key::new("a"), json!(1)).await?;
    /// let page = store.scan(ScanOptions::new()).await?;
    /// assert_eq!(page.items.len(), 1);
    /// assert!(page.next.is_none());
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    async fn scan(&self, options: ScanOptions) -> Result<Page> {
        let _ = options;
        Err(crate::Error::Unsupported {
            operation: Operation::Scan,
        })
    }

    /// Removes the tombstones that deletes left more than `older_than` ago, on a store
    /// in tombstone mode ([`Capabilities::tombstones`]), and returns how many it
    /// removed (contract R15). A key purged this way loses the protection its
    /// tombstone gave: choose `older_than` well above the longest time a request can
    /// spend in flight. A store without tombstones answers a `Backend` error of kind
    /// `Rejected`, which is also the default for stores that do not forward it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use optimist_core::VersionedStore;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_memory::MemoryStore::new();
    /// assert!(store.purge_tombstones(Duration::from_secs(3600)).await.is_err());
    /// # });
    /// ```
    async fn purge_tombstones(&self, older_than: std::time::Duration) -> Result<u64> {
        let _ = older_than;
        Err(crate::Error::backend(
            "store",
            crate::Operation::PurgeTombstones,
            None,
            crate::ErrorKind::Rejected,
            "this store keeps no tombstones",
        ))
    }
}

macro_rules! forward_store {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<S: VersionedStore + ?Sized> VersionedStore for $ty {
            fn capabilities(&self) -> &Capabilities {
                (**self).capabilities()
            }
            fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>> {
                (**self).get(key)
            }
            fn insert<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
                (**self).insert(key, value)
            }
            fn update<'a>(
                &'a self,
                key: &'a Key,
                expected: Version,
                value: Value,
            ) -> StoreFuture<'a, Version> {
                (**self).update(key, expected, value)
            }
            fn delete<'a>(&'a self, key: &'a Key, expected: Version) -> StoreFuture<'a, ()> {
                (**self).delete(key, expected)
            }
            fn put<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
                (**self).put(key, value)
            }
            fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Version>> {
                (**self).remove(key)
            }
            async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
                (**self).transact(ops).await
            }
            async fn purge_tombstones(&self, older_than: std::time::Duration) -> Result<u64> {
                (**self).purge_tombstones(older_than).await
            }
            async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Value>>>> {
                (**self).get_many(keys).await
            }
            async fn query(
                &self,
                partition: &str,
                range: SortRange,
                options: QueryOptions,
            ) -> Result<Page> {
                (**self).query(partition, range, options).await
            }
            async fn scan(&self, options: ScanOptions) -> Result<Page> {
                (**self).scan(options).await
            }
        }
    )*};
}

forward_store!(Arc<S>);

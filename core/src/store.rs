//! The `VersionedStore` trait: the contract every backend implements.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::{Capabilities, Key, Result, TxOp, Version, Versioned};

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
    async fn get(&self, key: &Key) -> Result<Option<Versioned<Value>>>;

    /// Creates an item at version 1, only if the key holds none; otherwise
    /// `Conflict::AlreadyExists` with the item that is there (contract R5).
    async fn insert(&self, key: &Key, value: Value) -> Result<Version>;

    /// Replaces the value, only if the item is at `expected`, and returns the new version
    /// `expected + 1`. Absent: `Conflict::NotFound`; other version:
    /// `Conflict::VersionMismatch` with the current item (contract R6).
    async fn update(&self, key: &Key, expected: Version, value: Value) -> Result<Version>;

    /// Deletes the item, only if it is at `expected`; conflicts as in
    /// [`update`](Self::update) (contract R7).
    async fn delete(&self, key: &Key, expected: Version) -> Result<()>;

    /// Writes unconditionally: creates at version 1 or overwrites at previous + 1. Never
    /// a conflict (contract R8).
    async fn put(&self, key: &Key, value: Value) -> Result<Version>;

    /// Deletes unconditionally and returns the removed item's version, `None` if there
    /// was none. Never a conflict (contract R9).
    async fn remove(&self, key: &Key) -> Result<Option<Version>>;

    /// Applies all ops or none (contract R10). On success, returns for each op the version
    /// its item has afterwards: the new version for Insert, Update and Put, the checked
    /// version for Check, `None` for Delete and Remove. If any condition fails, nothing
    /// is applied and the error is `TransactionConflict` with one entry per failing op.
    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>>;

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
            async fn get(&self, key: &Key) -> Result<Option<Versioned<Value>>> {
                (**self).get(key).await
            }
            async fn insert(&self, key: &Key, value: Value) -> Result<Version> {
                (**self).insert(key, value).await
            }
            async fn update(&self, key: &Key, expected: Version, value: Value) -> Result<Version> {
                (**self).update(key, expected, value).await
            }
            async fn delete(&self, key: &Key, expected: Version) -> Result<()> {
                (**self).delete(key, expected).await
            }
            async fn put(&self, key: &Key, value: Value) -> Result<Version> {
                (**self).put(key, value).await
            }
            async fn remove(&self, key: &Key) -> Result<Option<Version>> {
                (**self).remove(key).await
            }
            async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
                (**self).transact(ops).await
            }
            async fn purge_tombstones(&self, older_than: std::time::Duration) -> Result<u64> {
                (**self).purge_tombstones(older_than).await
            }
        }
    )*};
}

forward_store!(Arc<S>);

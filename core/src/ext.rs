//! Conveniences on top of [`VersionedStore`], available on every store.

use async_trait::async_trait;
use serde_json::Value;

use crate::{Conflict, Error, Key, Operation, Result, TxOp, Version, VersionedStore};

/// Conveniences built from the required methods of [`VersionedStore`]; implemented for
/// every store, including `dyn VersionedStore`.
///
/// ```
/// use optimist_core::{Key, VersionedStore, VersionedStoreExt};
/// use optimist_memory::MemoryStore;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let key = Key::new("k");
/// assert_eq!(store.version_of(&key).await?, None);
/// store.insert(&key, serde_json::json!(1)).await?;
/// assert!(store.exists(&key).await?);
/// # Ok::<(), optimist_core::Error>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait VersionedStoreExt: VersionedStore {
    /// Whether the key holds an item.
    async fn exists(&self, key: &Key) -> Result<bool> {
        Ok(self.get(key).await?.is_some())
    }

    /// The item's current version, `None` if absent.
    async fn version_of(&self, key: &Key) -> Result<Option<Version>> {
        Ok(self.get(key).await?.map(|item| item.version))
    }

    /// Writes `value` only if the item is at `expected`, where `None` means "only if
    /// absent": insert or update in one call, as a typed save does.
    ///
    /// ```
    /// use optimist_core::{Key, VersionedStoreExt};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_memory::MemoryStore::new();
    /// let key = Key::new("k");
    /// let v1 = store.write_if(&key, None, serde_json::json!(1)).await?;
    /// let v2 = store.write_if(&key, Some(v1), serde_json::json!(2)).await?;
    /// assert_eq!(v2.get(), 2);
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    async fn write_if(
        &self,
        key: &Key,
        expected: Option<Version>,
        value: Value,
    ) -> Result<Version> {
        match expected {
            None => self.insert(key, value).await,
            Some(expected) => self.update(key, expected, value).await,
        }
    }

    /// Requires the item to be at `expected` without writing, as a one-op transaction.
    ///
    /// ```
    /// use optimist_core::{Key, Version, VersionedStore, VersionedStoreExt};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_memory::MemoryStore::new();
    /// let key = Key::new("k");
    /// let v1 = store.insert(&key, serde_json::json!(1)).await?;
    /// store.check(&key, v1).await?;
    /// assert!(store.check(&key, Version::new(9)).await.is_err());
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    async fn check(&self, key: &Key, expected: Version) -> Result<()> {
        match self
            .transact(vec![TxOp::check(key.clone(), expected)])
            .await
        {
            Ok(_) => Ok(()),
            Err(Error::TransactionConflict { mut failures }) if failures.len() == 1 => {
                let failure = failures.remove(0);
                Err(Error::conflict(
                    Operation::Check,
                    failure.key,
                    failure.conflict,
                ))
            }
            Err(other) => Err(other),
        }
    }
}

impl<S: VersionedStore + ?Sized> VersionedStoreExt for S {}

/// Whether an error is the given conflict kind; handy in tests and retry loops.
///
/// ```
/// use optimist_core::{is_conflict_kind, Conflict, ConflictKind, Error, Key, Operation};
/// let err = Error::conflict(Operation::Update, Key::new("k"), Conflict::NotFound);
/// assert!(is_conflict_kind(&err, ConflictKind::NotFound));
/// ```
pub fn is_conflict_kind(err: &Error, kind: crate::ConflictKind) -> bool {
    err.conflict_ref().map(Conflict::kind) == Some(kind)
}

//! The context: typed save, load and delete on top of a store (contract R21–R23).

use crate::{Error as StoreError, Operation, Version, VersionedStore};

use super::{Entity, IntoKey, Result, Transaction};

/// Whether a typed operation checks the entity's version (contract R23).
///
/// With [`Skip`](VersionCheck::Skip), `save` becomes the store's `put` and `delete` its
/// `remove`, as .NET's `SkipVersionCheck`; the version still advances and is still
/// written back into the entity.
///
/// ```
/// use optimist_core::typed::VersionCheck;
/// assert_eq!(VersionCheck::default(), VersionCheck::Enforce);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum VersionCheck {
    /// Save inserts an entity whose version is `None` and updates one at `Some(v)`
    /// expecting `v`; delete expects the entity's version.
    #[default]
    Enforce,
    /// Save puts and delete removes, whatever is stored.
    Skip,
}

/// Typed operations on entities over any [`VersionedStore`], including
/// `Arc<dyn VersionedStore>`: .NET's `DynamoDBContext`.
///
/// The entity is changed only after the store accepted the write: after any error, a
/// cancelled call included, it is exactly as before (contract R21).
///
/// ```
/// use std::sync::Arc;
/// use optimist_core::VersionedStore;
/// use optimist_core::typed::{Context, Entity, VersionCheck};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Entity, Serialize, Deserialize)]
/// struct Book {
///     #[entity(partition_key)]
///     id: u64,
///     title: String,
///     #[entity(version)]
///     version: Option<u64>,
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store: Arc<dyn VersionedStore> = Arc::new(optimist_memory::MemoryStore::new());
/// let ctx = Context::new(store.clone());
/// let mut book = Book { id: 1, title: "Dune".into(), version: None };
/// ctx.save(&mut book).await?;
///
/// // A context that skips the check on every operation: last writer wins.
/// let blind = Context::new(store).with_version_check(VersionCheck::Skip);
/// let mut other = Book { id: 1, title: "Overwritten".into(), version: None };
/// blind.save(&mut other).await?;
/// assert_eq!(other.version, Some(2)); // the version still advances
///
/// // `book` is stale now: its checked delete fails, `delete_key` does not check.
/// assert!(ctx.delete(&book).await.unwrap_err().is_conflict());
/// assert_eq!(ctx.delete_key(1).await?, Some(2));
/// # Ok::<(), optimist_core::typed::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug, Default)]
pub struct Context<S> {
    store: S,
    check: VersionCheck,
}

impl<S: VersionedStore> Context<S> {
    /// A context over `store` that checks versions.
    ///
    /// ```
    /// let ctx = optimist_core::typed::Context::new(optimist_memory::MemoryStore::new());
    /// assert_eq!(ctx.version_check(), optimist_core::typed::VersionCheck::Enforce);
    /// ```
    pub fn new(store: S) -> Self {
        Self {
            store,
            check: VersionCheck::Enforce,
        }
    }

    /// The same context with the version check on or off for every operation
    /// (contract R23). [`update_with`](Self::update_with) and
    /// [`Transaction::check`] always check: they mean nothing without it.
    ///
    /// ```
    /// use optimist_core::typed::{Context, VersionCheck};
    /// let ctx = Context::new(optimist_memory::MemoryStore::new()).with_version_check(VersionCheck::Skip);
    /// assert_eq!(ctx.version_check(), VersionCheck::Skip);
    /// ```
    pub fn with_version_check(mut self, check: VersionCheck) -> Self {
        self.check = check;
        self
    }

    /// Whether operations without their own [`VersionCheck`] check versions.
    ///
    /// ```
    /// let ctx = optimist_core::typed::Context::new(optimist_memory::MemoryStore::new());
    /// assert_eq!(ctx.version_check(), optimist_core::typed::VersionCheck::Enforce);
    /// ```
    pub fn version_check(&self) -> VersionCheck {
        self.check
    }

    /// The store underneath.
    ///
    /// ```
    /// let ctx = optimist_core::typed::Context::new(optimist_memory::MemoryStore::new());
    /// assert!(ctx.store().is_empty());
    /// ```
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Gives the store back.
    ///
    /// ```
    /// let store = optimist_core::typed::Context::new(optimist_memory::MemoryStore::new()).into_store();
    /// assert!(store.is_empty());
    /// ```
    pub fn into_store(self) -> S {
        self.store
    }

    /// Loads the entity stored under `key`, with its version (contract R22); `None` if
    /// there is none. `key` is a [`Key`](crate::Key) or its parts: `load::<Book>(111)`,
    /// `load::<Chapter>(("dune", 3))`.
    ///
    /// ```
    /// use optimist_core::typed::{Context, Entity};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Entity, Serialize, Deserialize)]
    /// # struct Book { #[entity(partition_key)] id: u64, #[entity(version)] version: Option<u64> }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new());
    /// assert!(ctx.load::<Book>(111).await?.is_none());
    /// ctx.save(&mut Book { id: 111, version: None }).await?;
    /// assert_eq!(ctx.load::<Book>(111).await?.and_then(|b| b.version), Some(1));
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn load<T: Entity>(&self, key: impl IntoKey) -> Result<Option<T>> {
        let key = key.into_key();
        match self.store.get(&key).await? {
            Some(item) => T::from_item(&key, item, Operation::Get).map(Some),
            None => Ok(None),
        }
    }

    /// Saves the entity with the context's [`VersionCheck`] (contract R21): a version of
    /// `None` inserts, `Some(v)` updates expecting `v`. On success the new version is
    /// written into the entity; on any error the entity is unchanged, and a conflict
    /// carries the current item ([`Error::current`](super::Error::current)).
    ///
    /// ```
    /// use optimist_core::typed::{Context, Entity};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Entity, Serialize, Deserialize)]
    /// # struct Book { #[entity(partition_key)] id: u64, #[entity(version)] version: Option<u64> }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new());
    /// let mut book = Book { id: 1, version: None };
    /// ctx.save(&mut book).await?;
    /// ctx.save(&mut book).await?;
    /// assert_eq!(book.version, Some(2));
    /// // Another copy that was never saved cannot be inserted over it.
    /// assert!(ctx.save(&mut Book { id: 1, version: None }).await.is_err());
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn save<T: Entity>(&self, entity: &mut T) -> Result<()> {
        self.save_with(entity, self.check).await
    }

    /// [`save`](Self::save) with this operation's own [`VersionCheck`]; `Skip` puts.
    ///
    /// ```
    /// use optimist_core::typed::{Context, Entity, VersionCheck};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Entity, Serialize, Deserialize)]
    /// # struct Book { #[entity(partition_key)] id: u64, #[entity(version)] version: Option<u64> }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new());
    /// ctx.save(&mut Book { id: 1, version: None }).await?;
    /// let mut blind = Book { id: 1, version: None };
    /// ctx.save_with(&mut blind, VersionCheck::Skip).await?;
    /// assert_eq!(blind.version, Some(2));
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn save_with<T: Entity>(&self, entity: &mut T, check: VersionCheck) -> Result<()> {
        let key = entity.key();
        let (operation, expected) = match (check, entity.version()) {
            (VersionCheck::Skip, _) => (Operation::Put, None),
            (VersionCheck::Enforce, None) => (Operation::Insert, None),
            (VersionCheck::Enforce, Some(v)) => (Operation::Update, Some(Version::new(v))),
        };
        let document = entity.to_document(operation)?;
        let version = match (operation, expected) {
            (Operation::Update, Some(expected)) => {
                self.store.update(&key, expected, document).await?
            }
            (Operation::Insert, _) => self.store.insert(&key, document).await?,
            _ => self.store.put(&key, document).await?,
        };
        entity.set_version(Some(version.get()));
        Ok(())
    }

    /// Deletes the entity's item with the context's [`VersionCheck`] (contract R22): only
    /// if it is still at the entity's version. An entity that was never saved (version
    /// `None`) has no version to check: that is `InvalidInput`; use
    /// [`delete_key`](Self::delete_key) or [`VersionCheck::Skip`].
    ///
    /// ```
    /// use optimist_core::typed::{Context, Entity};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Entity, Serialize, Deserialize)]
    /// # struct Book { #[entity(partition_key)] id: u64, #[entity(version)] version: Option<u64> }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new());
    /// let mut book = Book { id: 1, version: None };
    /// ctx.save(&mut book).await?;
    /// ctx.delete(&book).await?;
    /// assert!(ctx.load::<Book>(1).await?.is_none());
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn delete<T: Entity>(&self, entity: &T) -> Result<()> {
        self.delete_with(entity, self.check).await
    }

    /// [`delete`](Self::delete) with this operation's own [`VersionCheck`]; `Skip`
    /// removes whatever is stored.
    ///
    /// ```
    /// use optimist_core::typed::{Context, Entity, VersionCheck};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Entity, Serialize, Deserialize)]
    /// # struct Book { #[entity(partition_key)] id: u64, #[entity(version)] version: Option<u64> }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new());
    /// ctx.save(&mut Book { id: 1, version: None }).await?;
    /// let stale = Book { id: 1, version: Some(7) };
    /// ctx.delete_with(&stale, VersionCheck::Skip).await?;
    /// assert!(ctx.load::<Book>(1).await?.is_none());
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn delete_with<T: Entity>(&self, entity: &T, check: VersionCheck) -> Result<()> {
        let key = entity.key();
        match (check, entity.version()) {
            (VersionCheck::Skip, _) => {
                self.store.remove(&key).await?;
            }
            (VersionCheck::Enforce, Some(v)) => self.store.delete(&key, Version::new(v)).await?,
            (VersionCheck::Enforce, None) => {
                return Err(never_saved(Operation::Delete, &key).into());
            }
        }
        Ok(())
    }

    /// Deletes whatever is stored under `key`, without a version check (contract R22, the
    /// .NET context's `Delete(key)`); returns the removed item's version, `None` if there was
    /// none.
    ///
    /// ```
    /// use optimist_core::typed::Context;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new());
    /// assert_eq!(ctx.delete_key("nothing-here").await?, None);
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn delete_key(&self, key: impl IntoKey) -> Result<Option<u64>> {
        let key = key.into_key();
        Ok(self.store.remove(&key).await?.map(Version::get))
    }

    /// Starts a [`Transaction`] on this context's store.
    ///
    /// ```
    /// let ctx = optimist_core::typed::Context::new(optimist_memory::MemoryStore::new());
    /// assert!(ctx.transaction().is_empty());
    /// ```
    pub fn transaction(&self) -> Transaction<'_, S> {
        Transaction::new(self)
    }
}

pub(super) fn never_saved(operation: Operation, key: &crate::Key) -> StoreError {
    StoreError::invalid(
        operation,
        Some(key),
        "the entity was never saved (its version is None), so there is no version to check; \
         use delete_key or VersionCheck::Skip",
    )
}

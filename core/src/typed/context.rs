//! The context: typed save, load and delete on top of a store (contract R21–R23).

use std::sync::Arc;

use crate::{Error as StoreError, Operation, Version, VersionedStore};

use super::combine::Combiner;
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
    /// Shared by clones, so every clone's `update_with` calls combine (contract R25).
    combiner: Option<Arc<Combiner>>,
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
            combiner: None,
        }
    }

    /// The same context with write combining on or off (contract R25; off by default).
    /// With it on, [`update_with`](Self::update_with) calls on one key through this
    /// context and its clones coalesce: while one write is in flight, later calls queue
    /// their changes, and the next write applies them all, in the order the calls
    /// arrived, to the current item, in one compare-and-swap. Each call returns the
    /// entity as that write saved it (its own change and those combined with it) and
    /// the version it landed in; a change that gives up fails alone; a conflict applies
    /// every change again to the conflict's item. On one hot key, the store sees one
    /// write per round trip instead of a storm of conflicting ones.
    ///
    /// Why off by default: a combined write is sent by one of its callers (the first
    /// to arrive), so if that caller is cancelled while the write is in flight, every
    /// call in the batch learns only that the outcome is unknown (`Indeterminate`), as
    /// the cancelled caller would have; a change may run on other callers' changes, so
    /// it must depend only on the item it is given, as `update_with` already asks; and
    /// calls wait for the write in flight before theirs is sent.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use optimist_core::retry::RetryPolicy;
    /// use optimist_core::typed::{Context, Entity};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Entity, Serialize, Deserialize)]
    /// struct Counter {
    ///     #[entity(partition_key)]
    ///     id: String,
    ///     count: u64,
    ///     #[entity(version)]
    ///     version: Option<u64>,
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new()).with_write_combining(true);
    /// ctx.save(&mut Counter { id: "hits".into(), count: 0, version: None }).await?;
    /// let bump = |c: &mut Counter| -> Result<(), Infallible> { c.count += 1; Ok(()) };
    /// let policy = RetryPolicy::default();
    /// let (a, b) = tokio::join!(
    ///     ctx.update_with::<Counter, _, _>("hits", &policy, bump),
    ///     ctx.update_with::<Counter, _, _>("hits", &policy, bump),
    /// );
    /// assert!(a?.version.is_some() && b?.version.is_some());
    /// assert_eq!(ctx.load::<Counter>("hits").await?.map(|c| c.count), Some(2));
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn with_write_combining(mut self, on: bool) -> Self {
        self.combiner = on.then(Arc::default);
        self
    }

    /// Whether [`update_with`](Self::update_with) calls combine (contract R25).
    ///
    /// ```
    /// let ctx = optimist_core::typed::Context::new(optimist_memory::MemoryStore::new());
    /// assert!(!ctx.write_combining());
    /// ```
    pub fn write_combining(&self) -> bool {
        self.combiner.is_some()
    }

    pub(super) fn combiner(&self) -> Option<&Combiner> {
        self.combiner.as_deref()
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

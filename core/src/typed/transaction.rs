//! Typed transactions: saves, deletes and checks of entities of any types, applied
//! all or nothing, with the new versions written back only after success.

use crate::{Operation, TxOp, Version, VersionedStore};

use super::context::never_saved;
use super::{Context, Entity, Error, Result, VersionCheck};

/// Where a committed save writes its new version. Object safe, so one transaction can
/// hold entities of different types.
trait VersionSlot: Send {
    fn set(&mut self, version: Option<u64>);
}

impl<T: Entity> VersionSlot for T {
    fn set(&mut self, version: Option<u64>) {
        self.set_version(version);
    }
}

/// A transaction being built: add saves, deletes and checks, then
/// [`commit`](Self::commit). Made by [`Context::transaction`].
///
/// The ops go to the store's `transact` (contract R10): all are applied or none. Saved
/// entities get their new versions only when the whole transaction succeeded; after
/// any error every entity is exactly as before. An entity that does not encode is
/// reported by `commit`, before anything is sent.
///
/// ```
/// use optimist_core::typed::{Context, Entity};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Entity, Serialize, Deserialize, Clone)]
/// struct Account {
///     #[entity(partition_key)]
///     id: String,
///     balance: i64,
///     #[entity(version)]
///     version: Option<u64>,
/// }
///
/// #[derive(Entity, Serialize, Deserialize)]
/// struct Transfer {
///     #[entity(partition_key)]
///     id: u64,
///     amount: i64,
///     #[entity(version)]
///     version: Option<u64>,
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let ctx = Context::new(optimist_memory::MemoryStore::new());
/// let mut alice = Account { id: "alice".into(), balance: 100, version: None };
/// let mut bob = Account { id: "bob".into(), balance: 0, version: None };
/// ctx.transaction().save(&mut alice).save(&mut bob).commit().await?;
///
/// alice.balance -= 40;
/// bob.balance += 40;
/// let mut transfer = Transfer { id: 1, amount: 40, version: None };
/// ctx.transaction().save(&mut alice).save(&mut bob).save(&mut transfer).commit().await?;
/// assert_eq!((alice.version, bob.version, transfer.version), (Some(2), Some(2), Some(1)));
/// # Ok::<(), optimist_core::typed::Error>(())
/// # }).unwrap();
/// ```
#[must_use = "a transaction does nothing until it is committed"]
pub struct Transaction<'a, S> {
    ctx: &'a Context<S>,
    ops: Vec<TxOp>,
    slots: Vec<Option<&'a mut dyn VersionSlot>>,
    error: Option<Error>,
}

impl<'a, S: VersionedStore> Transaction<'a, S> {
    pub(super) fn new(ctx: &'a Context<S>) -> Self {
        Self {
            ctx,
            ops: Vec::new(),
            slots: Vec::new(),
            error: None,
        }
    }

    /// How many ops the transaction holds.
    ///
    /// ```
    /// let ctx = optimist_core::typed::Context::new(optimist_memory::MemoryStore::new());
    /// assert_eq!(ctx.transaction().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the transaction holds no op.
    ///
    /// ```
    /// let ctx = optimist_core::typed::Context::new(optimist_memory::MemoryStore::new());
    /// assert!(ctx.transaction().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Adds a save with the context's [`VersionCheck`]: insert if the entity's version
    /// is `None`, update expecting it otherwise (put if the check is skipped).
    ///
    /// See the example on [`Transaction`].
    pub fn save<T: Entity>(self, entity: &'a mut T) -> Self {
        let check = self.ctx.version_check();
        self.save_with(entity, check)
    }

    /// Adds a save with its own [`VersionCheck`]; `Skip` puts.
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
    /// ctx.transaction().save_with(&mut blind, VersionCheck::Skip).commit().await?;
    /// assert_eq!(blind.version, Some(2));
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn save_with<T: Entity>(mut self, entity: &'a mut T, check: VersionCheck) -> Self {
        let key = entity.key();
        let operation = match (check, entity.version()) {
            (VersionCheck::Skip, _) => Operation::Put,
            (VersionCheck::Enforce, None) => Operation::Insert,
            (VersionCheck::Enforce, Some(_)) => Operation::Update,
        };
        match entity.to_document(operation) {
            Ok(document) => {
                let op = match (check, entity.version()) {
                    (VersionCheck::Skip, _) => TxOp::put(key, document),
                    (VersionCheck::Enforce, None) => TxOp::insert(key, document),
                    (VersionCheck::Enforce, Some(v)) => {
                        TxOp::update(key, Version::new(v), document)
                    }
                };
                self.ops.push(op);
                self.slots.push(Some(entity));
            }
            Err(err) => self.fail(err),
        }
        self
    }

    /// Adds a delete with the context's [`VersionCheck`]: only if the item is still at
    /// the entity's version (remove if the check is skipped).
    ///
    /// ```
    /// use optimist_core::typed::{Context, Entity};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Entity, Serialize, Deserialize)]
    /// # struct Book { #[entity(partition_key)] id: u64, #[entity(version)] version: Option<u64> }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new());
    /// let (mut a, mut b) = (Book { id: 1, version: None }, Book { id: 2, version: None });
    /// ctx.transaction().save(&mut a).save(&mut b).commit().await?;
    /// ctx.transaction().delete(&a).delete(&b).commit().await?;
    /// assert!(ctx.store().is_empty());
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn delete<T: Entity>(self, entity: &'a T) -> Self {
        let check = self.ctx.version_check();
        self.delete_with(entity, check)
    }

    /// Adds a delete with its own [`VersionCheck`]; `Skip` removes.
    ///
    /// ```
    /// use optimist_core::typed::{Context, Entity, VersionCheck};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Entity, Serialize, Deserialize)]
    /// # struct Book { #[entity(partition_key)] id: u64, #[entity(version)] version: Option<u64> }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new());
    /// ctx.save(&mut Book { id: 1, version: None }).await?;
    /// let never_loaded = Book { id: 1, version: None };
    /// ctx.transaction().delete_with(&never_loaded, VersionCheck::Skip).commit().await?;
    /// assert!(ctx.store().is_empty());
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn delete_with<T: Entity>(mut self, entity: &'a T, check: VersionCheck) -> Self {
        let key = entity.key();
        match (check, entity.version()) {
            (VersionCheck::Skip, _) => self.push(TxOp::remove(key)),
            (VersionCheck::Enforce, Some(v)) => self.push(TxOp::delete(key, Version::new(v))),
            (VersionCheck::Enforce, None) => self.fail(never_saved(Operation::Delete, &key).into()),
        }
        self
    }

    /// Adds a check: the entity's item must still be at the entity's version, or
    /// nothing is applied. Writes nothing, and always checks, whatever the context's
    /// [`VersionCheck`].
    ///
    /// ```
    /// use optimist_core::typed::{Context, Entity};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Entity, Serialize, Deserialize)]
    /// # struct Book { #[entity(partition_key)] id: u64, #[entity(version)] version: Option<u64> }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new());
    /// let mut rules = Book { id: 1, version: None };
    /// ctx.save(&mut rules).await?;
    /// let mut order = Book { id: 2, version: None };
    /// ctx.transaction().check(&rules).save(&mut order).commit().await?;
    /// assert_eq!((rules.version, order.version), (Some(1), Some(1)));
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn check<T: Entity>(mut self, entity: &'a T) -> Self {
        let key = entity.key();
        match entity.version() {
            Some(v) => self.push(TxOp::check(key, Version::new(v))),
            None => self.fail(never_saved(Operation::Check, &key).into()),
        }
        self
    }

    fn push(&mut self, op: TxOp) {
        self.ops.push(op);
        self.slots.push(None);
    }

    fn fail(&mut self, err: Error) {
        self.error.get_or_insert(err);
    }

    /// Sends the ops to the store as one transaction. On success each saved entity
    /// gets its new version; on any error nothing was applied and no entity changed. A
    /// conflict is [`crate::Error::TransactionConflict`] inside [`Error::Store`], one
    /// failure per failing op, in the order the ops were added
    /// ([`Error::transaction_failures`]).
    ///
    /// See the example on [`Transaction`].
    pub async fn commit(self) -> Result<()> {
        if let Some(err) = self.error {
            return Err(err);
        }
        let versions = self.ctx.store().transact(self.ops).await?;
        for (slot, version) in self.slots.into_iter().zip(versions) {
            if let Some(slot) = slot {
                slot.set(version.map(Version::get));
            }
        }
        Ok(())
    }
}

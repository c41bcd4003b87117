//! Guarded writes: every write is one transaction with a check that the lease record is
//! still at the version its holder last wrote, so a holder that lost the lease writes
//! nothing (contract R19, with R10's transactions).

use async_trait::async_trait;
use serde_json::Value;

use super::FencingToken;
use super::handle::{Holding, Judgement, OWN_RACES};
use crate::{
    Capabilities, Error, ErrorKind, Key, OpFailure, Operation, Result, StoreFuture, TxOp, Version,
    Versioned, VersionedStore, validate,
};

/// A store whose every write is guarded by a lease: made by
/// [`Lease::guard`](super::Lease::guard) or [`Lease::guard_on`](super::Lease::guard_on).
///
/// Each write is one [`transact`](VersionedStore::transact) call: a `Check` that the
/// lease record is still at the version the holder last wrote, then the write, applied
/// together or not at all: one round trip on every backend. A write after another owner
/// took the lease over (or after it was released or its record removed) is refused
/// with [`Error::Lease`] and [`LeaseConflict::Lost`](super::LeaseConflict::Lost),
/// naming the current holder and its token, and nothing is written. A check that fails
/// only because the holder itself renewed meanwhile is sent again with the new version,
/// not reported. Conflicts of the write itself are the plain store's (`Conflict`, or
/// `TransactionConflict` with the caller's op indices).
///
/// Reads are not guarded. The lease record's key cannot be written through it
/// (`InvalidInput`): renew or release the lease instead. [`remove`](Self::remove) needs
/// the removed item's version, so it reads the item first and deletes it expecting that
/// version: two round trips. A transaction holds at most one op fewer than the store's
/// limit (the check takes one), as [`capabilities`](Self::capabilities) says. A store
/// without transactions has no guarded writes: every write is `Unsupported`.
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use optimist_core::{Key, VersionedStore, lease::{Lease, LeaseConflict, LeaseOptions}};
/// use serde_json::json;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = Arc::new(optimist_memory::MemoryStore::new());
/// let lease_ms = Duration::from_millis(20);
/// let old = Lease::try_acquire(store.clone(), Key::new("shard-1"), &LeaseOptions::new("old", lease_ms)).await?;
/// old.guard().put(&Key::new("data"), json!({"by": "old"})).await?;
///
/// // `old` stalls (a long GC pause); a waiter sees the record unchanged and takes over.
/// let new = Lease::acquire(store.clone(), Key::new("shard-1"), &LeaseOptions::new("new", lease_ms), Duration::from_secs(5)).await?;
/// let err = old.guard().put(&Key::new("data"), json!({"by": "old, late"})).await.unwrap_err();
/// let holder = err.lease_conflict().and_then(LeaseConflict::holder).cloned();
/// assert_eq!(holder.map(|h| (h.owner, h.token)), Some(("new".into(), new.token().get())));
/// assert_eq!(store.get(&Key::new("data")).await?.map(|d| d.value), Some(json!({"by": "old"})));
/// # Ok::<(), optimist_core::Error>(())
/// # }).unwrap();
/// ```
pub struct Guarded<'a, S: ?Sized> {
    store: &'a S,
    holding: &'a Holding,
    caps: Capabilities,
}

impl<S: ?Sized> std::fmt::Debug for Guarded<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guarded")
            .field("lease", &self.holding.key)
            .field("token", &self.holding.token)
            .finish_non_exhaustive()
    }
}

impl<'a, S: VersionedStore + ?Sized> Guarded<'a, S> {
    pub(crate) fn new(store: &'a S, holding: &'a Holding) -> Self {
        let caps = store.capabilities().clone();
        let max = caps.max_transaction_ops.saturating_sub(1);
        Self {
            store,
            holding,
            caps: caps.with_max_transaction_ops(max),
        }
    }

    /// The fencing token of the lease guarding the writes.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use optimist_core::{Key, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let store = Arc::new(optimist_memory::MemoryStore::new());
    /// # let options = LeaseOptions::new("w", Duration::from_secs(5));
    /// let lease = Lease::try_acquire(store, Key::new("l"), &options).await?;
    /// assert_eq!(lease.guard().token(), lease.token());
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn token(&self) -> FencingToken {
        FencingToken::new(self.holding.key.clone(), self.holding.token)
    }

    /// Refuses what no guarded write can do: a store without transactions, a lease
    /// this handle released, a write to the lease record itself.
    fn admit<'k>(
        &self,
        operation: Operation,
        keys: impl IntoIterator<Item = &'k Key>,
    ) -> Result<()> {
        if !self.caps.transactions {
            return Err(Error::Unsupported {
                operation: Operation::Transact,
            });
        }
        self.holding.held(operation)?;
        if let Some(key) = keys.into_iter().find(|k| **k == self.holding.key) {
            return Err(Error::invalid(
                operation,
                Some(key),
                "a guarded write cannot write its own lease record: renew or release the lease instead",
            ));
        }
        Ok(())
    }

    /// Sends the checked ops after the lease's check, and answers for the ops alone.
    async fn send(&self, operation: Operation, ops: &[TxOp]) -> Result<Vec<Option<Version>>> {
        for _ in 0..OWN_RACES {
            let current = self.holding.held(operation)?.current;
            let mut all = Vec::with_capacity(ops.len() + 1);
            all.push(TxOp::check(self.holding.key.clone(), current));
            all.extend(ops.iter().cloned());
            let failures = match self.store.transact(all).await {
                Ok(mut versions) => {
                    if !versions.is_empty() {
                        versions.remove(0);
                    }
                    return Ok(versions);
                }
                Err(Error::TransactionConflict { failures }) => failures,
                Err(err) => return Err(err),
            };
            let mut lease_failure = None;
            let mut item_failures = Vec::new();
            for failure in failures {
                match failure.index.checked_sub(1) {
                    None => lease_failure = Some(failure),
                    Some(index) => item_failures.push(OpFailure { index, ..failure }),
                }
            }
            let Some(lease_failure) = lease_failure else {
                return Err(Error::TransactionConflict {
                    failures: item_failures,
                });
            };
            // The conflict carries the record as it was (contract R11): as good as a
            // re-read, and no extra round trip.
            match self.holding.judge(lease_failure.conflict.current()) {
                Judgement::Lost(holder) => return Err(self.holding.lost(operation, holder)),
                // The write's own conditions were judged in the same atomic step.
                Judgement::Ours if !item_failures.is_empty() => {
                    return Err(Error::TransactionConflict {
                        failures: item_failures,
                    });
                }
                Judgement::Ours => continue,
            }
        }
        Err(self.holding.own_races(operation))
    }

    /// One guarded op, answered as the single operation: its version, or its conflict.
    async fn single(&self, operation: Operation, op: TxOp) -> Result<Option<Version>> {
        self.admit(operation, [op.key()])?;
        match op.action().value() {
            Some(value) => validate::write(operation, op.key(), value, &self.caps)?,
            None => validate::key(operation, op.key(), &self.caps)?,
        }
        match self.send(operation, std::slice::from_ref(&op)).await {
            Ok(versions) => Ok(versions.into_iter().next().flatten()),
            Err(Error::TransactionConflict { failures }) if failures.len() == 1 => {
                let failure = failures.into_iter().next();
                match failure {
                    Some(f) => Err(Error::conflict(operation, f.key, f.conflict)),
                    None => Err(self.no_version(operation, op.key())),
                }
            }
            Err(err) => Err(err),
        }
    }

    fn no_version(&self, operation: Operation, key: &Key) -> Error {
        Error::backend(
            "lease",
            operation,
            Some(key),
            ErrorKind::Other,
            "the store's transaction answered without the write's version",
        )
    }

    async fn write(&self, operation: Operation, op: TxOp) -> Result<Version> {
        let key = op.key().clone();
        self.single(operation, op)
            .await?
            .ok_or_else(|| self.no_version(operation, &key))
    }
}

#[async_trait]
impl<S: VersionedStore + ?Sized> VersionedStore for Guarded<'_, S> {
    /// The store's capabilities, with one op fewer per transaction (the lease's check).
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// A plain read: reads are not guarded.
    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>> {
        self.store.get(key)
    }

    /// Plain reads, not guarded.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Value>>>> {
        self.store.get_many(keys).await
    }

    /// A plain read, not guarded.
    async fn query(
        &self,
        partition: &str,
        range: crate::SortRange,
        options: crate::QueryOptions,
    ) -> Result<crate::Page> {
        self.store.query(partition, range, options).await
    }

    /// A plain read, not guarded.
    async fn scan(&self, options: crate::ScanOptions) -> Result<crate::Page> {
        self.store.scan(options).await
    }

    fn insert<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            self.write(Operation::Insert, TxOp::insert(key.clone(), value))
                .await
        })
    }

    fn update<'a>(
        &'a self,
        key: &'a Key,
        expected: Version,
        value: Value,
    ) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            self.write(
                Operation::Update,
                TxOp::update(key.clone(), expected, value),
            )
            .await
        })
    }

    fn delete<'a>(&'a self, key: &'a Key, expected: Version) -> StoreFuture<'a, ()> {
        StoreFuture::new(async move {
            self.single(Operation::Delete, TxOp::delete(key.clone(), expected))
                .await
                .map(|_| ())
        })
    }

    fn put<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            self.write(Operation::Put, TxOp::put(key.clone(), value))
                .await
        })
    }

    /// Reads the item, then deletes it expecting the version read, under the lease's
    /// check (two round trips; again with the conflict's item if another writer got in
    /// between). An absent item is answered `None` after a check of the lease alone,
    /// so a holder that lost the lease is told so here too.
    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Version>> {
        StoreFuture::new(async move {
            let operation = Operation::Remove;
            self.admit(operation, [key])?;
            validate::key(operation, key, &self.caps)?;
            let mut item = self.store.get(key).await?;
            for _ in 0..OWN_RACES {
                let Some(current) = item.take() else {
                    self.send(operation, &[]).await?;
                    return Ok(None);
                };
                match self
                    .single(operation, TxOp::delete(key.clone(), current.version))
                    .await
                {
                    Ok(_) => return Ok(Some(current.version)),
                    Err(Error::Conflict { conflict, .. }) => item = conflict.into_current(),
                    Err(err) => return Err(err),
                }
            }
            Err(Error::backend(
                "lease",
                operation,
                Some(key),
                ErrorKind::Contention,
                "other writers kept changing the item between the read and the guarded delete",
            ))
        })
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        let operation = Operation::Transact;
        self.admit(operation, ops.iter().map(TxOp::key))?;
        validate::transaction(&ops, &self.caps)?;
        self.send(operation, &ops).await
    }

    /// Forwarded: purging tombstones writes no item's data.
    async fn purge_tombstones(&self, older_than: std::time::Duration) -> Result<u64> {
        self.store.purge_tombstones(older_than).await
    }
}

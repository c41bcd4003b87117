//! A store wrapper that counts the reads and updates reaching the store, and can let
//! another writer in just before each update: the proof that `update_with` re-applies
//! the change to the conflict's item without reading again (R24).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::verdict::fail;
use optimist_core::{
    Capabilities, Key, Page, QueryOptions, Result, ScanOptions, SortRange, StoreFuture, TxOp,
    Value, Version, Versioned, VersionedStore, async_trait,
};

/// Wraps a store; see the [module](self) docs.
pub(crate) struct Counting<S> {
    inner: S,
    gets: AtomicUsize,
    updates: AtomicUsize,
    /// How many of the next updates the other writer precedes with its own write.
    interfere: Mutex<usize>,
}

impl<S: VersionedStore> Counting<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            gets: AtomicUsize::new(0),
            updates: AtomicUsize::new(0),
            interfere: Mutex::new(0),
        }
    }

    /// Before each of the next `updates` updates, another writer adds 100 to the
    /// item's `count` field with a put (not counted).
    pub(crate) fn interfere(&self, updates: usize) {
        *self
            .interfere
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = updates;
    }

    pub(crate) fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }

    pub(crate) fn updates(&self) -> usize {
        self.updates.load(Ordering::SeqCst)
    }

    fn take_interference(&self) -> bool {
        let mut left = self
            .interfere
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let fire = *left > 0;
        *left = left.saturating_sub(1);
        fire
    }

    /// The other writer: read and write through the inner store, so not counted.
    async fn other_writer_adds_100(&self, key: &Key) -> Result<()> {
        let Some(item) = self.inner.get(key).await? else {
            fail(
                "the scripted other writer finds the item it writes over (a precondition of the case)",
                format!("the other writer found no item under {key} to write over"),
            );
        };
        let mut value = item.value;
        let count = value["count"].as_u64().unwrap_or(0);
        value["count"] = Value::from(count + 100);
        self.inner.put(key, value).await?;
        Ok(())
    }
}

#[async_trait]
impl<S: VersionedStore> VersionedStore for Counting<S> {
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>> {
        StoreFuture::new(async move {
            self.gets.fetch_add(1, Ordering::SeqCst);
            self.inner.get(key).await
        })
    }
    fn insert<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        self.inner.insert(key, value)
    }
    fn update<'a>(
        &'a self,
        key: &'a Key,
        expected: Version,
        value: Value,
    ) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            self.updates.fetch_add(1, Ordering::SeqCst);
            if self.take_interference() {
                self.other_writer_adds_100(key).await?;
            }
            self.inner.update(key, expected, value).await
        })
    }
    fn delete<'a>(&'a self, key: &'a Key, expected: Version) -> StoreFuture<'a, ()> {
        self.inner.delete(key, expected)
    }
    fn put<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        self.inner.put(key, value)
    }
    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Version>> {
        self.inner.remove(key)
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        self.inner.transact(ops).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Value>>>> {
        self.inner.get_many(keys).await
    }
    async fn query(
        &self,
        partition: &str,
        range: SortRange,
        options: QueryOptions,
    ) -> Result<Page> {
        self.inner.query(partition, range, options).await
    }
    async fn scan(&self, options: ScanOptions) -> Result<Page> {
        self.inner.scan(options).await
    }
}

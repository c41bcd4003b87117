//! A store wrapper that counts the calls reaching the store, and can let another
//! writer in just before each update: the proof that a retry does not read again.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use optimist_core::{
    Capabilities, Key, Result, TxOp, Value, Version, Versioned, VersionedStore, async_trait,
};

#[derive(Default, Debug)]
pub struct Calls {
    pub get: AtomicUsize,
    pub insert: AtomicUsize,
    pub update: AtomicUsize,
    pub delete: AtomicUsize,
    pub put: AtomicUsize,
    pub remove: AtomicUsize,
    pub transact: AtomicUsize,
}

impl Calls {
    pub fn gets(&self) -> usize {
        self.get.load(Ordering::SeqCst)
    }
    pub fn updates(&self) -> usize {
        self.update.load(Ordering::SeqCst)
    }
    pub fn inserts(&self) -> usize {
        self.insert.load(Ordering::SeqCst)
    }
}

/// What the other writer does before an update reaches the store.
pub enum Interfere {
    Never,
    /// Before the next `n` updates, bump the item's `count` field by 100 with a put.
    Next(usize),
}

pub struct Counting<S> {
    pub inner: S,
    pub calls: Calls,
    interfere: Mutex<Interfere>,
}

impl<S: VersionedStore> Counting<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            calls: Calls::default(),
            interfere: Mutex::new(Interfere::Never),
        }
    }

    pub fn interfere(&self, mode: Interfere) {
        *self.interfere.lock().unwrap() = mode;
    }

    fn take_interference(&self) -> bool {
        let mut mode = self.interfere.lock().unwrap();
        match &mut *mode {
            Interfere::Never => false,
            Interfere::Next(0) => false,
            Interfere::Next(n) => {
                *n -= 1;
                true
            }
        }
    }
}

fn bump(calls: &AtomicUsize) {
    calls.fetch_add(1, Ordering::SeqCst);
}

#[async_trait]
impl<S: VersionedStore> VersionedStore for Counting<S> {
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
    async fn get(&self, key: &Key) -> Result<Option<Versioned<Value>>> {
        bump(&self.calls.get);
        self.inner.get(key).await
    }
    async fn insert(&self, key: &Key, value: Value) -> Result<Version> {
        bump(&self.calls.insert);
        self.inner.insert(key, value).await
    }
    async fn update(&self, key: &Key, expected: Version, value: Value) -> Result<Version> {
        bump(&self.calls.update);
        if self.take_interference() {
            // The other writer reads and writes through the inner store: not counted.
            let mut other = self
                .inner
                .get(key)
                .await?
                .expect("item to interfere with")
                .value;
            let count = other["count"].as_u64().unwrap_or(0);
            other["count"] = Value::from(count + 100);
            self.inner.put(key, other).await?;
        }
        self.inner.update(key, expected, value).await
    }
    async fn delete(&self, key: &Key, expected: Version) -> Result<()> {
        bump(&self.calls.delete);
        self.inner.delete(key, expected).await
    }
    async fn put(&self, key: &Key, value: Value) -> Result<Version> {
        bump(&self.calls.put);
        self.inner.put(key, value).await
    }
    async fn remove(&self, key: &Key) -> Result<Option<Version>> {
        bump(&self.calls.remove);
        self.inner.remove(key).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        bump(&self.calls.transact);
        self.inner.transact(ops).await
    }
}

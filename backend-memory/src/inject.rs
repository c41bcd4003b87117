//! Conflict injection: a test makes another writer's write land between the
//! application's read and its write, to prove the application handles the conflict.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use optimist_core::{Change, Expect, Key, Write};
use serde_json::Value;

/// What the injected writer does, given the value stored now (`None`: absent):
/// `Some(value)` writes it as an unchecked put would (version + 1, or 1 if absent),
/// `None` removes the item.
pub(crate) type Interference = Box<dyn FnOnce(Option<&Value>) -> Option<Value> + Send>;

/// Armed interferences, each fired once by the next write to its key.
#[derive(Default)]
pub(crate) struct Hooks {
    // Counts armed hooks so a write with none armed pays one atomic load.
    armed: AtomicUsize,
    pending: Mutex<HashMap<Key, Vec<Interference>>>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("armed", &self.armed.load(Ordering::Acquire))
            .finish()
    }
}

impl Hooks {
    pub(crate) fn arm(&self, key: Key, interference: Interference) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.entry(key).or_default().push(interference);
        self.armed.fetch_add(1, Ordering::Release);
    }

    /// Fires the hooks armed on `key`, in the order they were armed, against the
    /// items map the caller holds locked, before the caller checks its condition.
    #[inline]
    pub(crate) fn fire(&self, items: &mut crate::store::Items, key: &Key) {
        if self.armed.load(Ordering::Acquire) != 0 {
            self.fire_armed(items, key);
        }
    }

    fn fire_armed(&self, items: &mut crate::store::Items, key: &Key) {
        let fired = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.remove(key).unwrap_or_default()
        };
        self.armed.fetch_sub(fired.len(), Ordering::AcqRel);
        for interference in fired {
            let value = items.record(key).and_then(|record| record.value.as_ref());
            let write = interference(value);
            let change = match &write {
                Some(value) => Change::Put(value),
                None => Change::Delete,
            };
            // Another writer's unchecked put or remove; at an exhausted counter it is
            // refused and the item stays as it is.
            crate::store::apply(items, &Write::new(key, Expect::Any, change));
        }
    }
}

impl crate::MemoryStore {
    /// Makes another writer's write happen just before the next write to `key`
    /// (insert, update, delete, put, remove, or a transaction with an op on `key`),
    /// under the same lock, so that write sees the item the other writer left.
    ///
    /// `interference` gets the value stored at that moment (`None`: absent) and returns
    /// what the other writer writes: `Some(value)` is stored as an unchecked put would
    /// (version + 1, or 1 if absent), `None` removes the item. It fires once; arm it
    /// again for the next write. Reads do not fire it.
    ///
    /// This lets a test prove an application's conflict handling without racing
    /// threads: read, let the other writer in, write.
    ///
    /// ```
    /// use optimist_core::{Key, VersionedStore};
    /// use optimist_memory::MemoryStore;
    /// use serde_json::json;
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = MemoryStore::new();
    /// let key = Key::new("counter");
    /// store.insert(&key, json!({"n": 0})).await?;
    ///
    /// // The application reads version 1 ...
    /// let read = store.get(&key).await?.unwrap();
    /// // ... another writer gets in before its write ...
    /// store.before_next_write(&key, |current| {
    ///     let n = current.and_then(|v| v["n"].as_u64()).unwrap_or(0);
    ///     Some(json!({"n": n + 10}))
    /// });
    /// // ... so the application's write conflicts, and sees the other writer's item.
    /// let err = store.update(&key, read.version, json!({"n": 1})).await.unwrap_err();
    /// let current = err.conflict_ref().and_then(|c| c.current()).unwrap();
    /// assert_eq!((current.value["n"].as_u64(), current.version.get()), (Some(10), 2));
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn before_next_write<F>(&self, key: &Key, interference: F)
    where
        F: FnOnce(Option<&Value>) -> Option<Value> + Send + 'static,
    {
        self.hooks.arm(key.clone(), Box::new(interference));
    }
}

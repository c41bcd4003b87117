//! The memory store: one map behind one lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use optimist_core::{
    Capabilities, CommitOutcome, Decision, Key, Outcome, Storage, StorageError, Version, Versioned,
    Write,
};
use serde_json::Value;

use crate::inject::Hooks;

pub(crate) type Items = HashMap<Key, Versioned<Value>>;

/// An in-memory [`VersionedStore`](optimist_core::VersionedStore). Clones share the same items.
///
/// Every operation, transactions included, takes one lock for the time of a map lookup
/// and never across an `.await`, so operations are linearizable and overlapping
/// transactions cannot deadlock.
///
/// ```
/// use optimist_core::{Key, VersionedStore};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = optimist_memory::MemoryStore::new();
/// let shared = store.clone();
/// store.insert(&Key::new("k"), serde_json::json!("v")).await?;
/// assert!(shared.get(&Key::new("k")).await?.is_some());
/// # Ok::<(), optimist_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    items: Arc<Mutex<Items>>,
    capabilities: Arc<Capabilities>,
    pub(crate) hooks: Arc<Hooks>,
}

impl MemoryStore {
    /// An empty store with the default [`Capabilities`].
    ///
    /// ```
    /// let store = optimist_memory::MemoryStore::new();
    /// assert!(store.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store with other limits, for example to match a production backend's.
    ///
    /// ```
    /// use optimist_core::{Capabilities, KeyShape, NumberSupport, VersionedStore};
    ///
    /// // Behave like a DynamoDB table keyed on a partition key only.
    /// let caps = Capabilities::new()
    ///     .with_numbers(NumberSupport::DYNAMODB)
    ///     .with_object_values_only(true)
    ///     .with_key_shape(KeyShape::PartitionOnly);
    /// let store = optimist_memory::MemoryStore::with_capabilities(caps.clone());
    /// assert_eq!(store.capabilities(), &caps);
    /// ```
    pub fn with_capabilities(capabilities: Capabilities) -> Self {
        Self {
            items: Arc::default(),
            capabilities: Arc::new(capabilities),
            hooks: Arc::default(),
        }
    }

    /// How many items the store holds.
    ///
    /// ```
    /// assert_eq!(optimist_memory::MemoryStore::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the store holds no item.
    ///
    /// ```
    /// assert!(optimist_memory::MemoryStore::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, Items> {
        // No code panics while holding the lock, and the map is valid between any two
        // statements, so a poisoned lock still guards a consistent map.
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Applies one write to the map: the precondition judged by core's
/// [`Write::decide`], the change applied in place.
pub(crate) fn apply(items: &mut Items, write: &Write<'_>) -> Outcome {
    let previous = items.get(write.key).map(|item| item.version);
    match write.decide(previous) {
        Decision::Refuse => {
            return Outcome::Refused {
                current: items.get(write.key).cloned(),
            };
        }
        Decision::Put(version) => {
            let value = write.value().cloned().unwrap_or_default();
            items.insert(write.key.clone(), Versioned::new(value, version));
        }
        Decision::Delete => {
            items.remove(write.key);
        }
        Decision::Keep => {}
    }
    Outcome::Applied { previous }
}

#[async_trait]
impl Storage for MemoryStore {
    fn backend_name(&self) -> &'static str {
        "memory"
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn read(&self, key: &Key) -> Result<Option<Versioned<Value>>, StorageError> {
        Ok(self.lock().get(key).cloned())
    }

    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        let mut items = self.lock();
        self.hooks.fire(&mut items, write.key);
        Ok(apply(&mut items, write))
    }

    async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
        let mut items = self.lock();
        for write in writes {
            self.hooks.fire(&mut items, write.key);
        }
        // Judge every write before applying any, so the transaction is all or nothing.
        let current: Vec<Option<Version>> = writes
            .iter()
            .map(|w| items.get(w.key).map(|item| item.version))
            .collect();
        let refused: Vec<(usize, Option<Versioned<Value>>)> = writes
            .iter()
            .zip(&current)
            .enumerate()
            .filter(|(_, (write, version))| write.decide(**version) == Decision::Refuse)
            .map(|(index, (write, _))| (index, items.get(write.key).cloned()))
            .collect();
        if !refused.is_empty() {
            return Ok(CommitOutcome::Refused { current: refused });
        }
        for write in writes {
            apply(&mut items, write);
        }
        Ok(CommitOutcome::Applied { previous: current })
    }
}

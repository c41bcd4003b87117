//! The memory store: one map behind one lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use optimist_core::{
    Capabilities, Error, Key, OpFailure, Operation, Result, TxAction, TxOp, Version, Versioned,
    VersionedStore, validate,
};
use serde_json::Value;

use crate::inject::Hooks;

type Items = HashMap<Key, Versioned<Value>>;

/// An in-memory [`VersionedStore`]. Clones share the same items.
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

/// The version after a write to an item at `previous` (`None`: absent).
fn next_version(operation: Operation, key: &Key, previous: Option<Version>) -> Result<Version> {
    match previous {
        None => Ok(Version::FIRST),
        Some(v) => v.next().ok_or_else(|| {
            Error::backend(
                operation,
                Some(key),
                false,
                "the item's version counter is exhausted",
            )
        }),
    }
}

/// Applies an action whose condition holds; returns the item's version afterwards.
fn apply(items: &mut Items, key: &Key, action: TxAction) -> Result<Option<Version>> {
    let operation = action.operation();
    match action {
        TxAction::Insert(value) | TxAction::Put(value) | TxAction::Update { value, .. } => {
            let version = next_version(operation, key, items.get(key).map(|i| i.version))?;
            items.insert(key.clone(), Versioned::new(value, version));
            Ok(Some(version))
        }
        TxAction::Check { expected } => Ok(Some(expected)),
        TxAction::Delete { .. } | TxAction::Remove => {
            items.remove(key);
            Ok(None)
        }
    }
}

impl MemoryStore {
    /// Runs one action under the lock, as a single operation.
    fn single(&self, key: &Key, action: TxAction) -> Result<Option<Version>> {
        let operation = action.operation();
        match action.value() {
            Some(value) => validate::write(operation, key, value, &self.capabilities)?,
            None => validate::key(operation, key, &self.capabilities)?,
        }
        let mut items = self.lock();
        self.hooks.fire(&mut items, key);
        if let Some(conflict) = action.conflict_with(items.get(key)) {
            return Err(Error::conflict(operation, key.clone(), conflict));
        }
        apply(&mut items, key, action)
    }
}

fn written(version: Option<Version>) -> Result<Version> {
    // Insert, update and put always leave an item behind.
    version.ok_or_else(|| Error::backend(Operation::Put, None, false, "write left no item"))
}

#[async_trait]
impl VersionedStore for MemoryStore {
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn get(&self, key: &Key) -> Result<Option<Versioned<Value>>> {
        validate::key(Operation::Get, key, &self.capabilities)?;
        Ok(self.lock().get(key).cloned())
    }

    async fn insert(&self, key: &Key, value: Value) -> Result<Version> {
        written(self.single(key, TxAction::Insert(value))?)
    }

    async fn update(&self, key: &Key, expected: Version, value: Value) -> Result<Version> {
        written(self.single(key, TxAction::Update { expected, value })?)
    }

    async fn delete(&self, key: &Key, expected: Version) -> Result<()> {
        self.single(key, TxAction::Delete { expected }).map(|_| ())
    }

    async fn put(&self, key: &Key, value: Value) -> Result<Version> {
        written(self.single(key, TxAction::Put(value))?)
    }

    async fn remove(&self, key: &Key) -> Result<Option<Version>> {
        validate::key(Operation::Remove, key, &self.capabilities)?;
        let mut items = self.lock();
        self.hooks.fire(&mut items, key);
        Ok(items.remove(key).map(|item| item.version))
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        validate::transaction(&ops, &self.capabilities)?;
        let mut items = self.lock();
        for op in &ops {
            self.hooks.fire(&mut items, op.key());
        }
        let failures: Vec<OpFailure> = ops
            .iter()
            .enumerate()
            .filter_map(|(index, op)| {
                op.action()
                    .conflict_with(items.get(op.key()))
                    .map(|conflict| OpFailure {
                        index,
                        key: op.key().clone(),
                        conflict,
                    })
            })
            .collect();
        if !failures.is_empty() {
            return Err(Error::TransactionConflict { failures });
        }
        // Version overflow is the one failure left; find it before changing anything so
        // the transaction stays all or nothing.
        for op in &ops {
            if op.action().value().is_some() {
                next_version(
                    Operation::Transact,
                    op.key(),
                    items.get(op.key()).map(|i| i.version),
                )?;
            }
        }
        ops.into_iter()
            .map(|op| {
                let (key, action) = op.into_parts();
                apply(&mut items, &key, action)
            })
            .collect()
    }
}

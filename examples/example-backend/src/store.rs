//! The example store: optimist's contract on top of the toy engine.

use std::collections::BTreeMap;
use std::sync::Arc;

use optimist_core::{
    Capabilities, Error, Key, KeyShape, OpFailure, Operation, Result, TxAction, TxOp, Value,
    Version, Versioned, VersionedStore, async_trait, validate,
};

use crate::engine::{Engine, Row};
use crate::error::{corrupt_row, version_exhausted};

/// A [`VersionedStore`] over the toy engine. Its keys have a partition part only, as in
/// a key-value server whose keys are plain strings; clones share the same table.
///
/// ```
/// use optimist_core::{Key, Version, VersionedStore};
/// use optimist_example_backend::ExampleStore;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = ExampleStore::new();
/// let key = Key::new("k");
/// store.insert(&key, serde_json::json!(1)).await?;
/// // A stale writer is refused and told what is there now (contract R6, R11).
/// store.update(&key, Version::FIRST, serde_json::json!(2)).await?;
/// let err = store.update(&key, Version::FIRST, serde_json::json!(3)).await.unwrap_err();
/// let current = err.conflict_ref().and_then(|c| c.current()).cloned().unwrap();
/// assert_eq!(current.version, Version::new(2));
/// // Keys with a sort part do not fit this store's shape: InvalidInput, nothing sent.
/// assert!(store.get(&Key::with_sort("a", "b")).await.unwrap_err().is_invalid_input());
/// # Ok::<(), optimist_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct ExampleStore {
    engine: Arc<Engine>,
    capabilities: Arc<Capabilities>,
}

impl Default for ExampleStore {
    fn default() -> Self {
        Self::new()
    }
}

impl ExampleStore {
    /// An empty store.
    ///
    /// ```
    /// use optimist_core::{KeyShape, VersionedStore};
    /// let store = optimist_example_backend::ExampleStore::new();
    /// assert_eq!(store.capabilities().key_shape, KeyShape::PartitionOnly);
    /// ```
    pub fn new() -> Self {
        Self {
            engine: Arc::default(),
            capabilities: Arc::new(Capabilities::new().with_key_shape(KeyShape::PartitionOnly)),
        }
    }
}

type Rows = BTreeMap<String, Row>;

/// The engine's key for an item: its partition part (validation guarantees there is
/// no sort part on this store).
fn row_key(key: &Key) -> String {
    key.partition().to_string()
}

fn decode(operation: Operation, key: &Key, row: &Row) -> Result<Versioned<Value>> {
    let value = serde_json::from_str(&row.json).map_err(|e| corrupt_row(operation, key, e))?;
    Ok(Versioned::new(value, Version::new(row.version)))
}

fn current(rows: &Rows, operation: Operation, key: &Key) -> Result<Option<Versioned<Value>>> {
    rows.get(&row_key(key))
        .map(|row| decode(operation, key, row))
        .transpose()
}

/// The version a write gives an item now at `previous` (contract R3).
fn next_version(operation: Operation, key: &Key, previous: Option<Version>) -> Result<Version> {
    match previous {
        None => Ok(Version::FIRST),
        Some(v) => v.next().ok_or_else(|| version_exhausted(operation, key)),
    }
}

/// Applies an action whose condition holds; the item's version afterwards.
fn apply(
    rows: &mut Rows,
    key: &Key,
    action: &TxAction,
    version: Option<Version>,
) -> Option<Version> {
    match (action.value(), action) {
        (Some(value), _) => {
            let version = version?;
            rows.insert(
                row_key(key),
                Row {
                    json: value.to_string(),
                    version: version.get(),
                },
            );
            Some(version)
        }
        (None, TxAction::Check { expected }) => Some(*expected),
        (None, _) => {
            rows.remove(&row_key(key));
            None
        }
    }
}

impl ExampleStore {
    /// One checked or unchecked write, check and write under one lock.
    fn write(&self, key: &Key, action: TxAction) -> Result<Option<Version>> {
        let operation = action.operation();
        match action.value() {
            Some(value) => validate::write(operation, key, value, &self.capabilities)?,
            None => validate::key(operation, key, &self.capabilities)?,
        }
        let mut rows = self.engine.lock();
        let item = current(&rows, operation, key)?;
        if let Some(conflict) = action.conflict_with(item.as_ref()) {
            return Err(Error::conflict(operation, key.clone(), conflict));
        }
        let version = match action.value() {
            Some(_) => Some(next_version(operation, key, item.map(|i| i.version))?),
            None => None,
        };
        Ok(apply(&mut rows, key, &action, version))
    }
}

fn written(operation: Operation, key: &Key, version: Option<Version>) -> Result<Version> {
    // Insert, update and put always leave an item behind.
    version.ok_or_else(|| Error::backend(operation, Some(key), false, "write left no item"))
}

#[async_trait]
impl VersionedStore for ExampleStore {
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn get(&self, key: &Key) -> Result<Option<Versioned<Value>>> {
        validate::key(Operation::Get, key, &self.capabilities)?;
        current(&self.engine.lock(), Operation::Get, key)
    }

    async fn insert(&self, key: &Key, value: Value) -> Result<Version> {
        written(
            Operation::Insert,
            key,
            self.write(key, TxAction::Insert(value))?,
        )
    }

    async fn update(&self, key: &Key, expected: Version, value: Value) -> Result<Version> {
        let action = TxAction::Update { expected, value };
        written(Operation::Update, key, self.write(key, action)?)
    }

    async fn delete(&self, key: &Key, expected: Version) -> Result<()> {
        self.write(key, TxAction::Delete { expected }).map(|_| ())
    }

    async fn put(&self, key: &Key, value: Value) -> Result<Version> {
        written(Operation::Put, key, self.write(key, TxAction::Put(value))?)
    }

    async fn remove(&self, key: &Key) -> Result<Option<Version>> {
        validate::key(Operation::Remove, key, &self.capabilities)?;
        let mut rows = self.engine.lock();
        Ok(rows
            .remove(&row_key(key))
            .map(|row| Version::new(row.version)))
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        validate::transaction(&ops, &self.capabilities)?;
        let operation = Operation::Transact;
        let mut rows = self.engine.lock();
        // Check every condition first, and compute every new version, before writing
        // anything: all or nothing (contract R10).
        let mut failures = Vec::new();
        let mut versions = Vec::with_capacity(ops.len());
        for (index, op) in ops.iter().enumerate() {
            let item = current(&rows, operation, op.key())?;
            if let Some(conflict) = op.action().conflict_with(item.as_ref()) {
                failures.push(OpFailure {
                    index,
                    key: op.key().clone(),
                    conflict,
                });
                continue;
            }
            versions.push(match op.action().value() {
                Some(_) => Some(next_version(operation, op.key(), item.map(|i| i.version))?),
                None => None,
            });
        }
        if !failures.is_empty() {
            return Err(Error::TransactionConflict { failures });
        }
        Ok(ops
            .iter()
            .zip(versions)
            .map(|(op, version)| apply(&mut rows, op.key(), op.action(), version))
            .collect())
    }
}

//! The example store: optimist's storage primitives on top of the toy engine.

use std::sync::Arc;

use optimist_core::{
    Capabilities, Decision, Held, Key, KeyShape, Outcome, RangePage, RangeRequest, Record, Storage,
    StorageError, Value, Write, async_trait,
};

use crate::engine::{Engine, Rows};
use crate::item::{from_row, row_key, to_row};

/// A [`VersionedStore`](optimist_core::VersionedStore) over the toy engine. Its keys
/// have a partition part only, as in a key-value server whose keys are plain strings;
/// clones share the same table.
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
    pub(crate) engine: Arc<Engine>,
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

/// The record at `key`, decoded.
pub(crate) fn current(rows: &Rows, key: &Key) -> Result<Option<Record>, StorageError> {
    rows.get(&row_key(key)).map(from_row).transpose()
}

/// Decides one write against the rows and applies it: the check and the write happen
/// under the caller's one lock.
pub(crate) fn apply(rows: &mut Rows, write: &Write<'_>) -> Result<Outcome, StorageError> {
    let record = current(rows, write.key)?;
    let previous = Held::of(record.as_ref());
    match write.decide(previous) {
        Decision::Refuse => return Ok(Outcome::Refused { current: record }),
        Decision::Put(version) => {
            let value = write.value().unwrap_or(&Value::Null);
            rows.insert(row_key(write.key), to_row(value, version, write.token));
        }
        Decision::Delete => {
            rows.remove(&row_key(write.key));
        }
        Decision::Keep => {}
    }
    Ok(Outcome::Applied { previous })
}

#[async_trait]
impl Storage for ExampleStore {
    fn backend_name(&self) -> &'static str {
        "example"
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn read(&self, key: &Key) -> Result<Option<Record>, StorageError> {
        current(&self.engine.lock(), key)
    }

    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        apply(&mut self.engine.lock(), write)
    }

    async fn commit(
        &self,
        writes: &[Write<'_>],
    ) -> Result<optimist_core::CommitOutcome, StorageError> {
        crate::transaction::commit(&mut self.engine.lock(), writes)
    }

    fn identity(&self) -> String {
        // Clones share one table; stores made apart have their own, and so refuse each
        // other's scan cursors.
        format!("example table #{}", self.engine.id())
    }

    async fn read_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        crate::reads::read_many(&self.engine.lock(), keys)
    }

    async fn read_range(&self, request: &RangeRequest<'_>) -> Result<RangePage, StorageError> {
        crate::reads::read_range(&self.engine.lock(), request)
    }
}

//! The memory store: one map behind one lock.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use optimist_core::{
    Capabilities, CommitOutcome, Decision, Held, Key, Outcome, OwnedPut, PutAnswer, RangePage,
    RangeRequest, Record, Storage, StorageError, Write,
};

use crate::inject::Hooks;

/// What the map holds for a key: its record, and when a tombstone was left.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) record: Record,
    buried_at: Option<Instant>,
}

/// The records by key, for point operations at the cost of a hash lookup whatever the
/// store's size, and the keys in order (partition, then sort part, as UTF-8 bytes), so
/// that a query reads one interval and a scan continues after a key. The order changes
/// only when a key comes or goes, not on an update.
#[derive(Debug)]
pub(crate) struct Items {
    pub(crate) entries: HashMap<Key, Entry, foldhash::fast::RandomState>,
    pub(crate) order: BTreeSet<Key>,
    tombstones: bool,
    /// Tells this store's cursors from another's.
    id: u64,
}

impl Default for Items {
    fn default() -> Self {
        Self::new(false)
    }
}

impl Items {
    fn new(tombstones: bool) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Self {
            entries: HashMap::default(),
            order: BTreeSet::new(),
            tombstones,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl Items {
    pub(crate) fn record(&self, key: &Key) -> Option<&Record> {
        self.entries.get(key).map(|entry| &entry.record)
    }

    fn remove(&mut self, key: &Key) {
        if self.entries.remove(key).is_some() {
            self.order.remove(key);
        }
    }
}

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
    /// With [`Capabilities::tombstones`] on, the store is in tombstone mode (contract
    /// R15): a delete leaves a tombstone that keeps the version counting, and
    /// `purge_tombstones` removes old ones.
    ///
    /// ```
    /// use optimist_core::{Capabilities, Key, Version, VersionedStore};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_memory::MemoryStore::with_capabilities(Capabilities::new().with_tombstones(true));
    /// let key = Key::new("k");
    /// let v1 = store.insert(&key, serde_json::json!(1)).await?;
    /// store.delete(&key, v1).await?;
    /// assert_eq!(store.get(&key).await?, None);
    /// assert_eq!(store.insert(&key, serde_json::json!(2)).await?, Version::new(2));
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
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
        let items = Items::new(capabilities.tombstones);
        Self {
            items: Arc::new(Mutex::new(items)),
            capabilities: Arc::new(capabilities),
            hooks: Arc::default(),
        }
    }

    /// How many items the store holds (tombstones are not items).
    ///
    /// ```
    /// assert_eq!(optimist_memory::MemoryStore::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        let items = self.lock();
        items
            .entries
            .values()
            .filter(|entry| !entry.record.is_tombstone())
            .count()
    }

    /// Whether the store holds no item.
    ///
    /// ```
    /// assert!(optimist_memory::MemoryStore::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
    let previous = Held::of(items.record(write.key));
    let token = Some(write.token);
    match write.decide(previous) {
        Decision::Refuse => return refused(items, write.key),
        Decision::Put(version) => {
            let value = write.value().cloned().unwrap_or_default();
            let record = Record::item(value, version).with_token(token);
            place(items, write.key, record, None);
        }
        Decision::Delete if items.tombstones => {
            if let Some(version) = previous.version() {
                let record = Record::tombstone(version).with_token(token);
                place(items, write.key, record, Some(Instant::now()));
            }
        }
        Decision::Delete => items.remove(write.key),
        Decision::Keep => {}
    }
    Outcome::Applied { previous }
}

/// Applies a put handed over with its value: the same judgement as [`apply`], the
/// value moved into the map, not copied. A put is applied or refused, never turned
/// into a delete or a no-op.
#[inline(always)]
fn apply_owned(items: &mut Items, put: OwnedPut<'_>) -> PutAnswer {
    let decision = |held| put.write().decide(held);
    // One lookup for the common case, a record replaced in place.
    let (decision, current) = match items.entries.get_mut(put.key) {
        Some(entry) => match decision(entry.record.held()) {
            Decision::Put(version) => {
                let previous = entry.record.held();
                entry.record = Record::item(put.value, version).with_token(Some(put.token));
                entry.buried_at = None;
                return PutAnswer::Kept { previous };
            }
            refusal => (refusal, Some(entry.record.clone())),
        },
        None => (decision(Held::Nothing), None),
    };
    match decision {
        Decision::Put(version) => {
            let record = Record::item(put.value, version).with_token(Some(put.token));
            place(items, put.key, record, None);
            PutAnswer::Kept {
                previous: Held::Nothing,
            }
        }
        _ => PutAnswer::Answered {
            answer: Ok(Outcome::Refused { current }),
            value: put.value,
        },
    }
}

/// A refusal carrying the key's record as it is.
fn refused(items: &Items, key: &Key) -> Outcome {
    Outcome::Refused {
        current: items.record(key).cloned(),
    }
}

/// Stores `record` under `key`, in place when the key has an entry (no key copied).
fn place(items: &mut Items, key: &Key, record: Record, buried_at: Option<Instant>) {
    let entry = Entry { record, buried_at };
    match items.entries.get_mut(key) {
        Some(slot) => *slot = entry,
        None => {
            items.entries.insert(key.clone(), entry);
            items.order.insert(key.clone());
        }
    }
}

#[async_trait]
impl Storage for MemoryStore {
    fn backend_name(&self) -> &'static str {
        "memory"
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn read(&self, key: &Key) -> Result<Option<Record>, StorageError> {
        Ok(self.lock().record(key).cloned())
    }

    // Nothing to wait for: the engine calls these instead of the `async` ones, which
    // would cost a boxed future each.
    fn read_now(&self, key: &Key) -> Option<Result<Option<Record>, StorageError>> {
        Some(Ok(self.lock().record(key).cloned()))
    }

    fn write_value_now<'a>(&self, put: OwnedPut<'a>) -> Result<PutAnswer, OwnedPut<'a>> {
        let mut items = self.lock();
        self.hooks.fire(&mut items, put.key);
        Ok(apply_owned(&mut items, put))
    }

    fn identity(&self) -> String {
        format!("memory store #{}", self.lock().id)
    }

    async fn read_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        let items = self.lock();
        Ok(keys.iter().map(|key| items.record(key).cloned()).collect())
    }

    async fn read_range(&self, request: &RangeRequest<'_>) -> Result<RangePage, StorageError> {
        Ok(crate::range::read(&self.lock(), request))
    }

    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        let mut items = self.lock();
        self.hooks.fire(&mut items, write.key);
        Ok(apply(&mut items, write))
    }

    async fn write_value(&self, put: OwnedPut<'_>) -> PutAnswer {
        let mut items = self.lock();
        self.hooks.fire(&mut items, put.key);
        apply_owned(&mut items, put)
    }

    async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
        let mut items = self.lock();
        for write in writes {
            self.hooks.fire(&mut items, write.key);
        }
        // Judge every write before applying any, so the transaction is all or nothing.
        let current: Vec<Held> = writes
            .iter()
            .map(|w| Held::of(items.record(w.key)))
            .collect();
        let refused: Vec<(usize, Option<Record>)> = writes
            .iter()
            .zip(&current)
            .enumerate()
            .filter(|(_, (write, held))| write.decide(**held) == Decision::Refuse)
            .map(|(index, (write, _))| (index, items.record(write.key).cloned()))
            .collect();
        if !refused.is_empty() {
            return Ok(CommitOutcome::Refused { current: refused });
        }
        for write in writes {
            apply(&mut items, write);
        }
        Ok(CommitOutcome::Applied { previous: current })
    }

    async fn purge_tombstones(&self, older_than: Duration) -> Result<u64, StorageError> {
        let mut items = self.lock();
        if !items.tombstones {
            return Err(StorageError::not_applied(
                optimist_core::ErrorKind::Rejected,
                "this memory store keeps no tombstones (Capabilities::tombstones is off)",
            ));
        }
        let now = Instant::now();
        let old: Vec<Key> = items
            .entries
            .iter()
            .filter(|(_, entry)| {
                entry
                    .buried_at
                    .is_some_and(|at| now.saturating_duration_since(at) > older_than)
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in &old {
            items.remove(key);
        }
        Ok(old.len() as u64)
    }
}

//! A copy of the memory backend's logic with one switchable bug: each [`Bug`] is a
//! mistake seen in real optimistic-locking code. Without a bug it is a correct store,
//! and the mutant test checks that the whole suite passes it before it counts what
//! the suite catches.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use optimist_core::{
    Capabilities, Conflict, Error, ErrorKind, Key, OpFailure, Operation, Page, QueryOptions,
    Record, Result, ScanOptions, SortRange, StoreFuture, TxAction, TxOp, Value, Version, Versioned,
    VersionedStore, async_trait, validate,
};

use crate::reads::Snapshot;

/// The bug a mutant carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// No bug: the reference behaviour.
    None,
    /// Update overwrites whatever version is there (a view repository that wrote the new
    /// version without checking the old one).
    UpdateWithoutVersionCheck,
    /// Delete removes whatever version is there (the Java v2 client's default).
    DeleteWithoutVersionCheck,
    /// Insert on a present key overwrites it (an upsert where a create was meant).
    InsertOverwrites,
    /// Update and delete check the version, await, then write: a non-atomic
    /// compare-and-swap.
    NonAtomicCompareAndSwap,
    /// Put replaces the value but leaves the version where it was.
    PutKeepsVersion,
    /// A refused transaction keeps the ops before the first failing one.
    TransactionAppliesOpsBeforeFailure,
    /// Get sometimes answers the item as it was before the last completed write (a
    /// read from a lagging replica).
    StaleGet,
    /// Conflicts carry a made-up item instead of the current one (a backend that does
    /// not read it back).
    ConflictWithoutCurrentItem,
    /// The version counter is too narrow: an update after version 3 wraps to 1, reusing
    /// a version number a client may still hold.
    VersionReusedAfterUpdate,
    /// Keys compare without regard to letter case (a case-insensitive collation).
    KeysIgnoreCase,
    /// Keys compare without their trailing spaces (SQL `CHAR` columns, `PAD SPACE`
    /// collations).
    KeysIgnoreTrailingSpaces,
    /// A query or scan page resumes after the first item it did not answer, so that
    /// item is skipped (an off-by-one at the page boundary).
    QuerySkipsAtPageBoundary,
    /// A query or scan page starts at the key the last one ended at, included (`>=`
    /// where `>` was meant), so that item comes twice.
    QueryRepeatsAtPageBoundary,
    /// A query reads ascending whatever the direction asked.
    QueryIgnoresDescending,
    /// `get_many` answers in the store's key order, not in the order asked.
    GetManyOutOfOrder,
    /// Update of a missing key creates it (an upsert where an update was meant: a
    /// write with no condition on the item's existence).
    UpdateCreatesMissing,
    /// A refused update reports its conflict, but its value replaced the item's all
    /// the same, under the version the item had (a store that writes the value
    /// unconditionally and only the version under the condition).
    ConflictStillWrites,
    /// A transaction checks every condition at once, then applies its ops one by one,
    /// letting other calls in between (a commit that is atomic on failure only): a
    /// reader sees it half applied, and a concurrent transaction's write in between
    /// is overwritten unchecked.
    TransactionNotIsolated,
}

impl Bug {
    /// Every bug, the reference first.
    pub const ALL: [Bug; 19] = [
        Bug::None,
        Bug::UpdateWithoutVersionCheck,
        Bug::DeleteWithoutVersionCheck,
        Bug::InsertOverwrites,
        Bug::NonAtomicCompareAndSwap,
        Bug::PutKeepsVersion,
        Bug::TransactionAppliesOpsBeforeFailure,
        Bug::StaleGet,
        Bug::ConflictWithoutCurrentItem,
        Bug::VersionReusedAfterUpdate,
        Bug::KeysIgnoreCase,
        Bug::KeysIgnoreTrailingSpaces,
        Bug::QuerySkipsAtPageBoundary,
        Bug::QueryRepeatsAtPageBoundary,
        Bug::QueryIgnoresDescending,
        Bug::GetManyOutOfOrder,
        Bug::UpdateCreatesMissing,
        Bug::ConflictStillWrites,
        Bug::TransactionNotIsolated,
    ];
}

#[derive(Default)]
struct Items {
    now: HashMap<Key, Versioned<Value>>,
    /// Each key's item before its last write (`None`: absent), for [`Bug::StaleGet`].
    before: HashMap<Key, Option<Versioned<Value>>>,
}

impl Items {
    fn set(&mut self, key: &Key, item: Option<Versioned<Value>>) {
        let old = match item {
            Some(item) => self.now.insert(key.clone(), item),
            None => self.now.remove(key),
        };
        self.before.insert(key.clone(), old);
    }
}

/// The mutant store.
pub struct MutantStore {
    bug: Bug,
    /// Tells this store's cursors from another's.
    id: u64,
    items: Mutex<Items>,
    caps: Capabilities,
    coin: AtomicU64,
}

impl MutantStore {
    pub fn new(bug: Bug) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Self {
            bug,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            items: Mutex::default(),
            caps: Capabilities::new(),
            coin: AtomicU64::new(0x2545_F491_4F6C_DD1D),
        }
    }

    /// The key the map holds the item under: the key itself, or the key as a buggy
    /// encoding folds it.
    fn stored(&self, key: &Key) -> Key {
        let fold = |part: &str| match self.bug {
            Bug::KeysIgnoreCase => part.to_lowercase(),
            Bug::KeysIgnoreTrailingSpaces => part.trim_end_matches(' ').to_string(),
            _ => part.to_string(),
        };
        match key.sort() {
            Some(sort) => Key::with_sort(fold(key.partition()), fold(sort)),
            None => Key::new(fold(key.partition())),
        }
    }

    /// Its items as they are now, for one read beyond one key.
    fn snapshot(&self) -> Snapshot {
        let records = self
            .lock()
            .now
            .iter()
            .map(|(key, item)| (key.clone(), Record::item(item.value.clone(), item.version)))
            .collect();
        Snapshot {
            bug: self.bug,
            id: self.id,
            caps: self.caps.clone(),
            records,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Items> {
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One time in three (an xorshift coin: no shared RNG needed).
    fn one_in_three(&self) -> bool {
        let mut x = self.coin.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.coin.store(x, Ordering::Relaxed);
        x % 3 == 0
    }

    fn conflict_item(&self, item: &Versioned<Value>) -> Versioned<Value> {
        if self.bug == Bug::ConflictWithoutCurrentItem {
            Versioned::new(Value::Null, Version::UNVERSIONED)
        } else {
            item.clone()
        }
    }

    fn condition(&self, action: &TxAction, current: Option<&Versioned<Value>>) -> Option<Conflict> {
        let bug = self.bug;
        match (action, current) {
            (TxAction::Insert(_), Some(_)) if bug == Bug::InsertOverwrites => None,
            (TxAction::Insert(_), Some(item)) => Some(Conflict::AlreadyExists {
                current: self.conflict_item(item),
            }),
            (TxAction::Update { .. }, None) if bug == Bug::UpdateCreatesMissing => None,
            (TxAction::Update { .. } | TxAction::Delete { .. } | TxAction::Check { .. }, None) => {
                Some(Conflict::NotFound)
            }
            (TxAction::Update { .. }, Some(_)) if bug == Bug::UpdateWithoutVersionCheck => None,
            (TxAction::Delete { .. }, Some(_)) if bug == Bug::DeleteWithoutVersionCheck => None,
            (
                TxAction::Update { expected, .. }
                | TxAction::Delete { expected }
                | TxAction::Check { expected },
                Some(item),
            ) if item.version != *expected => Some(Conflict::VersionMismatch {
                expected: *expected,
                current: self.conflict_item(item),
            }),
            _ => None,
        }
    }

    fn apply(&self, items: &mut Items, key: &Key, action: TxAction) -> Option<Version> {
        let previous = items.now.get(key).map(|i| i.version);
        let next = |p: Option<Version>| p.and_then(Version::next).unwrap_or(Version::FIRST);
        match action {
            TxAction::Insert(value) => {
                let version = if self.bug == Bug::InsertOverwrites {
                    Version::FIRST
                } else {
                    next(previous)
                };
                items.set(key, Some(Versioned::new(value, version)));
                Some(version)
            }
            TxAction::Update { value, .. } => {
                let version = match previous {
                    Some(v) if self.bug == Bug::VersionReusedAfterUpdate && v.get() >= 3 => {
                        Version::FIRST
                    }
                    p => next(p),
                };
                items.set(key, Some(Versioned::new(value, version)));
                Some(version)
            }
            TxAction::Put(value) => {
                let version = match previous {
                    Some(v) if self.bug == Bug::PutKeepsVersion => v,
                    p => next(p),
                };
                items.set(key, Some(Versioned::new(value, version)));
                Some(version)
            }
            TxAction::Check { expected } => Some(expected),
            TxAction::Delete { .. } | TxAction::Remove => {
                items.set(key, None);
                None
            }
        }
    }

    async fn single(&self, key: &Key, action: TxAction) -> Result<Option<Version>> {
        let operation = action.operation();
        match action.value() {
            Some(value) => validate::write(operation, key, value, &self.caps)?,
            None => validate::key(operation, key, &self.caps)?,
        }
        let key = &self.stored(key);
        if self.bug == Bug::NonAtomicCompareAndSwap {
            {
                let items = self.lock();
                if let Some(conflict) = self.condition(&action, items.now.get(key)) {
                    return Err(Error::conflict(operation, key.clone(), conflict));
                }
            }
            // The bug: another writer can get in between the check and the write.
            tokio::task::yield_now().await;
            let mut items = self.lock();
            return Ok(self.apply(&mut items, key, action));
        }
        let mut items = self.lock();
        if let Some(conflict) = self.condition(&action, items.now.get(key)) {
            // The bug: the value is written whatever the version, which stays.
            if let (Bug::ConflictStillWrites, TxAction::Update { value, .. }) = (self.bug, &action)
            {
                let kept = items.now.get(key).map(|item| item.version);
                if let Some(version) = kept {
                    items.set(key, Some(Versioned::new(value.clone(), version)));
                }
            }
            return Err(Error::conflict(operation, key.clone(), conflict));
        }
        Ok(self.apply(&mut items, key, action))
    }
}

fn written(version: Option<Version>) -> Result<Version> {
    version.ok_or_else(|| {
        Error::backend(
            "mutant",
            Operation::Put,
            None,
            ErrorKind::Other,
            "write left no item",
        )
    })
}

#[async_trait]
impl VersionedStore for MutantStore {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>> {
        StoreFuture::new(async move {
            validate::key(Operation::Get, key, &self.caps)?;
            let key = &self.stored(key);
            let items = self.lock();
            if self.bug == Bug::StaleGet && self.one_in_three() {
                if let Some(before) = items.before.get(key) {
                    return Ok(before.clone());
                }
            }
            Ok(items.now.get(key).cloned())
        })
    }

    fn insert<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move { written(self.single(key, TxAction::Insert(value)).await?) })
    }

    fn update<'a>(
        &'a self,
        key: &'a Key,
        expected: Version,
        value: Value,
    ) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            written(
                self.single(key, TxAction::Update { expected, value })
                    .await?,
            )
        })
    }

    fn delete<'a>(&'a self, key: &'a Key, expected: Version) -> StoreFuture<'a, ()> {
        StoreFuture::new(async move {
            self.single(key, TxAction::Delete { expected })
                .await
                .map(|_| ())
        })
    }

    fn put<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move { written(self.single(key, TxAction::Put(value)).await?) })
    }

    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Version>> {
        StoreFuture::new(async move {
            validate::key(Operation::Remove, key, &self.caps)?;
            let key = &self.stored(key);
            let mut items = self.lock();
            let removed = items.now.get(key).map(|i| i.version);
            if removed.is_some() {
                items.set(key, None);
            }
            Ok(removed)
        })
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Value>>>> {
        let keys: Vec<Key> = keys.iter().map(|key| self.stored(key)).collect();
        self.snapshot().get_many(&keys).await
    }

    async fn query(
        &self,
        partition: &str,
        range: SortRange,
        options: QueryOptions,
    ) -> Result<Page> {
        self.snapshot().query(partition, range, options).await
    }

    async fn scan(&self, options: ScanOptions) -> Result<Page> {
        self.snapshot().scan(options).await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        validate::transaction(&ops, &self.caps)?;
        let ops: Vec<TxOp> = ops
            .into_iter()
            .map(|op| {
                let (key, action) = op.into_parts();
                TxOp::new(self.stored(&key), action)
            })
            .collect();
        if self.bug != Bug::TransactionNotIsolated {
            return self
                .commit(ops, true)
                .map(|applied| applied.unwrap_or_default());
        }
        // The bug: the conditions hold now, and other calls get in between the ops.
        self.commit(ops.clone(), false)?;
        let mut versions = Vec::with_capacity(ops.len());
        for op in ops {
            tokio::task::yield_now().await;
            let (key, action) = op.into_parts();
            versions.push(self.apply(&mut self.lock(), &key, action));
        }
        Ok(versions)
    }
}

impl MutantStore {
    /// Checks every op's condition under one lock and, if `apply`, applies them all:
    /// their versions (`None` when not applied).
    fn commit(&self, ops: Vec<TxOp>, apply: bool) -> Result<Option<Vec<Option<Version>>>> {
        let mut items = self.lock();
        let failures: Vec<OpFailure> = ops
            .iter()
            .enumerate()
            .filter_map(|(index, op)| {
                self.condition(op.action(), items.now.get(op.key()))
                    .map(|conflict| OpFailure {
                        index,
                        key: op.key().clone(),
                        conflict,
                    })
            })
            .collect();
        if let Some(first) = failures.first() {
            if self.bug == Bug::TransactionAppliesOpsBeforeFailure {
                for op in ops.into_iter().take(first.index) {
                    let (key, action) = op.into_parts();
                    self.apply(&mut items, &key, action);
                }
            }
            return Err(Error::TransactionConflict { failures });
        }
        Ok(apply.then(|| {
            ops.into_iter()
                .map(|op| {
                    let (key, action) = op.into_parts();
                    self.apply(&mut items, &key, action)
                })
                .collect()
        }))
    }
}

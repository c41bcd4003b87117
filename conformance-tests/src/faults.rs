//! Fault injection: [`FaultyStore`] wraps a store and, per write, passes it through,
//! fails it before sending (nothing applied, a retryable backend error), applies it
//! and then loses the answer (`Indeterminate`), or delays it. Seeded, so a failing run
//! can be replayed. Histories run through it must still check as linearizable, with
//! `Indeterminate` calls treated as maybe applied (contract R12, R13), like FoundationDB's
//! `commit_unknown_result`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use optimist_core::{
    Capabilities, Error, ErrorKind, Key, Operation, Page, QueryOptions, Result, ScanOptions,
    SortRange, StoreFuture, TxOp, Value, Version, Versioned, VersionedStore, async_trait,
};

use crate::rng::SplitMix64;

/// How often each fault happens, in percent of writes; the rest pass through.
///
/// ```
/// let plan = optimist_conformance::faults::FaultPlan::default();
/// assert!(plan.fail_before + plan.indeterminate_after + plan.delay < 100);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultPlan {
    /// Percent of writes refused before they are sent: nothing is applied, and the
    /// caller gets a retryable `Backend` error.
    pub fail_before: u64,
    /// Percent of writes sent and applied (if their condition holds), whose answer is
    /// then replaced by `Indeterminate`.
    pub indeterminate_after: u64,
    /// Percent of writes (and reads) delayed by up to `max_delay` before they are sent.
    pub delay: u64,
    /// The longest injected delay.
    pub max_delay: Duration,
}

impl Default for FaultPlan {
    fn default() -> Self {
        Self {
            fail_before: 15,
            indeterminate_after: 15,
            delay: 20,
            max_delay: Duration::from_millis(2),
        }
    }
}

/// How many faults a [`FaultyStore`] injected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Writes seen, whatever happened to them.
    pub writes: u64,
    /// Writes passed through untouched.
    pub passed: u64,
    /// Writes refused before sending.
    pub failed_before: u64,
    /// Writes applied whose answer was replaced by `Indeterminate`.
    pub indeterminate: u64,
    /// Calls delayed.
    pub delayed: u64,
}

enum Fault {
    Pass,
    FailBefore,
    IndeterminateAfter,
    Delay(Duration),
}

/// A store that injects faults into another's writes; see the [module](self) docs.
///
/// ```
/// use optimist_conformance::faults::{FaultPlan, FaultyStore};
/// use optimist_core::{Key, VersionedStore};
/// use serde_json::json;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let plan = FaultPlan { fail_before: 100, ..FaultPlan::default() };
/// let store = FaultyStore::new(optimist_memory::MemoryStore::new(), 7, plan);
/// let err = store.put(&Key::new("k"), json!(1)).await.unwrap_err();
/// assert!(err.is_retryable());
/// assert!(store.inner().get(&Key::new("k")).await.unwrap().is_none(), "nothing applied");
/// assert_eq!(store.counts().failed_before, 1);
/// # });
/// ```
#[derive(Debug)]
pub struct FaultyStore<S> {
    inner: S,
    plan: FaultPlan,
    rng: Mutex<SplitMix64>,
    writes: AtomicU64,
    passed: AtomicU64,
    failed_before: AtomicU64,
    indeterminate: AtomicU64,
    delayed: AtomicU64,
}

impl<S: VersionedStore> FaultyStore<S> {
    /// Wraps `inner`, drawing faults from `seed` as `plan` says.
    pub fn new(inner: S, seed: u64, plan: FaultPlan) -> Self {
        Self {
            inner,
            plan,
            rng: Mutex::new(SplitMix64::new(seed)),
            writes: AtomicU64::new(0),
            passed: AtomicU64::new(0),
            failed_before: AtomicU64::new(0),
            indeterminate: AtomicU64::new(0),
            delayed: AtomicU64::new(0),
        }
    }

    /// The wrapped store, to read what really happened.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The faults injected so far.
    pub fn counts(&self) -> FaultCounts {
        FaultCounts {
            writes: self.writes.load(Ordering::Relaxed),
            passed: self.passed.load(Ordering::Relaxed),
            failed_before: self.failed_before.load(Ordering::Relaxed),
            indeterminate: self.indeterminate.load(Ordering::Relaxed),
            delayed: self.delayed.load(Ordering::Relaxed),
        }
    }

    fn draw(&self, write: bool) -> Fault {
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        let roll = rng.below(100);
        let p = &self.plan;
        if write && roll < p.fail_before {
            Fault::FailBefore
        } else if write && roll < p.fail_before + p.indeterminate_after {
            Fault::IndeterminateAfter
        } else if roll < p.fail_before + p.indeterminate_after + p.delay {
            let nanos = u64::try_from(p.max_delay.as_nanos()).unwrap_or(u64::MAX);
            Fault::Delay(Duration::from_nanos(rng.below(nanos.saturating_add(1))))
        } else {
            Fault::Pass
        }
    }

    /// Reads are only delayed: a failed read has nothing to settle.
    async fn read_delay(&self) {
        if let Fault::Delay(pause) = self.draw(false) {
            self.delayed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(pause).await;
        }
    }

    /// Runs a write under a drawn fault.
    async fn write<T, F>(&self, operation: Operation, key: Option<&Key>, call: F) -> Result<T>
    where
        F: std::future::Future<Output = Result<T>> + Send,
    {
        self.writes.fetch_add(1, Ordering::Relaxed);
        match self.draw(true) {
            Fault::FailBefore => {
                self.failed_before.fetch_add(1, Ordering::Relaxed);
                Err(Error::backend(
                    "faulty",
                    operation,
                    key,
                    ErrorKind::Unavailable,
                    "injected fault: refused before sending, nothing applied",
                ))
            }
            Fault::IndeterminateAfter => {
                // The write really runs; only its answer is lost.
                let _ = call.await;
                self.indeterminate.fetch_add(1, Ordering::Relaxed);
                Err(Error::indeterminate(
                    "faulty",
                    operation,
                    key,
                    "injected fault: sent and maybe applied, answer lost",
                ))
            }
            Fault::Delay(pause) => {
                self.delayed.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(pause).await;
                call.await
            }
            Fault::Pass => {
                self.passed.fetch_add(1, Ordering::Relaxed);
                call.await
            }
        }
    }
}

#[async_trait]
impl<S: VersionedStore> VersionedStore for FaultyStore<S> {
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>> {
        StoreFuture::new(async move {
            self.read_delay().await;
            self.inner.get(key).await
        })
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Value>>>> {
        self.read_delay().await;
        self.inner.get_many(keys).await
    }

    async fn query(
        &self,
        partition: &str,
        range: SortRange,
        options: QueryOptions,
    ) -> Result<Page> {
        self.read_delay().await;
        self.inner.query(partition, range, options).await
    }

    async fn scan(&self, options: ScanOptions) -> Result<Page> {
        self.read_delay().await;
        self.inner.scan(options).await
    }

    fn insert<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        StoreFuture::new(self.write(Operation::Insert, Some(key), self.inner.insert(key, value)))
    }

    fn update<'a>(
        &'a self,
        key: &'a Key,
        expected: Version,
        value: Value,
    ) -> StoreFuture<'a, Version> {
        StoreFuture::new(self.write(
            Operation::Update,
            Some(key),
            self.inner.update(key, expected, value),
        ))
    }

    fn delete<'a>(&'a self, key: &'a Key, expected: Version) -> StoreFuture<'a, ()> {
        StoreFuture::new(self.write(
            Operation::Delete,
            Some(key),
            self.inner.delete(key, expected),
        ))
    }

    fn put<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        StoreFuture::new(self.write(Operation::Put, Some(key), self.inner.put(key, value)))
    }

    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Version>> {
        StoreFuture::new(self.write(Operation::Remove, Some(key), self.inner.remove(key)))
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        self.write(Operation::Transact, None, self.inner.transact(ops))
            .await
    }
}

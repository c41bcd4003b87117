//! The workloads' own checks, on the memory store: a store that keeps its promises
//! passes, and stores with one classic lie each (a write applied but reported as a
//! retryable failure, success reported for a write never applied, a write landing
//! after its call returned) are caught. The proxy is started for the workloads'
//! sake but nothing goes through it: the faults here are the store's own lies.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use optimist_conformance::network::{FaultProxy, FaultRates};
use optimist_conformance::workloads::{self, Workload};
use optimist_core::{
    Capabilities, Error, ErrorKind, Key, Operation, Page, QueryOptions, Result, ScanOptions,
    SortRange, StoreFuture, TxOp, Value, Version, Versioned, VersionedStore, async_trait,
};
use optimist_memory::MemoryStore;

/// What a [`Lying`] store does to every third write.
#[derive(Clone, Copy, PartialEq)]
enum Lie {
    /// Applies it, then answers a retryable failure ("nothing written").
    AppliedButRetryable,
    /// Answers success without applying it.
    OkButNotApplied,
    /// Answers `Indeterminate` and applies it 800 ms later: a write that lands late.
    Late,
}

/// A memory store that lies about every third write.
struct Lying {
    inner: Arc<MemoryStore>,
    lie: Lie,
    writes: AtomicU64,
}

impl Lying {
    fn new(lie: Lie) -> Arc<Self> {
        Arc::new(Self {
            inner: Arc::new(MemoryStore::new()),
            lie,
            writes: AtomicU64::new(0),
        })
    }

    /// The lie for this write, if it is a third one.
    fn lie(&self) -> Option<Lie> {
        (self.writes.fetch_add(1, Ordering::SeqCst) % 3 == 2).then_some(self.lie)
    }
}

fn retryable(operation: Operation, key: Option<&Key>) -> Error {
    Error::backend(
        "lying",
        operation,
        key,
        ErrorKind::Unavailable,
        "a lie: it was applied",
    )
}

#[async_trait]
impl VersionedStore for Lying {
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>> {
        self.inner.get(key)
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
            match self.lie() {
                None => self.inner.update(key, expected, value).await,
                Some(Lie::AppliedButRetryable) => {
                    self.inner.update(key, expected, value).await?;
                    Err(retryable(Operation::Update, Some(key)))
                }
                Some(Lie::OkButNotApplied) => Ok(expected.next().unwrap()),
                Some(Lie::Late) => {
                    let (inner, key2) = (Arc::clone(&self.inner), key.clone());
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(800)).await;
                        let _ = inner.update(&key2, expected, value).await;
                    });
                    Err(Error::indeterminate(
                        "lying",
                        Operation::Update,
                        Some(key),
                        "a lie: it lands later",
                    ))
                }
            }
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
        match self.lie() {
            Some(Lie::AppliedButRetryable) => {
                self.inner.transact(ops).await?;
                Err(retryable(Operation::Transact, None))
            }
            _ => self.inner.transact(ops).await,
        }
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

/// A proxy nothing goes through, for the workloads' bookkeeping.
async fn idle_proxy() -> FaultProxy {
    FaultProxy::start("127.0.0.1:9").await.unwrap()
}

fn workload(clients: usize, calls: usize) -> Workload {
    Workload {
        clients,
        calls,
        settle: Duration::from_millis(1500),
        ..Workload::new(1, FaultRates::none())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_honest_store_keeps_every_promise() {
    let store = Arc::new(MemoryStore::new());
    let proxy = idle_proxy().await;
    let counters = workloads::counters(Arc::clone(&store), &proxy, &workload(4, 10))
        .await
        .unwrap();
    assert!(counters.problems.is_empty(), "{counters}");
    assert_eq!((counters.figures.calls, counters.figures.ok), (40, 40));
    let transfers = workloads::transfers(Arc::clone(&store), &proxy, &workload(4, 10))
        .await
        .unwrap();
    assert!(transfers.problems.is_empty(), "{transfers}");
    let histories = workloads::histories(store, &proxy, &workload(4, 10))
        .await
        .unwrap();
    assert_eq!(histories.problem, None, "{histories}");
    assert_eq!(histories.histories, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_applied_but_reported_retryable_shows_as_duplicated() {
    let proxy = idle_proxy().await;
    let report = workloads::counters(
        Lying::new(Lie::AppliedButRetryable),
        &proxy,
        &workload(2, 10),
    )
    .await
    .unwrap();
    // update_with believed "nothing written", read again and applied the change again.
    assert!(report.figures.duplicated > 0, "{report}");
    assert!(report.figures.false_conflicts > 0, "{report}");
    assert!(!report.problems.is_empty());

    let report = workloads::transfers(
        Lying::new(Lie::AppliedButRetryable),
        &proxy,
        &workload(2, 10),
    )
    .await
    .unwrap();
    assert!(report.figures.failed_but_applied > 0, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_for_a_write_never_applied_shows_as_lost() {
    let proxy = idle_proxy().await;
    let report = workloads::counters(Lying::new(Lie::OkButNotApplied), &proxy, &workload(1, 6))
        .await
        .unwrap();
    assert_eq!(report.figures.lost, 2, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_landing_after_its_call_returned_shows_as_late() {
    let proxy = idle_proxy().await;
    // Three calls by one client: the third is answered Indeterminate and lands 800 ms
    // later, between the two final reads.
    let report = workloads::counters(Lying::new(Lie::Late), &proxy, &workload(1, 3))
        .await
        .unwrap();
    assert_eq!(report.figures.late, 1, "{report}");
    assert_eq!(report.figures.indeterminate, 1, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_applied_but_reported_failed_breaks_linearizability() {
    let proxy = idle_proxy().await;
    let report = workloads::histories(
        Lying::new(Lie::AppliedButRetryable),
        &proxy,
        &workload(4, 40),
    )
    .await
    .unwrap();
    assert!(report.problem.is_some(), "{report}");
}

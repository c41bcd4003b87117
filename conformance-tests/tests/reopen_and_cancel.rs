//! The durability and cancellation cases catch what they are for: a reopen that loses
//! items or restarts the versions fails the durability case, a transaction that a
//! dropped future leaves half applied fails the cancellation case, and the correct
//! stores pass; without a reopen the durability case is ignored with the reason.

#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use std::time::Duration;

use optimist_conformance::cases::{CaseOutcome, run_all};
use optimist_conformance::{RunOptions, StoreFactory, Unavailable, factory_fn};
use optimist_core::{
    Capabilities, CommitOutcome, Decision, Held, Key, Outcome, Record, ScanOptions, Storage,
    StorageError, VersionedStore, Write, async_trait,
};
use optimist_memory::MemoryStore;

const DURABILITY: &str = "r4_completed_writes_survive_reopening_the_store";
const CANCEL_WRITES: &str = "r12_cancelled_writes_apply_whole_or_not_at_all";
const CANCEL_TX: &str = "r12_cancelled_transactions_apply_whole_or_not_at_all";

fn options() -> RunOptions {
    RunOptions {
        regressions: None,
        timeout: Some(Duration::from_secs(120)),
    }
}

fn outcome_of<F: StoreFactory>(factory: &F, case: &str) -> CaseOutcome {
    let results = run_all(factory, &options(), |c| c.name == case);
    match results.as_slice() {
        [(_, outcome)] => outcome.clone(),
        other => panic!("expected the one case {case}, got {other:?}"),
    }
}

fn memory() -> impl Fn() -> std::future::Ready<Result<MemoryStore, Unavailable>> + Send + Sync {
    || std::future::ready(Ok(MemoryStore::new()))
}

#[test]
fn a_reopen_that_keeps_the_items_passes_in_both_modes() {
    // Clones of a memory store share its map: the items survive the old handle.
    let factory = factory_fn("memory, reopened as a clone", memory())
        .with_reopen("a clone of the same map", |store: MemoryStore| async move {
            Ok(store.clone())
        });
    assert_eq!(outcome_of(&factory, DURABILITY), CaseOutcome::Passed);
    let tombstones = factory_fn("memory in tombstone mode, reopened as a clone", || async {
        Ok::<_, Unavailable>(MemoryStore::with_capabilities(
            Capabilities::new().with_tombstones(true),
        ))
    })
    .with_reopen("a clone of the same map", |store: MemoryStore| async move {
        Ok(store.clone())
    });
    assert_eq!(outcome_of(&tombstones, DURABILITY), CaseOutcome::Passed);
}

#[test]
fn a_reopen_that_loses_the_items_fails_naming_the_rule_and_the_operations() {
    let factory = factory_fn("memory, reopened empty", memory())
        .with_reopen("a new, empty map", |_store: MemoryStore| async {
            Ok(MemoryStore::new())
        });
    match outcome_of(&factory, DURABILITY) {
        CaseOutcome::Failed(why) => {
            assert!(why.contains("contract R4"), "{why}");
            assert!(why.contains("reopen: a new, empty map"), "{why}");
            assert!(why.contains("\ngot: nothing\n"), "{why}");
            assert!(why.contains("insert \"updated\""), "{why}");
        }
        other => panic!("the durability case must fail a store that forgets: {other:?}"),
    }
}

#[test]
fn a_reopen_that_restarts_the_versions_fails() {
    // Every item copied into a fresh map with put: values kept, versions back to 1.
    let factory = factory_fn("memory, copied at version 1", memory()).with_reopen(
        "a copy of every item at version 1",
        |store: MemoryStore| async move {
            let copy = MemoryStore::new();
            let page = store.scan(ScanOptions::new().limit(1000)).await.unwrap();
            assert!(page.next.is_none(), "one page holds the case's items");
            for (key, item) in page.items {
                copy.put(&key, item.value).await.unwrap();
            }
            Ok(copy)
        },
    );
    match outcome_of(&factory, DURABILITY) {
        CaseOutcome::Failed(why) => {
            assert!(why.contains("contract R4"), "{why}");
            assert!(why.contains("at version 1"), "{why}");
        }
        other => panic!("the durability case must fail a store that restarts versions: {other:?}"),
    }
}

#[test]
fn without_a_reopen_the_durability_case_is_unsupported_not_passed() {
    let factory = factory_fn("memory", memory());
    assert_eq!(outcome_of(&factory, DURABILITY), CaseOutcome::Unsupported);
    let factory = factory_fn("memory", memory()).without_reopen("nothing survives the process");
    assert_eq!(outcome_of(&factory, DURABILITY), CaseOutcome::Unsupported);
}

/// A memory store behind an async lock, whose every call waits once for the scheduler
/// before it acts, so a caller's timeout or `select!` can drop it half way. Correct
/// unless `torn`: then a transaction judges every write, then applies them one at a
/// time with a wait between, still under the lock, so no other caller ever sees it
/// half done, but a caller that drops it half way leaves it so.
struct Stepping {
    inner: MemoryStore,
    lock: tokio::sync::Mutex<()>,
    torn: bool,
}

impl Stepping {
    fn new(torn: bool) -> Self {
        Self {
            inner: MemoryStore::new(),
            lock: tokio::sync::Mutex::new(()),
            torn,
        }
    }
}

#[async_trait]
impl Storage for Stepping {
    fn backend_name(&self) -> &'static str {
        "stepping memory"
    }

    fn capabilities(&self) -> &Capabilities {
        Storage::capabilities(&self.inner)
    }

    async fn read(&self, key: &Key) -> Result<Option<Record>, StorageError> {
        let _turn = self.lock.lock().await;
        tokio::task::yield_now().await;
        Storage::read(&self.inner, key).await
    }

    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        let _turn = self.lock.lock().await;
        tokio::task::yield_now().await;
        Storage::write(&self.inner, write).await
    }

    async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
        let _turn = self.lock.lock().await;
        tokio::task::yield_now().await;
        if !self.torn {
            return Storage::commit(&self.inner, writes).await;
        }
        let mut previous = Vec::new();
        let mut refused = Vec::new();
        for (index, write) in writes.iter().enumerate() {
            let record = Storage::read(&self.inner, write.key).await?;
            let held = Held::of(record.as_ref());
            if write.decide(held) == Decision::Refuse {
                refused.push((index, record));
            }
            previous.push(held);
        }
        if !refused.is_empty() {
            return Ok(CommitOutcome::Refused { current: refused });
        }
        for write in writes {
            Storage::write(&self.inner, write).await?;
            tokio::task::yield_now().await;
        }
        Ok(CommitOutcome::Applied { previous })
    }
}

#[test]
fn a_store_that_waits_but_applies_whole_passes_the_cancellation_cases() {
    let factory = factory_fn("stepping memory", || async {
        Ok::<_, Unavailable>(Stepping::new(false))
    });
    let results = run_all(&factory, &options(), |c| {
        c.name == CANCEL_WRITES || c.name == CANCEL_TX
    });
    assert_eq!(
        results,
        vec![
            (CANCEL_WRITES, CaseOutcome::Passed),
            (CANCEL_TX, CaseOutcome::Passed)
        ]
    );
}

#[test]
fn a_transaction_left_half_applied_by_a_dropped_future_fails() {
    let factory = factory_fn("stepping memory, torn transactions", || async {
        Ok::<_, Unavailable>(Stepping::new(true))
    });
    // Without cancellation the torn store is correct: the lock hides the steps.
    assert_eq!(
        outcome_of(&factory, "r13_concurrent_transactions_are_linearizable"),
        CaseOutcome::Passed
    );
    match outcome_of(&factory, CANCEL_TX) {
        CaseOutcome::Failed(why) => {
            assert!(why.contains("contract R12, R13"), "{why}");
            assert!(
                why.contains("cancelled: dropped before it answered"),
                "{why}"
            );
        }
        other => panic!("a torn transaction must fail the cancellation case: {other:?}"),
    }
}

//! contract R12, R13: recorded concurrent histories checked for linearizability, plain and
//! with injected faults.

use std::sync::Arc;

use optimist_core::{Key, VersionedStore};

use crate::env;
use crate::faults::{FaultPlan, FaultyStore};
use crate::history::{PlanOptions, check_history_from, plan, run_plan};
use crate::model::State;
use crate::rng::SplitMix64;
use crate::support::key;
use crate::verdict::{check, fail};

/// Runs `env::histories()` generated histories and checks each.
async fn histories<S: VersionedStore + ?Sized + 'static>(
    store: Arc<S>,
    transactions: bool,
    label: &str,
) {
    let base = env::seed().unwrap_or_else(SplitMix64::fresh_seed);
    let options = PlanOptions {
        max_branch_ops: env::history_ops(),
        transactions,
        ..PlanOptions::default()
    };
    for n in 0..env::histories() {
        let seed = base.wrapping_add(n as u64);
        let plan = plan(&mut SplitMix64::new(seed), &options);
        let keys: Vec<Key> = (0..plan.keys)
            .map(|i| key(&*store, &format!("{label}-{base:x}-{n}-k{i}")))
            .collect();
        let history = match run_plan(Arc::clone(&store), keys, &plan).await {
            Ok(history) => history,
            Err(err) => fail(
                "the history's calls run to their end",
                format!("history {n} (OPTIMIST_SEED={base}): {err}"),
            ),
        };
        let initial = State::empty(plan.keys).with_tombstones(store.capabilities().tombstones);
        if let Err(failure) = check_history_from(&history, &initial) {
            fail(
                "the recorded history is linearizable: one sequential order of its calls, \
                 respecting real time, in which each call answers as the contract's rules say \
                 (Indeterminate calls applied once or never)",
                format!(
                    "history {n} of the run with OPTIMIST_SEED={base} (its own seed {seed}):\n{failure}"
                ),
            );
        }
    }
}

/// Runs the histories through a [`FaultyStore`] and checks faults were injected.
async fn faulty_histories<S: VersionedStore + 'static>(store: Arc<S>, transactions: bool) {
    let seed = env::seed().unwrap_or_else(SplitMix64::fresh_seed);
    let faulty = Arc::new(FaultyStore::new(store, seed, FaultPlan::default()));
    histories(Arc::clone(&faulty), transactions, "faulty").await;
    let counts = faulty.counts();
    // With 15% of each kind, 150 writes without one is a 1-in-10^10 event; fewer writes
    // (histories turned down for a slow server) prove less, and are not held to it.
    check(
        counts.writes < 150 || (counts.failed_before > 0 && counts.indeterminate > 0),
        "the fault injector fails some writes before they are sent and loses the answer of \
         others (15% each), so the histories prove something",
        || format!("it injected too little: {counts:?}"),
    );
}

/// contract R13: histories of single-key calls (get, insert, update, delete, put, remove)
/// from 2–4 parallel clients on three keys are linearizable. Checked per key.
pub async fn r13_concurrent_histories_are_linearizable<S: VersionedStore + 'static>(store: Arc<S>) {
    // contract R13
    histories(store, false, "lin").await;
}

/// contract R10, R13: histories mixing single calls and transactions across keys are
/// linearizable, transactions included. Checked as one history.
pub async fn r13_concurrent_transactions_are_linearizable<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    // contract R10 R13
    histories(store, true, "lin-tx").await;
}

/// contract R12, R13: with writes failing before they are sent, applied with their answer
/// lost (`Indeterminate`), or delayed, histories still check as linearizable: a failed
/// write had no effect and an `Indeterminate` one took effect once or never.
pub async fn r12_faulty_histories_are_linearizable<S: VersionedStore + 'static>(store: Arc<S>) {
    // contract R12 R13
    faulty_histories(store, false).await;
}

/// contract R10, R12, R13: the same with transactions.
pub async fn r12_faulty_transaction_histories_are_linearizable<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    // contract R10 R12 R13
    faulty_histories(store, true).await;
}

//! Generated concurrent histories run through the proxy and checked for
//! linearizability, `Indeterminate` calls taken as maybe applied at any time after
//! their start (contract R12, R13).

use std::fmt;
use std::sync::Arc;

use optimist_core::{Key, VersionedStore};

use super::Workload;
use crate::history::{Observed, PlanOptions, check_history_from, plan, run_plan};
use crate::model::State;
use crate::network::{FaultProxy, ProxyCounts};
use crate::rng::SplitMix64;

/// What [`histories`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryReport {
    /// The seed it ran with.
    pub seed: u64,
    /// Histories run and checked.
    pub histories: u64,
    /// Calls made in them.
    pub calls: u64,
    /// Calls that answered (success or a conflict).
    pub answered: u64,
    /// Calls that returned `Indeterminate`.
    pub indeterminate: u64,
    /// Calls that returned another error: nothing written.
    pub failed: u64,
    /// What the proxy did meanwhile.
    pub faults: ProxyCounts,
    /// The first history that is not linearizable (or could not be checked), with
    /// the whole history and the longest order found; `None` when every one is.
    pub problem: Option<String>,
}

impl fmt::Display for HistoryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "histories (seed {}): {} histories, {} calls: {} answered, {} Indeterminate, \
             {} failed (not applied); proxy: {}",
            self.seed,
            self.histories,
            self.calls,
            self.answered,
            self.indeterminate,
            self.failed,
            self.faults,
        )?;
        if let Some(problem) = &self.problem {
            write!(f, "\n  PROBLEM: {problem}")?;
        }
        Ok(())
    }
}

/// Runs `workload.calls` generated histories one after the other on `store`, which
/// reaches its server through `proxy`, under `workload.faults`: each history sets up
/// 3 keys, then 2 to `workload.clients` (at least 2) parallel clients make up to 5
/// calls each, transactions among them when the store has transactions. Each
/// history is checked against the sequential model (in tombstone mode if the store
/// is); the first that fails ends the run. The proxy is healed at the end.
///
/// An error if a client task failed or the proxy cannot accept again.
pub async fn histories<S: VersionedStore + 'static>(
    store: Arc<S>,
    proxy: &FaultProxy,
    workload: &Workload,
) -> Result<HistoryReport, String> {
    let options = PlanOptions {
        max_branches: workload.clients.max(2),
        transactions: store.capabilities().transactions,
        ..PlanOptions::default()
    };
    let mut report = HistoryReport {
        seed: workload.seed,
        histories: 0,
        calls: 0,
        answered: 0,
        indeterminate: 0,
        failed: 0,
        faults: ProxyCounts::default(),
        problem: None,
    };
    proxy.inject_randomly(workload.seed, workload.faults.clone());
    let mut rng = SplitMix64::new(workload.seed);
    for n in 0..workload.calls {
        let plan = plan(&mut rng, &options);
        let keys: Vec<Key> = (0..plan.keys)
            .map(|i| crate::support::key(&*store, &format!("history-{:x}-{n}-k{i}", workload.seed)))
            .collect();
        let history = run_plan(Arc::clone(&store), keys, &plan).await?;
        report.histories += 1;
        for call in &history {
            report.calls += 1;
            match call.observed {
                Observed::Answered(_) => report.answered += 1,
                // The workloads cancel nothing; a cancelled call is maybe applied too.
                Observed::Indeterminate | Observed::Cancelled => report.indeterminate += 1,
                Observed::Failed(_) | Observed::Unexpected(_) => report.failed += 1,
            }
        }
        let initial = State::empty(plan.keys).with_tombstones(store.capabilities().tombstones);
        if let Err(failure) = check_history_from(&history, &initial) {
            report.problem = Some(format!("history {n}: {failure}"));
            break;
        }
    }
    report.faults = proxy.counts();
    proxy
        .heal()
        .map_err(|err| format!("the proxy cannot accept again: {err}"))?;
    Ok(report)
}

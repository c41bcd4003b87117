//! Running a plan: the prefix one call after the other, then the branches in parallel
//! tasks released together, every call stamped from one global atomic counter when it
//! starts and when it answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use optimist_core::{Key, VersionedStore};
use tokio::sync::Barrier;

use super::exec::{Observed, execute};
use super::plan::HistoryPlan;
use crate::model::Op;

/// One call as it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    /// The branch that made it; `None` for the prefix.
    pub branch: Option<usize>,
    /// The call.
    pub op: Op,
    /// The counter's value when it was made.
    pub call: u64,
    /// The counter's value when it answered.
    pub at: u64,
    /// How it ended.
    pub observed: Observed,
}

async fn timed<S: VersionedStore + ?Sized>(
    clock: &AtomicU64,
    store: &S,
    keys: &[Key],
    branch: Option<usize>,
    op: &Op,
) -> Recorded {
    let call = clock.fetch_add(1, Ordering::SeqCst);
    let observed = execute(store, keys, op).await;
    let at = clock.fetch_add(1, Ordering::SeqCst);
    Recorded {
        branch,
        op: op.clone(),
        call,
        at,
        observed,
    }
}

/// Runs `plan` against `store`, key number `n` being `keys[n]`, and returns every call
/// in the order it was made. Must run on a multi-thread runtime for the branches to
/// overlap.
///
/// An error names a branch task that panicked or was cancelled.
pub async fn run_plan<S: VersionedStore + ?Sized + 'static>(
    store: Arc<S>,
    keys: Vec<Key>,
    plan: &HistoryPlan,
) -> Result<Vec<Recorded>, String> {
    let clock = Arc::new(AtomicU64::new(0));
    let keys = Arc::new(keys);
    let mut history = Vec::new();
    for op in &plan.prefix {
        history.push(timed(&clock, &*store, &keys, None, op).await);
    }
    let barrier = Arc::new(Barrier::new(plan.branches.len()));
    let tasks: Vec<_> = plan
        .branches
        .iter()
        .enumerate()
        .map(|(branch, ops)| {
            let (store, keys, clock, barrier) = (
                Arc::clone(&store),
                Arc::clone(&keys),
                Arc::clone(&clock),
                Arc::clone(&barrier),
            );
            let ops = ops.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let mut done = Vec::with_capacity(ops.len());
                for (op, yield_first) in &ops {
                    if *yield_first {
                        tokio::task::yield_now().await;
                    }
                    done.push(timed(&clock, &*store, &keys, Some(branch), op).await);
                }
                done
            })
        })
        .collect();
    for task in tasks {
        match task.await {
            Ok(done) => history.extend(done),
            Err(join) => return Err(format!("a branch task failed: {join}")),
        }
    }
    history.sort_by_key(|r| r.call);
    Ok(history)
}

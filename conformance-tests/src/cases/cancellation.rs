//! contract R12, R13 (R10): a caller that drops an operation's future half way (a
//! `tokio::time::timeout`, a `select!` whose other branch won, a cancelled request
//! handler) leaves no half-done write behind. Generated histories run with some
//! branches cutting their writes and transactions short at random points (after one
//! poll, after a few polls, after a short timeout) while the other branches write on;
//! each cancelled call counts as maybe applied (it may even land after it was dropped,
//! as an engine's `spawn_blocking` commit does), and the whole history, final reads of
//! every key included, must be linearizable: every cancelled call took effect whole or
//! not at all, transactions included, and the store answers correctly afterwards.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use optimist_core::{Key, VersionedStore};
use tokio::sync::Barrier;

use crate::PollBudget;
use crate::env;
use crate::history::{
    HistoryPlan, Observed, PlanOptions, Recorded, check_history_from, execute, plan,
};
use crate::model::{Act, MKey, Op, State};
use crate::rng::SplitMix64;
use crate::support::key;
use crate::verdict::{check, fail};

/// Where a call's future is dropped.
#[derive(Clone, Copy, Debug)]
enum Cut {
    /// `select!` (biased) against a branch that is ready at once: the call is polled
    /// once, then dropped if it did not finish.
    ReadyBranch,
    /// Polled this many times (woken each time by what it waits for), then dropped.
    Polls(u32),
    /// `tokio::time::timeout` of this many microseconds.
    Timeout(u64),
}

impl Cut {
    fn pick(rng: &mut SplitMix64) -> Self {
        match rng.below(4) {
            0 => Cut::ReadyBranch,
            // Most cuts fall after a few polls: in the middle of a call that awaits
            // several times (a pool, a statement, a commit), where a half-done write hides.
            1 | 2 => Cut::Polls(2 + u32::try_from(rng.below(4)).unwrap_or(0)),
            _ => Cut::Timeout(rng.below(2_000)),
        }
    }
}

/// Runs `call` until it answers or `cut` drops it (`None`).
async fn cut_short<F: Future>(call: F, cut: Cut) -> Option<F::Output> {
    match cut {
        Cut::ReadyBranch => {
            tokio::select! {
                biased;
                out = call => Some(out),
                () = std::future::ready(()) => None,
            }
        }
        Cut::Polls(polls) => PollBudget::new(call, polls).await,
        Cut::Timeout(micros) => tokio::time::timeout(Duration::from_micros(micros), call)
            .await
            .ok(),
    }
}

/// One call of a branch: run to its answer, or cut short.
async fn call<S: VersionedStore + ?Sized>(
    clock: &AtomicU64,
    store: &S,
    keys: &[Key],
    branch: Option<usize>,
    op: &Op,
    cut: Option<Cut>,
) -> Recorded {
    let started = clock.fetch_add(1, Ordering::SeqCst);
    let observed = match cut {
        None => execute(store, keys, op).await,
        Some(cut) => cut_short(execute(store, keys, op), cut)
            .await
            .unwrap_or(Observed::Cancelled),
    };
    let at = clock.fetch_add(1, Ordering::SeqCst);
    Recorded {
        branch,
        op: op.clone(),
        call: started,
        at,
        observed,
    }
}

/// Which calls of each branch are cut, and how: every branch but the first (which
/// writes on uncut) cuts each of its writes and transactions.
fn cuts(plan: &HistoryPlan, rng: &mut SplitMix64) -> Vec<Vec<Option<Cut>>> {
    plan.branches
        .iter()
        .enumerate()
        .map(|(b, ops)| {
            ops.iter()
                .map(|(op, _)| {
                    let write = !matches!(op, Op::Get(_));
                    (b > 0 && write).then(|| Cut::pick(rng))
                })
                .collect()
        })
        .collect()
}

/// A plan aimed at a half-done write: three keys at version 1, then a branch reading
/// them while the other's calls, each cut, would all succeed if left alone (updates,
/// deletes and puts on those keys; in transactions across them when `transactions`).
fn focused(transactions: bool, rng: &mut SplitMix64) -> HistoryPlan {
    let k = MKey::Slot;
    let mut value = 3;
    let mut next = || {
        value += 1;
        value
    };
    let prefix = (0..3)
        .map(|slot| Op::Write(k(slot), Act::Insert(slot as u64 + 1)))
        .collect();
    let cut: Vec<Op> = if transactions {
        vec![
            Op::Transact(vec![
                (
                    k(0),
                    Act::Update {
                        expected: 1,
                        value: next(),
                    },
                ),
                (k(1), Act::Delete { expected: 1 }),
                (k(2), Act::Put(next())),
            ]),
            Op::Transact(vec![(k(0), Act::Put(next())), (k(1), Act::Put(next()))]),
        ]
    } else {
        vec![
            Op::Write(
                k(0),
                Act::Update {
                    expected: 1,
                    value: next(),
                },
            ),
            Op::Write(k(1), Act::Put(next())),
            Op::Write(k(2), Act::Delete { expected: 1 }),
            Op::Write(k(2), Act::Insert(next())),
        ]
    };
    let reads = (0..3)
        .map(|slot| (Op::Get(k(slot)), rng.chance(50)))
        .collect();
    HistoryPlan {
        keys: 3,
        prefix,
        branches: vec![reads, cut.into_iter().map(|op| (op, false)).collect()],
    }
}

/// Runs `plan` with the calls `cuts` names cut short, then reads every key, and
/// returns every call in the order it was made.
async fn run_cut<S: VersionedStore + ?Sized + 'static>(
    store: Arc<S>,
    keys: Vec<Key>,
    plan: &HistoryPlan,
    cuts: Vec<Vec<Option<Cut>>>,
) -> Result<Vec<Recorded>, String> {
    let clock = Arc::new(AtomicU64::new(0));
    let keys = Arc::new(keys);
    let mut history = Vec::new();
    for op in &plan.prefix {
        history.push(call(&clock, &*store, &keys, None, op, None).await);
    }
    let barrier = Arc::new(Barrier::new(plan.branches.len()));
    let tasks: Vec<_> = plan
        .branches
        .iter()
        .zip(cuts)
        .enumerate()
        .map(|(branch, (ops, cuts))| {
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
                for ((op, yield_first), cut) in ops.iter().zip(cuts) {
                    if *yield_first {
                        tokio::task::yield_now().await;
                    }
                    done.push(call(&clock, &*store, &keys, Some(branch), op, cut).await);
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
    // Afterwards: what every key holds.
    for slot in 0..plan.keys {
        let read = Op::Get(MKey::Slot(slot));
        history.push(call(&clock, &*store, &keys, None, &read, None).await);
    }
    history.sort_by_key(|r| r.call);
    Ok(history)
}

/// Runs a quarter of `env::histories()` histories with cancelled calls and checks each.
async fn cancelled_histories<S: VersionedStore + ?Sized + 'static>(
    store: Arc<S>,
    transactions: bool,
    label: &str,
) {
    let base = env::seed().unwrap_or_else(SplitMix64::fresh_seed);
    let options = PlanOptions {
        max_branch_ops: env::history_ops().min(4),
        transactions,
        ..PlanOptions::default()
    };
    let mut cancelled = 0;
    // Random histories and focused ones in turn.
    for n in 0..(env::histories() / 3).max(4) {
        let seed = base.wrapping_add(n as u64);
        let mut rng = SplitMix64::new(seed);
        let plan = if n % 2 == 0 {
            plan(&mut rng, &options)
        } else {
            focused(transactions, &mut rng)
        };
        let cuts = cuts(&plan, &mut rng);
        let keys: Vec<Key> = (0..plan.keys)
            .map(|i| key(&*store, &format!("{label}-{base:x}-{n}-k{i}")))
            .collect();
        let history = match run_cut(Arc::clone(&store), keys, &plan, cuts).await {
            Ok(history) => history,
            Err(err) => fail(
                "the history's calls run to their end",
                format!("history {n} (OPTIMIST_SEED={base}): {err}"),
            ),
        };
        let finals = history
            .iter()
            .filter(|r| r.branch.is_none())
            .rev()
            .take(plan.keys);
        for read in finals {
            check(
                matches!(read.observed, Observed::Answered(_)),
                "contract R12: after cancelled calls the store still answers every later call",
                || {
                    format!(
                        "the final read {} of history {n} (OPTIMIST_SEED={base}) answered {:?}",
                        read.op, read.observed
                    )
                },
            );
        }
        cancelled += history
            .iter()
            .filter(|r| r.observed == Observed::Cancelled)
            .count();
        let initial = State::empty(plan.keys).with_tombstones(store.capabilities().tombstones);
        if let Err(failure) = check_history_from(&history, &initial) {
            fail(
                "contract R12, R13: calls cancelled by dropping their futures take effect whole \
                 or not at all, and the history with them as maybe applied is linearizable",
                format!(
                    "history {n} of the run with OPTIMIST_SEED={base} (its own seed {seed}; \
                     {cancelled} calls cancelled so far):\n{failure}"
                ),
            );
        }
    }
    tracing::debug!(cancelled, "cancellation histories checked");
}

/// contract R12, R13: writes (insert, update, delete, put, remove) whose futures are
/// dropped half way, after one poll, a few polls or a short timeout, while other
/// clients write: each took effect whole or not at all, the history with them as
/// maybe applied is linearizable, and the store answers every key afterwards.
pub async fn r12_cancelled_writes_apply_whole_or_not_at_all<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    // contract R12 R13
    cancelled_histories(store, false, "cancel").await;
}

/// contract R10, R12, R13: the same with transactions among the cancelled calls: a
/// transaction dropped half way applied all of its writes or none.
pub async fn r12_cancelled_transactions_apply_whole_or_not_at_all<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    // contract R10 R12 R13
    cancelled_histories(store, true, "cancel-tx").await;
}

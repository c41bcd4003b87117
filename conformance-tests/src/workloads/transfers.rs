//! The transfer workload: concurrent transactions moving amounts between accounts,
//! each transfer recording its id on both accounts, so the final accounts show every
//! transfer that landed, on which side, and how often; the total never changes.

use std::collections::BTreeMap;
use std::sync::Arc;

use optimist_core::{Error, Key, TxOp, Value, Versioned, VersionedStore};
use serde_json::json;

use super::Workload;
use super::report::{Ended, Figures, Report, some};
use super::snapshot::settle;
use crate::network::FaultProxy;
use crate::rng::SplitMix64;

/// Each account's balance at the start.
const OPENING_BALANCE: i64 = 1_000;

/// Attempts of one transfer: after a conflict or an error that wrote nothing, the
/// client reads both accounts again and tries again, this many times in all.
const ATTEMPTS: usize = 10;

/// One transfer and how it ended.
struct Transfer {
    id: u64,
    from: usize,
    to: usize,
    ended: Ended,
    /// Conflicts it met whose item already held its id.
    false_conflicts: u64,
}

fn account(balance: i64, applied: &[u64]) -> Value {
    json!({ "balance": balance, "applied": applied })
}

/// An account's balance and the transfers applied to it.
fn parse(value: &Value) -> Option<(i64, Vec<u64>)> {
    let balance = value.get("balance")?.as_i64()?;
    let applied = serde_json::from_value(value.get("applied")?.clone()).ok()?;
    Some((balance, applied))
}

/// Runs the transfer workload on `store`, which reaches its server through `proxy`:
/// `workload.keys` accounts (at least 2), `workload.clients` clients each making
/// `workload.calls` transfers, each one transaction updating both accounts at the
/// versions read. Then checks, once the proxy healed: the total is what it was; a
/// transfer that returned success is recorded exactly once on both accounts; one
/// that returned another error than `Indeterminate` on neither; an `Indeterminate`
/// one on both or neither, once; nothing changes between two readings a pause
/// apart; no conflict met held the transfer's own id.
///
/// Needs a store with transactions. An error if the accounts cannot be set up
/// (before any fault) or read (after healing), or a client task failed.
pub async fn transfers<S: VersionedStore + 'static>(
    store: Arc<S>,
    proxy: &FaultProxy,
    workload: &Workload,
) -> Result<Report, String> {
    let keys: Arc<Vec<Key>> = Arc::new(
        (0..workload.keys.max(2))
            .map(|slot| {
                crate::support::key(&*store, &format!("account-{:x}-{slot}", workload.seed))
            })
            .collect(),
    );
    for key in keys.iter() {
        store
            .insert(key, account(OPENING_BALANCE, &[]))
            .await
            .map_err(|err| format!("setting up {key}: {err}"))?;
    }
    let total_before = OPENING_BALANCE * keys.len() as i64;

    proxy.inject_randomly(workload.seed, workload.faults.clone());
    let tasks: Vec<_> = (0..workload.clients)
        .map(|client| {
            let (store, keys) = (Arc::clone(&store), Arc::clone(&keys));
            let first_id = (client * workload.calls) as u64 + 1;
            let mut rng = SplitMix64::new(
                workload.seed ^ (client as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
            );
            let calls = workload.calls;
            tokio::spawn(async move {
                let mut made = Vec::with_capacity(calls);
                for id in first_id..first_id + calls as u64 {
                    let from = rng.index(keys.len());
                    let to = (from + 1 + rng.index(keys.len() - 1)) % keys.len();
                    let amount = 1 + rng.below(50) as i64;
                    made.push(transfer(&*store, &keys, id, from, to, amount).await);
                }
                made
            })
        })
        .collect();
    let mut transfers = Vec::new();
    for task in tasks {
        transfers.extend(
            task.await
                .map_err(|err| format!("a client task failed: {err}"))?,
        );
    }
    let faults = proxy.counts();
    let (items, late) = settle(&*store, proxy, &keys, workload.settle).await?;

    let mut report = Report {
        workload: "transfers",
        seed: workload.seed,
        figures: Figures {
            calls: transfers.len() as u64,
            late,
            faults,
            ..Figures::default()
        },
        problems: Vec::new(),
    };
    let mut total_after = 0;
    // How often each transfer is recorded on each account.
    let mut recorded: Vec<BTreeMap<u64, u64>> = vec![BTreeMap::new(); keys.len()];
    for (slot, item) in items.iter().enumerate() {
        match item.as_ref().and_then(|item| parse(&item.value)) {
            Some((balance, applied)) => {
                total_after += balance;
                for id in applied {
                    *recorded[slot].entry(id).or_default() += 1;
                }
            }
            None => report.problems.push(format!(
                "account {} is gone or unreadable: {item:?}",
                keys[slot]
            )),
        }
    }
    if total_after != total_before {
        report.problems.push(format!(
            "the total changed: {total_before} at the start, {total_after} at the end"
        ));
    }
    check(&mut report, &transfers, &recorded);
    Ok(report)
}

/// One transfer, tried until it succeeds, returns `Indeterminate`, or fails for good.
async fn transfer<S: VersionedStore + ?Sized>(
    store: &S,
    keys: &[Key],
    id: u64,
    from: usize,
    to: usize,
    amount: i64,
) -> Transfer {
    let mut done = Transfer {
        id,
        from,
        to,
        ended: Ended::Failed("never tried".to_string()),
        false_conflicts: 0,
    };
    for _ in 0..ATTEMPTS {
        let (source, target) = match (store.get(&keys[from]).await, store.get(&keys[to]).await) {
            (Ok(Some(source)), Ok(Some(target))) => (source, target),
            (Err(err), _) | (_, Err(err)) => {
                done.ended = Ended::Failed(err.to_string());
                continue;
            }
            _ => {
                done.ended = Ended::Failed("an account is gone".to_string());
                return done;
            }
        };
        let (
            Some((source_balance, mut source_applied)),
            Some((target_balance, mut target_applied)),
        ) = (parse(&source.value), parse(&target.value))
        else {
            done.ended = Ended::Failed("an account is unreadable".to_string());
            return done;
        };
        if source_applied.contains(&id) || target_applied.contains(&id) {
            // An earlier attempt, reported as writing nothing, was applied: the final
            // check reports it.
            return done;
        }
        let moved = amount.min(source_balance.max(0));
        source_applied.push(id);
        target_applied.push(id);
        let ops = vec![
            TxOp::update(
                keys[from].clone(),
                source.version,
                account(source_balance - moved, &source_applied),
            ),
            TxOp::update(
                keys[to].clone(),
                target.version,
                account(target_balance + moved, &target_applied),
            ),
        ];
        match store.transact(ops).await {
            Ok(_) => {
                done.ended = Ended::Ok(None);
                return done;
            }
            Err(Error::TransactionConflict { failures }) => {
                let own = |item: Option<&Versioned<Value>>| {
                    item.and_then(|item| parse(&item.value))
                        .is_some_and(|(_, applied)| applied.contains(&id))
                };
                if failures
                    .iter()
                    .any(|failure| own(failure.conflict.current()))
                {
                    done.false_conflicts += 1;
                }
                done.ended = Ended::Failed("every attempt conflicted".to_string());
            }
            Err(err) if err.is_indeterminate() => {
                done.ended = Ended::Indeterminate;
                return done;
            }
            Err(err) if err.is_retryable() => done.ended = Ended::Failed(err.to_string()),
            Err(err) => {
                done.ended = Ended::Failed(err.to_string());
                return done;
            }
        }
    }
    done
}

/// Compares what each transfer returned with where its id is recorded.
fn check(report: &mut Report, transfers: &[Transfer], recorded: &[BTreeMap<u64, u64>]) {
    let (mut lost, mut failed_applied, mut torn, mut elsewhere) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let g = &mut report.figures;
    for t in transfers {
        let on = |slot: usize| recorded[slot].get(&t.id).copied().unwrap_or(0);
        let (source, target) = (on(t.from), on(t.to));
        let others: u64 = (0..recorded.len())
            .filter(|slot| *slot != t.from && *slot != t.to)
            .map(on)
            .sum();
        if others > 0 {
            elsewhere.push(t.id);
        }
        g.false_conflicts += t.false_conflicts;
        if source != target {
            torn.push(t.id);
        }
        match &t.ended {
            Ended::Ok(_) => {
                g.ok += 1;
                if source == 0 || target == 0 {
                    lost.push(t.id);
                }
            }
            Ended::Failed(why) => {
                g.failed += 1;
                if source + target > 0 {
                    failed_applied.push((t.id, why.clone()));
                }
            }
            Ended::Indeterminate => {
                g.indeterminate += 1;
                if source + target > 0 {
                    g.indeterminate_applied += 1;
                }
            }
        }
    }
    let mut duplicated = Vec::new();
    for account in recorded {
        for (id, times) in account {
            if *times > 1 {
                g.duplicated += times - 1;
                duplicated.push(*id);
            }
        }
    }
    g.lost = lost.len() as u64;
    g.failed_but_applied = failed_applied.len() as u64;
    let figures = *g;
    let problems = &mut report.problems;
    if !lost.is_empty() {
        problems.push(format!(
            "lost: transfers returned Ok but are missing from an account: {}",
            some(&lost)
        ));
    }
    if !duplicated.is_empty() {
        problems.push(format!(
            "duplicated: transfers recorded twice on an account: {}",
            some(&duplicated)
        ));
    }
    if !failed_applied.is_empty() {
        problems.push(format!(
            "failed but applied: transfers returned an error other than Indeterminate, and are recorded: {}",
            some(&failed_applied)
        ));
    }
    if !torn.is_empty() {
        problems.push(format!(
            "torn: transfers recorded on one account and not the other: {}",
            some(&torn)
        ));
    }
    if !elsewhere.is_empty() {
        problems.push(format!(
            "transfers recorded on an account they do not touch: {}",
            some(&elsewhere)
        ));
    }
    if figures.late > 0 {
        problems.push(format!(
            "late: {} writes landed after every call had returned and the proxy had healed",
            figures.late
        ));
    }
    if figures.false_conflicts > 0 {
        problems.push(format!(
            "false conflicts: {} conflicts held the transfer's own id",
            figures.false_conflicts
        ));
    }
}

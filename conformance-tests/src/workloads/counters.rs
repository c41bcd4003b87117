//! The counter workload: concurrent `update_with` calls, each appending its own id to
//! one of a few items, so the final items show every change that landed, and how
//! often.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use optimist_core::VersionedStore;
use optimist_core::retry::RetryPolicy;
use optimist_core::typed::{Context, Entity, Error as TypedError};
use serde::{Deserialize, Serialize};

use super::Workload;
use super::report::{Ended, Figures, Report, some};
use super::snapshot::settle;
use crate::network::FaultProxy;
use crate::rng::SplitMix64;

/// One counter: the ids of the changes applied to it, in order.
#[derive(Entity, Serialize, Deserialize, Clone, Debug)]
struct Tally {
    #[entity(partition_key)]
    name: String,
    ids: Vec<u64>,
    #[entity(version)]
    version: Option<u64>,
}

/// One `update_with` call and how it ended.
struct Call {
    id: u64,
    slot: usize,
    ended: Ended,
    /// It returned a conflict whose item already held its id.
    false_conflict: bool,
}

/// Runs the counter workload on `store`, which reaches its server through `proxy`:
/// `workload.clients` clients each make `workload.calls` `update_with` calls (the
/// default [`RetryPolicy`]) on `workload.keys` items, each appending a unique id.
/// Then checks, once the proxy healed: every id of a call that returned success is
/// stored exactly once and at the position its returned version says; no id is
/// stored twice; no id of a call that returned another error than `Indeterminate` is
/// stored; nothing changes between two readings a pause apart; no call met a
/// conflict (or retried) on an item that already held its own id.
///
/// Needs a store whose keys may be a partition alone. An error if the items cannot be
/// set up (before any fault) or read (after healing), or a client task failed.
pub async fn counters<S: VersionedStore + 'static>(
    store: Arc<S>,
    proxy: &FaultProxy,
    workload: &Workload,
) -> Result<Report, String> {
    let ctx = Arc::new(Context::new(Arc::clone(&store)));
    let names: Arc<Vec<String>> = Arc::new(
        (0..workload.keys.max(1))
            .map(|slot| format!("counter-{:x}-{slot}", workload.seed))
            .collect(),
    );
    for name in names.iter() {
        let mut tally = Tally {
            name: name.clone(),
            ids: Vec::new(),
            version: None,
        };
        ctx.save(&mut tally)
            .await
            .map_err(|err| format!("setting up {name}: {err}"))?;
    }
    let keys: Vec<_> = names.iter().map(optimist_core::Key::new).collect();

    proxy.inject_randomly(workload.seed, workload.faults.clone());
    // Re-runs of a change on an item that already held its id.
    let reapplied = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..workload.clients)
        .map(|client| {
            let (ctx, names, reapplied) =
                (Arc::clone(&ctx), Arc::clone(&names), Arc::clone(&reapplied));
            let first_id = (client * workload.calls) as u64 + 1;
            let mut rng = SplitMix64::new(
                workload.seed ^ (client as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            let calls = workload.calls;
            tokio::spawn(async move {
                let mut made = Vec::with_capacity(calls);
                for id in first_id..first_id + calls as u64 {
                    let slot = rng.index(names.len());
                    let append = |tally: &mut Tally| {
                        if tally.ids.contains(&id) {
                            reapplied.fetch_add(1, Ordering::SeqCst);
                        }
                        tally.ids.push(id);
                        Ok::<(), Infallible>(())
                    };
                    let result = ctx
                        .update_with(names[slot].as_str(), &RetryPolicy::default(), append)
                        .await;
                    let (ended, false_conflict) = classify(id, result);
                    made.push(Call {
                        id,
                        slot,
                        ended,
                        false_conflict,
                    });
                }
                made
            })
        })
        .collect();
    let mut calls = Vec::new();
    for task in tasks {
        calls.extend(
            task.await
                .map_err(|err| format!("a client task failed: {err}"))?,
        );
    }
    let faults = proxy.counts();
    let (items, late) = settle(&*store, proxy, &keys, workload.settle).await?;

    let mut report = Report {
        workload: "counters",
        seed: workload.seed,
        figures: Figures {
            calls: calls.len() as u64,
            late,
            false_conflicts: reapplied.load(Ordering::SeqCst),
            faults,
            ..Figures::default()
        },
        problems: Vec::new(),
    };
    // Where each id is stored: (item, position).
    let mut stored: BTreeMap<u64, Vec<(usize, usize)>> = BTreeMap::new();
    for (slot, item) in items.iter().enumerate() {
        let Some(item) = item else {
            report.problems.push(format!("{} vanished", names[slot]));
            continue;
        };
        let ids: Vec<u64> = match serde_json::from_value::<Vec<u64>>(item.value["ids"].clone()) {
            Ok(ids) => ids,
            Err(err) => {
                report
                    .problems
                    .push(format!("{} holds no list of ids: {err}", names[slot]));
                continue;
            }
        };
        // Version 1 is the empty item; each write since appended one id.
        if item.version.get() != ids.len() as u64 + 1 {
            report.problems.push(format!(
                "{} is at version {} with {} ids: a write appended no id, or several",
                names[slot],
                item.version,
                ids.len()
            ));
        }
        for (position, id) in ids.into_iter().enumerate() {
            stored.entry(id).or_default().push((slot, position));
        }
    }
    check(&mut report, &calls, &stored);
    Ok(report)
}

/// How a call ended, and whether it returned a conflict with its own earlier attempt.
fn classify(id: u64, result: Result<Tally, TypedError>) -> (Ended, bool) {
    let err = match result {
        Ok(tally) => return (Ended::Ok(tally.version), false),
        Err(err) => err,
    };
    let last = match &err {
        TypedError::RetryExhausted { last, .. } => last.as_ref(),
        other => other,
    };
    let false_conflict = last
        .current::<Tally>()
        .ok()
        .flatten()
        .is_some_and(|tally| tally.ids.contains(&id));
    let ended = if last
        .store_error()
        .is_some_and(optimist_core::Error::is_indeterminate)
    {
        Ended::Indeterminate
    } else {
        Ended::Failed(err.to_string())
    };
    (ended, false_conflict)
}

/// Compares what each call returned with where its id is stored.
fn check(report: &mut Report, calls: &[Call], stored: &BTreeMap<u64, Vec<(usize, usize)>>) {
    let (mut lost, mut misplaced, mut failed_applied, mut duplicated) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let g = &mut report.figures;
    for call in calls {
        let places = stored.get(&call.id).map_or(&[][..], Vec::as_slice);
        if places.iter().any(|(slot, _)| *slot != call.slot) {
            misplaced.push(call.id);
        }
        if call.false_conflict {
            g.false_conflicts += 1;
        }
        match &call.ended {
            Ended::Ok(version) => {
                g.ok += 1;
                if places.is_empty() {
                    lost.push(call.id);
                } else if let Some(version) = version {
                    // Version v holds v - 1 ids: this one is the last of them.
                    let position = usize::try_from(version.saturating_sub(2)).unwrap_or(usize::MAX);
                    if !places.contains(&(call.slot, position)) {
                        misplaced.push(call.id);
                    }
                }
            }
            Ended::Failed(why) => {
                g.failed += 1;
                if !places.is_empty() {
                    failed_applied.push((call.id, why.clone()));
                }
            }
            Ended::Indeterminate => {
                g.indeterminate += 1;
                if !places.is_empty() {
                    g.indeterminate_applied += 1;
                }
            }
        }
    }
    for (id, places) in stored {
        if places.len() > 1 {
            g.duplicated += places.len() as u64 - 1;
            duplicated.push(*id);
        }
    }
    g.lost = lost.len() as u64;
    g.failed_but_applied = failed_applied.len() as u64;
    let known: std::collections::BTreeSet<u64> = calls.iter().map(|c| c.id).collect();
    let unknown: Vec<u64> = stored
        .keys()
        .filter(|id| !known.contains(id))
        .copied()
        .collect();
    let problems = &mut report.problems;
    if !lost.is_empty() {
        problems.push(format!(
            "lost: calls returned Ok but their ids are not stored: {}",
            some(&lost)
        ));
    }
    if !duplicated.is_empty() {
        problems.push(format!(
            "duplicated: ids stored more than once: {}",
            some(&duplicated)
        ));
    }
    if !failed_applied.is_empty() {
        problems.push(format!(
            "failed but applied: calls returned an error other than Indeterminate, and their ids are stored: {}",
            some(&failed_applied)
        ));
    }
    if !misplaced.is_empty() {
        problems.push(format!(
            "misplaced: ids stored on another item, or away from the position their returned version says: {}",
            some(&misplaced)
        ));
    }
    if !unknown.is_empty() {
        problems.push(format!("ids no call made are stored: {}", some(&unknown)));
    }
    let figures = report.figures;
    if figures.late > 0 {
        problems.push(format!(
            "late: {} writes landed after every call had returned and the proxy had healed",
            figures.late
        ));
    }
    if figures.false_conflicts > 0 {
        problems.push(format!(
            "false conflicts: {} times a call met a conflict (or retried) on an item that already held its own id",
            figures.false_conflicts
        ));
    }
}

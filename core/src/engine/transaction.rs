//! `transact`: every op becomes a precondition and a change, sent as one commit; a
//! refusal becomes one failure per refused op (contract R10, R11).

use super::send::changed_meanwhile;
use super::settle::{self, Settled};
use super::single::{exhausted, public};
use super::{is_exhaustion, pause, span, version_after_put};
use crate::{
    Applied, Change, CommitOutcome, Error, ErrorKind, Expect, Held, OpFailure, Operation, Record,
    Result, Storage, StorageError, TxAction, TxOp, Version, Write, WriteToken, validate,
};

/// The precondition and change of one transaction op.
pub(crate) fn write_of(op: &TxOp) -> Write<'_> {
    let change = match op.action() {
        TxAction::Insert(value) | TxAction::Update { value, .. } | TxAction::Put(value) => {
            Change::Put(value)
        }
        TxAction::Delete { .. } | TxAction::Remove => Change::Delete,
        TxAction::Check { .. } => Change::Keep,
    };
    Write::new(op.key(), op.action().expect(), change)
}

pub(super) async fn transact<S: Storage + ?Sized>(
    store: &S,
    ops: &[TxOp],
) -> Result<Vec<Option<Version>>> {
    let operation = Operation::Transact;
    let span = span::open(store.backend_name(), operation, None, None);
    span::run(span, async {
        match validate::transaction(ops, store.capabilities()) {
            Err(invalid) => (Err(invalid), 0),
            Ok(()) => send(store, ops).await,
        }
    })
    .await
}

async fn send<S: Storage + ?Sized>(store: &S, ops: &[TxOp]) -> (Result<Vec<Option<Version>>>, u32) {
    let operation = Operation::Transact;
    // One token for the whole transaction: it is applied or not as one.
    let token = WriteToken::random();
    let intent: Vec<Write<'_>> = ops
        .iter()
        .map(|op| write_of(op).with_token(token))
        .collect();
    // An update expecting u64::MAX can have no next version: send every op as a check,
    // so the caller learns every failing condition and nothing is written.
    let exhausted_at = intent.iter().position(|w| {
        matches!((w.change, w.expect), (Change::Put(_), Expect::At(_))) && w.new_version().is_none()
    });
    let mut sent: Vec<Write<'_>> = match exhausted_at {
        Some(_) => intent
            .iter()
            .map(|w| Write::new(w.key, w.expect, Change::Keep).with_token(token))
            .collect(),
        None => intent.clone(),
    };
    let policy = store.retry_policy();
    let mut attempts = 0;
    // Whether an attempt may have applied without the engine seeing its answer.
    let mut lost_answer = false;
    let answer = loop {
        attempts += 1;
        let failure = match store.commit(&sent).await {
            Ok(outcome) => match check_answer(&sent, &outcome) {
                Ok(()) => match outcome {
                    CommitOutcome::Applied { previous } => break Ok(Ok(previous)),
                    CommitOutcome::Refused { current }
                        if lost_answer
                            && !refusal_is_settled(
                                &sent,
                                &current,
                                store.capabilities().tombstones,
                            ) =>
                    {
                        // The earlier attempt may have applied and been overwritten
                        // since.
                        break Err((settle::unsettled(), false));
                    }
                    CommitOutcome::Refused { current } => {
                        match judge_refusal(
                            &intent,
                            &mut sent,
                            current,
                            attempts < policy.max_attempts(),
                        ) {
                            Refusal::Final(answer) => break Ok(answer),
                            Refusal::Retarget => continue,
                            Refusal::ChangedMeanwhile => changed_meanwhile(),
                        }
                    }
                },
                Err(err) if err.is_transient() => err,
                Err(err) => break Err((err, false)),
            },
            Err(err) if err.applied() == Applied::Maybe => {
                lost_answer = true;
                match settle::commit(store, &sent).await {
                    Ok(previous) => break Ok(Ok(previous)),
                    // The settling reads just reached the store: send again at once,
                    // so the state has the least time to move meanwhile.
                    Err(Settled::NotApplied) if attempts < policy.max_attempts() => continue,
                    Err(Settled::NotApplied) => err,
                    Err(_) => break Err((err, false)),
                }
            }
            Err(err) if err.is_transient() => err,
            Err(err) => break Err((err, false)),
        };
        if let Err(spent) = pause(policy, attempts, failure).await {
            break Err((spent, true));
        }
    };
    let first_key = || sent.first().map(|w| w.key);
    let result = match answer {
        Err((err, spent)) => Err(public(store, operation, first_key(), err, spent)),
        Ok(Ok(previous)) => match exhausted_at {
            Some(index) => Err(exhausted(store, operation, sent[index].key)),
            None => sent
                .iter()
                .zip(previous)
                .map(|(write, previous)| match write.change {
                    Change::Put(_) => version_after_put(write.expect, previous)
                        .map(Some)
                        .ok_or_else(|| exhausted(store, operation, write.key)),
                    Change::Keep => Ok(write.new_version()),
                    Change::Delete => Ok(None),
                })
                .collect(),
        },
        Ok(Err(mut current)) => {
            current.sort_by_key(|(index, _)| *index);
            let mut failures = Vec::with_capacity(current.len());
            let mut exhausted_key = None;
            for (index, record) in current {
                let write = &intent[index];
                match write.expect.conflict(record.and_then(|r| r.into_item())) {
                    Some(conflict) => failures.push(OpFailure {
                        index,
                        key: write.key.clone(),
                        conflict,
                    }),
                    None => exhausted_key = exhausted_key.or(Some(write.key)),
                }
            }
            match (failures.is_empty(), exhausted_key) {
                (false, _) => Err(Error::TransactionConflict { failures }),
                (true, Some(key)) => Err(exhausted(store, operation, key)),
                (true, None) => Err(Error::backend(
                    store.backend_name(),
                    operation,
                    first_key(),
                    ErrorKind::Other,
                    "the backend refused the transaction without naming a refused op",
                )),
            }
        }
    };
    (result, attempts)
}

/// Whether a refusal of a transaction whose earlier attempt lost its answer settles it:
/// the earlier attempt applied (a refused write shows the token), or it never can
/// (another writer took the state one of its writes asked for).
fn refusal_is_settled(
    sent: &[Write<'_>],
    current: &[(usize, Option<Record>)],
    tombstones: bool,
) -> bool {
    current.iter().any(|(index, record)| {
        sent.get(*index).is_some_and(|write| {
            settle::applied_before(write, record.as_ref()).is_some()
                || settle::taken_by_another(write, record.as_ref(), tombstones)
        })
    })
}

/// What a refused commit means.
enum Refusal {
    /// The answer: applied by an earlier attempt (what each key held before), or the
    /// refused writes with their records.
    Final(std::result::Result<Vec<Held>, Vec<(usize, Option<Record>)>>),
    /// Inserts met tombstones: `sent` now asks for exactly those; send again at once.
    Retarget,
    /// Inserts kept meeting new tombstones until the attempts were spent.
    ChangedMeanwhile,
}

fn judge_refusal(
    intent: &[Write<'_>],
    sent: &mut [Write<'_>],
    current: Vec<(usize, Option<Record>)>,
    may_resend: bool,
) -> Refusal {
    if current
        .iter()
        .any(|(index, record)| settle::applied_before(&sent[*index], record.as_ref()).is_some())
    {
        // An earlier attempt, whose answer was lost, applied the whole transaction. It
        // was resent, so every write is conditional (settling never resends one that
        // is not) and each key held what its precondition names.
        return Refusal::Final(Ok(sent
            .iter()
            .map(|write| settle::expected_state(write.expect))
            .collect()));
    }
    let mut retarget = false;
    for (index, record) in &current {
        // An insert meeting a tombstone (or, after asking for one, an empty key):
        // ask for exactly that state.
        let exact = match Held::of(record.as_ref()) {
            Held::Tombstone(version) => Expect::Tombstone(version),
            Held::Nothing => Expect::Absent,
            Held::Item(_) => continue,
        };
        if intent[*index].expect == Expect::Absent && sent[*index].expect != exact {
            sent[*index] = sent[*index].expecting(exact);
            retarget = true;
        }
    }
    match (retarget, may_resend) {
        (true, true) => Refusal::Retarget,
        (true, false) => Refusal::ChangedMeanwhile,
        (false, _) => Refusal::Final(Err(current)),
    }
}

/// Checks that the backend's answer fits the request: one previous version per write,
/// refused indexes in range and each once, and every refused write's item failing its
/// precondition (else the item changed while the refusal was read: send again).
fn check_answer(sent: &[Write<'_>], outcome: &CommitOutcome) -> Result<(), StorageError> {
    let malformed = |what: &str| {
        Err(StorageError::not_applied(
            ErrorKind::Other,
            format!("the backend answered the transaction with {what}"),
        ))
    };
    match outcome {
        CommitOutcome::Applied { previous } if previous.len() != sent.len() => malformed(&format!(
            "{} versions for {} writes",
            previous.len(),
            sent.len()
        )),
        CommitOutcome::Applied { .. } => Ok(()),
        CommitOutcome::Refused { current } => {
            let mut seen = vec![false; sent.len()];
            for (index, item) in current {
                let Some(write) = sent.get(*index) else {
                    return malformed(&format!("a refusal of op {index}, out of range"));
                };
                if std::mem::replace(&mut seen[*index], true) {
                    return malformed(&format!("op {index} refused twice"));
                }
                let held = item.as_ref().map(Record::held);
                if write.expect.admits(Held::of(item.as_ref())) && !is_exhaustion(write, held) {
                    return Err(changed_meanwhile());
                }
            }
            Ok(())
        }
    }
}

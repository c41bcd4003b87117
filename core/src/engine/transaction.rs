//! `transact`: every op becomes a precondition and a change, sent as one commit; a
//! refusal becomes one failure per refused op (contract R10, R11).

use tracing::Instrument;

use super::single::{changed_meanwhile, exhausted, public};
use super::{is_exhaustion, span, version_after_put};
use crate::retry::retry_transient;
use crate::{
    Change, CommitOutcome, Error, ErrorKind, Expect, OpFailure, Operation, Result, Storage,
    StorageError, TxAction, TxOp, Version, Write, validate,
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
    async {
        let (result, attempts) = match validate::transaction(ops, store.capabilities()) {
            Err(invalid) => (Err(invalid), 0),
            Ok(()) => send(store, ops).await,
        };
        span::close(&tracing::Span::current(), &result, attempts);
        result
    }
    .instrument(span)
    .await
}

async fn send<S: Storage + ?Sized>(store: &S, ops: &[TxOp]) -> (Result<Vec<Option<Version>>>, u32) {
    let operation = Operation::Transact;
    let writes: Vec<Write<'_>> = ops.iter().map(write_of).collect();
    // An update expecting u64::MAX can have no next version: send every op as a check,
    // so the caller learns every failing condition and nothing is written.
    let exhausted_at = writes.iter().position(|w| {
        matches!((w.change, w.expect), (Change::Put(_), Expect::At(_))) && w.new_version().is_none()
    });
    let sent: Vec<Write<'_>> = match exhausted_at {
        Some(_) => writes
            .iter()
            .map(|w| Write::new(w.key, w.expect, Change::Keep))
            .collect(),
        None => writes,
    };
    let done = retry_transient(store.retry_policy(), || async {
        let outcome = store.commit(&sent).await?;
        check_answer(&sent, &outcome)?;
        Ok(outcome)
    })
    .await;
    let first_key = || sent.first().map(|w| w.key);
    let result = match done.result {
        Err(err) => Err(public(store, operation, first_key(), err, done.exhausted)),
        Ok(CommitOutcome::Applied { previous }) => match exhausted_at {
            Some(index) => Err(exhausted(store, operation, sent[index].key)),
            None => sent
                .iter()
                .zip(previous)
                .map(|(write, previous)| match write.change {
                    Change::Put(_) => version_after_put(write, previous)
                        .map(Some)
                        .ok_or_else(|| exhausted(store, operation, write.key)),
                    Change::Keep => Ok(write.new_version()),
                    Change::Delete => Ok(None),
                })
                .collect(),
        },
        Ok(CommitOutcome::Refused { mut current }) => {
            current.sort_by_key(|(index, _)| *index);
            let mut failures = Vec::with_capacity(current.len());
            let mut exhausted_key = None;
            for (index, item) in current {
                let write = &sent[index];
                match write.expect.conflict(item) {
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
    (result, done.attempts)
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
                if write.expect.admits(item.as_ref().map(|i| i.version))
                    && !is_exhaustion(write, item.as_ref())
                {
                    return Err(changed_meanwhile());
                }
            }
            Ok(())
        }
    }
}

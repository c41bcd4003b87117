//! The resending loop of a single write: it sends the write again after a transient
//! failure that applied nothing or after a lost answer the engine settled as not
//! applied (contract R14), and judges each refusal. Off the path of a write a store
//! settles at once: single.rs boxes it.

use super::settle::{self, Settled};
use super::single::{exhausted, public};
use super::{is_exhaustion, pause};
use crate::{
    Applied, Change, Error, ErrorKind, Expect, Held, Operation, Outcome, Record, Result, Storage,
    StorageError, Write,
};

/// What a refusal of `sent` (the operation's write, or that write sent again under
/// an exact precondition) says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// An earlier attempt of this write applied (its token is on the record): what
    /// the key held before it.
    AppliedBefore(Held),
    /// An earlier attempt lost its answer, and may have applied and been overwritten
    /// since.
    Unsettled,
    /// An insert met the tombstone of a deleted item (or, after asking for one, an
    /// empty key: the tombstone was purged): the caller's precondition, no item, holds;
    /// send it again asking for exactly this state, so it cannot land on a later one.
    AskExactly(Expect),
    /// The store refused, then found the record meeting the precondition: it changed
    /// in between, and nothing was written.
    ChangedMeanwhile,
    /// Refused for good: the record is the conflict's (or the counter's end).
    Final,
}

/// Judges the refusal of `sent`, `write` being the operation's own write; `lost_answer`:
/// whether an earlier attempt may have applied without the engine seeing its answer.
pub(super) fn judge_refusal(
    write: &Write<'_>,
    sent: &Write<'_>,
    current: Option<&Record>,
    lost_answer: bool,
    tombstones: bool,
) -> Refusal {
    if let Some(previous) = settle::applied_before(sent, current) {
        return Refusal::AppliedBefore(previous);
    }
    if lost_answer && !settle::taken_by_another(sent, current, tombstones) {
        return Refusal::Unsettled;
    }
    let held = Held::of(current);
    let admitted = sent.expect.admits(held);
    match held {
        Held::Nothing | Held::Tombstone(_) if write.expect == Expect::Absent && !admitted => {
            Refusal::AskExactly(match held {
                Held::Tombstone(version) => Expect::Tombstone(version),
                _ => Expect::Absent,
            })
        }
        _ if admitted && !is_exhaustion(sent, current.map(Record::held)) => {
            Refusal::ChangedMeanwhile
        }
        _ => Refusal::Final,
    }
}

/// The error of a write refused for good, `current` being the record the refusal
/// reported: the conflict carrying the item (contract R11), or the counter's end.
pub(super) fn refused<S: Storage + ?Sized>(
    store: &S,
    operation: Operation,
    write: &Write<'_>,
    current: Option<Record>,
) -> Error {
    let item = current.and_then(Record::into_item);
    match write.expect.conflict(item) {
        Some(conflict) => Error::conflict(operation, write.key.clone(), conflict),
        None => exhausted(store, operation, write.key),
    }
}

/// Sends `write` until it is settled; `first`: the answer to a first attempt already
/// made (a put handed over with its value that the store did not keep). Answers the
/// operation's result and how many requests it took.
///
/// A function returning an `async` block rather than an `async fn`: an `async fn`
/// keeps each argument twice in its future (as passed and as its local), which made
/// every write's future, and the box a networked store's call is sent in, larger.
#[allow(clippy::manual_async_fn)] // on purpose: see above
pub(super) fn send<S, T>(
    store: &S,
    operation: Operation,
    write: Write<'_>,
    mut first: Option<std::result::Result<Outcome, StorageError>>,
    applied: impl FnOnce(&Write<'_>, Held) -> Result<T>,
) -> impl Future<Output = (Result<T>, u32)>
where
    S: Storage + ?Sized,
{
    async move {
        let key = write.key;
        // No version follows `expected = u64::MAX`: send only the precondition, so the
        // caller still learns whether it held (a conflict) and nothing is written.
        let exhausted_put = matches!(write.change, Change::Put(_))
            && matches!(write.expect, Expect::At(_))
            && write.new_version().is_none();
        let mut sent = if exhausted_put {
            Write::carrying(key, write.expect, Change::Keep, write.token)
        } else {
            write
        };
        let policy = store.retry_policy();
        let tombstones = store.capabilities().tombstones;
        let mut attempts = 0;
        // Whether an attempt may have applied without the engine seeing its answer.
        let mut lost_answer = false;
        let answer = loop {
            attempts += 1;
            let answer = match first.take() {
                Some(answer) => answer,
                None => store.write(&sent).await,
            };
            let failure = match answer {
                Ok(Outcome::Applied { previous }) => break Ok(Ok(previous)),
                Ok(Outcome::Refused { current }) => {
                    match judge_refusal(&write, &sent, current.as_ref(), lost_answer, tombstones) {
                        Refusal::AppliedBefore(previous) => break Ok(Ok(previous)),
                        Refusal::Unsettled => break Err((settle::unsettled(), false)),
                        Refusal::AskExactly(exact) if attempts < policy.max_attempts() => {
                            sent = sent.expecting(exact);
                            continue;
                        }
                        Refusal::AskExactly(_) | Refusal::ChangedMeanwhile => changed_meanwhile(),
                        Refusal::Final => break Ok(Err(current)),
                    }
                }
                Err(err) if err.applied() == Applied::Maybe => {
                    lost_answer = true;
                    // Boxed, as the pause below: failure paths, which held inline made
                    // every write's future (and the box it is sent in) larger.
                    match Box::pin(settle::read(store, key)).await {
                        Ok(record) => match settle::judge(&sent, record.as_ref(), tombstones) {
                            Settled::Applied(previous) => break Ok(Ok(previous)),
                            Settled::Taken => break Ok(Err(record)),
                            // The settling read just reached the store: send again at
                            // once, so the state has the least time to move meanwhile.
                            Settled::NotApplied if attempts < policy.max_attempts() => continue,
                            Settled::NotApplied => err,
                            Settled::Unknown => break Err((err, false)),
                        },
                        Err(_) => break Err((err, false)),
                    }
                }
                Err(err) if err.is_transient() => err,
                Err(err) => break Err((err, false)),
            };
            if let Err(spent) = Box::pin(pause(policy, attempts, failure)).await {
                break Err((spent, true));
            }
        };
        let result = match answer {
            Err((err, spent)) => Err(public(store, operation, Some(key), err, spent)),
            Ok(Ok(_)) if exhausted_put => Err(exhausted(store, operation, key)),
            Ok(Ok(previous)) => applied(&sent, previous),
            Ok(Err(current)) => Err(refused(store, operation, &write, current)),
        };
        (result, attempts)
    }
}

/// A refusal whose reported record meets the precondition.
pub(super) fn changed_meanwhile() -> StorageError {
    StorageError::not_applied(
        ErrorKind::Contention,
        "the item changed while the refused write's item was read",
    )
}

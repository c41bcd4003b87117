//! Single-item operations: validate, send one conditional write (again only after a
//! transient failure that applied nothing, or after a lost answer the engine settled
//! as not applied), and judge the answer.

use serde_json::Value;
use tracing::Instrument;

use super::settle::{self, Settled};
use super::{is_exhaustion, pause, span, version_after_put};
use crate::retry::retry_transient;
use crate::{
    Applied, Change, Error, ErrorKind, Expect, Held, Key, Operation, Outcome, OwnedPut, PutAnswer,
    Result, Storage, StorageError, Version, Versioned, Write, validate,
};

/// `get`: one strongly consistent read.
pub(super) async fn get<S: Storage + ?Sized>(
    store: &S,
    key: &Key,
) -> Result<Option<Versioned<Value>>> {
    let operation = Operation::Get;
    let span = span::open(store.backend_name(), operation, Some(key), None);
    async {
        let (result, attempts) = match validate::key(operation, key, store.capabilities()) {
            Err(invalid) => (Err(invalid), 0),
            Ok(()) => {
                // A read applies nothing, whatever happened to its answer: always safe
                // to send again.
                let done = retry_transient(store.retry_policy(), || async {
                    store.read(key).await.map_err(settle::not_applied)
                })
                .await;
                let result = done
                    .result
                    .map(|record| record.and_then(|record| record.into_item()))
                    .map_err(|e| public(store, operation, Some(key), e, done.exhausted));
                (result, done.attempts)
            }
        };
        span::close(&tracing::Span::current(), &result, attempts);
        result
    }
    .instrument(span)
    .await
}

/// `insert` (`Absent`), `update` (`At`) and `put` (`Any`): the version written. The
/// first attempt hands the value over ([`Storage::write_value`]), so that a store
/// keeping values as they are moves it in instead of copying it.
pub(super) async fn put<S: Storage + ?Sized>(
    store: &S,
    operation: Operation,
    key: &Key,
    expect: Expect,
    value: Value,
) -> Result<Version> {
    let checked = validate::write(operation, key, &value, store.capabilities());
    let version = move |expect, previous| {
        version_after_put(expect, previous).ok_or_else(|| exhausted(store, operation, key))
    };
    run(store, operation, key, expect, checked, || async move {
        let write = Write::new(key, expect, Change::Put(&value));
        // The resending loop is boxed: its state (backoff timer, settling reads) is
        // large, and a put the store applies at once should not carry it around.
        if matches!(expect, Expect::At(_)) && write.new_version().is_none() {
            // No version follows `expected = u64::MAX`: `send` makes it a check.
            return Box::pin(send(store, operation, write, None, |sent, previous| {
                version(sent.expect, previous)
            }))
            .await;
        }
        let token = write.token;
        match store
            .write_value(OwnedPut::new(key, expect, token, value))
            .await
        {
            PutAnswer::Kept { previous } => (version(expect, previous), 1),
            PutAnswer::Answered { answer, value } => {
                let write = Write::new(key, expect, Change::Put(&value)).with_token(token);
                Box::pin(send(
                    store,
                    operation,
                    write,
                    Some(answer),
                    |sent, previous| version(sent.expect, previous),
                ))
                .await
            }
        }
    })
    .await
}

/// `delete` (`At`) and `remove` (`Any`): the version the item had.
pub(super) async fn delete<S: Storage + ?Sized>(
    store: &S,
    operation: Operation,
    key: &Key,
    expect: Expect,
) -> Result<Option<Version>> {
    let checked = validate::key(operation, key, store.capabilities());
    run(store, operation, key, expect, checked, || async move {
        let write = Write::new(key, expect, Change::Delete);
        send(store, operation, write, None, |_, previous| {
            Ok(previous.live_version())
        })
        .await
    })
    .await
}

/// Runs `attempts` (if the input `checked` out) in the operation's span: it sends the
/// write and answers the operation's result and how many requests it took.
async fn run<S, T, F>(
    store: &S,
    operation: Operation,
    key: &Key,
    expect: Expect,
    checked: Result<()>,
    attempts: impl FnOnce() -> F,
) -> Result<T>
where
    S: Storage + ?Sized,
    F: Future<Output = (Result<T>, u32)>,
{
    let span = span::open(store.backend_name(), operation, Some(key), Some(expect));
    async {
        let (result, attempts) = match checked {
            Err(invalid) => (Err(invalid), 0),
            Ok(()) => attempts().await,
        };
        span::close(&tracing::Span::current(), &result, attempts);
        result
    }
    .instrument(span)
    .await
}

/// Sends `write` until it is settled; `first`: the answer to a first attempt already
/// made (a put handed over with its value that the store did not keep).
async fn send<S, T>(
    store: &S,
    operation: Operation,
    write: Write<'_>,
    mut first: Option<std::result::Result<Outcome, StorageError>>,
    applied: impl FnOnce(&Write<'_>, Held) -> Result<T>,
) -> (Result<T>, u32)
where
    S: Storage + ?Sized,
{
    let key = write.key;
    // No version follows `expected = u64::MAX`: send only the precondition, so the
    // caller still learns whether it held (a conflict) and nothing is written.
    let exhausted_put = matches!(write.change, Change::Put(_))
        && matches!(write.expect, Expect::At(_))
        && write.new_version().is_none();
    let mut sent = if exhausted_put {
        Write::new(key, write.expect, Change::Keep).with_token(write.token)
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
                if let Some(previous) = settle::applied_before(&sent, current.as_ref()) {
                    // An earlier attempt, whose answer was lost, applied.
                    break Ok(Ok(previous));
                }
                if lost_answer && !settle::taken_by_another(&sent, current.as_ref(), tombstones) {
                    // The earlier attempt may have applied and been overwritten since.
                    break Err((settle::unsettled(), false));
                }
                match current.as_ref().map(|record| record.held()) {
                    // An insert meeting the tombstone of a deleted item (or, after
                    // asking for one, an empty key: the tombstone was purged): the
                    // caller's precondition (no item) holds; ask for exactly that
                    // state, so that this insert cannot land on a later one.
                    held @ (None | Some(Held::Tombstone(_)))
                        if write.expect == Expect::Absent
                            && !sent.expect.admits(Held::of(current.as_ref())) =>
                    {
                        if attempts < policy.max_attempts() {
                            let exact = match held {
                                Some(Held::Tombstone(version)) => Expect::Tombstone(version),
                                _ => Expect::Absent,
                            };
                            sent = sent.expecting(exact);
                            continue;
                        }
                        changed_meanwhile()
                    }
                    held if sent.expect.admits(Held::of(current.as_ref()))
                        && !is_exhaustion(&sent, held) =>
                    {
                        // The backend refused, then found the record meeting the
                        // precondition: it changed in between. Nothing was written.
                        changed_meanwhile()
                    }
                    _ => break Ok(Err(current)),
                }
            }
            Err(err) if err.applied() == Applied::Maybe => {
                lost_answer = true;
                match settle::read(store, key).await {
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
        if let Err(spent) = pause(policy, attempts, failure).await {
            break Err((spent, true));
        }
    };
    let result = match answer {
        Err((err, spent)) => Err(public(store, operation, Some(key), err, spent)),
        Ok(Ok(_)) if exhausted_put => Err(exhausted(store, operation, key)),
        Ok(Ok(previous)) => applied(&sent, previous),
        Ok(Err(current)) => {
            let item = current.and_then(|record| record.into_item());
            match write.expect.conflict(item) {
                Some(conflict) => Err(Error::conflict(operation, key.clone(), conflict)),
                None => Err(exhausted(store, operation, key)),
            }
        }
    };
    (result, attempts)
}

/// A refusal whose reported record meets the precondition.
pub(super) fn changed_meanwhile() -> StorageError {
    StorageError::not_applied(
        ErrorKind::Contention,
        "the item changed while the refused write's item was read",
    )
}

/// The public error of a failed request; marked not retryable when the store's own
/// retries were spent on it.
pub(super) fn public<S: Storage + ?Sized>(
    store: &S,
    operation: Operation,
    key: Option<&Key>,
    err: StorageError,
    exhausted_retries: bool,
) -> Error {
    let err = Error::from_storage(store.backend_name(), operation, key, err);
    if exhausted_retries {
        err.retries_exhausted()
    } else {
        err
    }
}

/// A put on an item whose version is `u64::MAX`.
pub(super) fn exhausted<S: Storage + ?Sized>(store: &S, operation: Operation, key: &Key) -> Error {
    Error::backend(
        store.backend_name(),
        operation,
        Some(key),
        ErrorKind::VersionExhausted,
        "the item's version is at the end of the counter (u64::MAX)",
    )
}

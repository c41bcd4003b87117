//! Single-item operations: validate, send one conditional write (again only after a
//! transient failure that applied nothing), and judge the answer.

use serde_json::Value;
use tracing::Instrument;

use super::{is_exhaustion, span, version_after_put};
use crate::retry::retry_transient;
use crate::{
    Change, Error, ErrorKind, Expect, Key, Operation, Outcome, Result, Storage, StorageError,
    Version, Versioned, Write, validate,
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
                    store.read(key).await.map_err(|err| {
                        let (kind, _, source) = err.into_parts();
                        StorageError::not_applied(kind, source)
                    })
                })
                .await;
                let result = done
                    .result
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

/// `insert` (`Absent`), `update` (`At`) and `put` (`Any`): the version written.
pub(super) async fn put<S: Storage + ?Sized>(
    store: &S,
    operation: Operation,
    key: &Key,
    expect: Expect,
    value: &Value,
) -> Result<Version> {
    let checked = validate::write(operation, key, value, store.capabilities());
    let write = Write::new(key, expect, Change::Put(value));
    run(store, operation, write, checked, |previous| {
        version_after_put(&write, previous).ok_or_else(|| exhausted(store, operation, key))
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
    let write = Write::new(key, expect, Change::Delete);
    run(store, operation, write, checked, Ok).await
}

/// Sends `write` (if the input `checked` out) and turns the answer into the
/// operation's result: `applied` maps the previous version to the return value.
async fn run<S, T>(
    store: &S,
    operation: Operation,
    write: Write<'_>,
    checked: Result<()>,
    applied: impl FnOnce(Option<Version>) -> Result<T>,
) -> Result<T>
where
    S: Storage + ?Sized,
{
    let key = write.key;
    let span = span::open(
        store.backend_name(),
        operation,
        Some(key),
        Some(write.expect),
    );
    async {
        let (result, attempts) = match checked {
            Err(invalid) => (Err(invalid), 0),
            Ok(()) => send(store, operation, write, applied).await,
        };
        span::close(&tracing::Span::current(), &result, attempts);
        result
    }
    .instrument(span)
    .await
}

async fn send<S, T>(
    store: &S,
    operation: Operation,
    write: Write<'_>,
    applied: impl FnOnce(Option<Version>) -> Result<T>,
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
    let sent = if exhausted_put {
        Write::new(key, write.expect, Change::Keep)
    } else {
        write
    };
    let done = retry_transient(store.retry_policy(), || async {
        match store.write(&sent).await? {
            Outcome::Refused { current }
                if sent
                    .expect
                    .admits(current.as_ref().map(|item| item.version))
                    && !is_exhaustion(&sent, current.as_ref()) =>
            {
                // The backend refused, then found the item meeting the precondition:
                // it changed in between. Nothing was written; send again.
                Err(changed_meanwhile())
            }
            outcome => Ok(outcome),
        }
    })
    .await;
    let result = match done.result {
        Err(err) => Err(public(store, operation, Some(key), err, done.exhausted)),
        Ok(Outcome::Applied { .. }) if exhausted_put => Err(exhausted(store, operation, key)),
        Ok(Outcome::Applied { previous }) => applied(previous),
        Ok(Outcome::Refused { current }) => match sent.expect.conflict(current) {
            Some(conflict) => Err(Error::conflict(operation, key.clone(), conflict)),
            None => Err(exhausted(store, operation, key)),
        },
    };
    (result, done.attempts)
}

/// A refusal whose reported item meets the precondition.
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

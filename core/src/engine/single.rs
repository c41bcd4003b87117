//! Single-item operations: validate, send one conditional write (again only after a
//! transient failure that applied nothing, or after a lost answer the engine settled
//! as not applied: send.rs), and judge the answer.
//!
//! A store that answers at once ([`Storage::read_now`], [`Storage::write_value_now`],
//! the memory store) is served without awaiting anything: no boxed future, and a span
//! entered only when a subscriber wants it. Any other store's first request is awaited
//! by the call's own future (`StoreFuture`'s first-request states), its answer judged
//! here; only what a typical call never needs (resending, settling) is boxed, off that
//! path, so the future a caller awaits stays small.

use serde_json::Value;
use tracing::Span;

use super::send::{self, Refusal, send};
use super::{settle, span, version_after_put};
use crate::retry::retry_transient;
use crate::store_future::{Call, ReadAnswer, Reading, Underway, Writing};
use crate::{
    Change, Error, ErrorKind, Expect, Held, Key, Operation, Outcome, OwnedPut, PutAnswer, Record,
    Result, Storage, StorageError, StoreFuture, Version, Versioned, Write, WriteToken, validate,
};

/// `get`, run at its future's first poll.
pub(super) fn get_call<'a>(call: &mut Call<'a>) -> StoreFuture<'a, Option<Versioned<Value>>> {
    get(call.store, call.key)
}

/// `insert`, `update` and `put`, run at their future's first poll: the value is
/// taken out of the call, the rest copied.
pub(super) fn put_call<'a>(call: &mut Call<'a>) -> StoreFuture<'a, Version> {
    let value = std::mem::take(&mut call.value);
    put(call.store, call.operation, call.key, call.expect, value)
}

/// `delete`, run at its future's first poll.
pub(super) fn delete_call<'a>(call: &mut Call<'a>) -> StoreFuture<'a, ()> {
    let (store, operation, key, expect) = (call.store, call.operation, call.key, call.expect);
    StoreFuture::new(async move { delete(store, operation, key, expect).await.map(|_| ()) })
}

/// `remove`, run at its future's first poll.
pub(super) fn remove_call<'a>(call: &mut Call<'a>) -> StoreFuture<'a, Option<Version>> {
    StoreFuture::new(delete(call.store, call.operation, call.key, call.expect))
}

/// `get`: one strongly consistent read.
fn get<'a>(store: &'a dyn Storage, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>> {
    let operation = Operation::Get;
    let span = span::open(store.backend_name(), operation, Some(key), None);
    if let Err(invalid) = validate::key(operation, key, store.capabilities()) {
        return StoreFuture::ready(span::closed(&span, Err(invalid), 0));
    }
    match in_scope(&span, || store.read_now(key)) {
        Some(Ok(record)) => StoreFuture::ready(span::closed(
            &span,
            Ok(record.and_then(Record::into_item)),
            1,
        )),
        Some(failed) => StoreFuture::new(get_awaited(store, key, failed, span)),
        None => StoreFuture::reading(Reading {
            request: in_scope(&span, || store.read(key)),
            then: get_answered,
            underway: Underway {
                store,
                operation,
                key,
                expect: Expect::Any,
                // A read writes no token.
                token: WriteToken::from_u128(0),
                span,
            },
        }),
    }
}

/// Judges the answer to a `get`'s first request.
fn get_answered<'a>(
    answer: ReadAnswer,
    underway: Underway<'a>,
) -> StoreFuture<'a, Option<Versioned<Value>>> {
    let Underway {
        store, key, span, ..
    } = underway;
    match answer {
        Ok(record) => StoreFuture::ready(span::closed(
            &span,
            Ok(record.and_then(Record::into_item)),
            1,
        )),
        failed => StoreFuture::new(get_awaited(store, key, failed, span)),
    }
}

/// The rest of a `get` whose first attempt failed with `first`: sent again while the
/// failure is transient and the store's policy allows.
async fn get_awaited<S: Storage + ?Sized>(
    store: &S,
    key: &Key,
    first: ReadAnswer,
    span: Span,
) -> Result<Option<Versioned<Value>>> {
    let mut first = Some(first);
    // A read applies nothing, whatever happened to its answer: always safe to send
    // again.
    let reads = retry_transient(store.retry_policy(), || {
        let first = first.take();
        async move {
            match first {
                Some(answer) => answer,
                None => store.read(key).await,
            }
            .map_err(settle::not_applied)
        }
    });
    let read = span::within(&span, reads).await;
    let result = read
        .result
        .map(|record| record.and_then(Record::into_item))
        .map_err(|e| public(store, Operation::Get, Some(key), e, read.exhausted));
    span::closed(&span, result, read.attempts)
}

/// `insert` (`Absent`), `update` (`At`) and `put` (`Any`): the version written. The
/// first attempt hands the value over ([`Storage::write_value_now`], then
/// [`Storage::write_value`]), so that a store keeping values as they are moves it in
/// instead of copying it.
fn put<'a>(
    store: &'a dyn Storage,
    operation: Operation,
    key: &'a Key,
    expect: Expect,
    value: Value,
) -> StoreFuture<'a, Version> {
    let checked = validate::write(operation, key, &value, store.capabilities());
    let span = span::open(store.backend_name(), operation, Some(key), Some(expect));
    if let Err(invalid) = checked {
        return StoreFuture::ready(span::closed(&span, Err(invalid), 0));
    }
    let token = WriteToken::random();
    // No version follows `expected = u64::MAX`: `send` makes that put a check.
    if matches!(expect, Expect::At(_)) && expect.next_version().is_none() {
        let attempts = put_awaited(store, operation, key, expect, token, value, None);
        return StoreFuture::new(span::run(span, attempts));
    }
    let put = OwnedPut::new(key, expect, token, value);
    match in_scope(&span, || store.write_value_now(put)) {
        Ok(answer) => judge_put(answer, store, operation, key, expect, token, span),
        Err(put) => StoreFuture::writing(Writing {
            request: in_scope(&span, || store.write_value(put)),
            then: put_answered,
            underway: Underway {
                store,
                operation,
                key,
                expect,
                token,
                span,
            },
        }),
    }
}

/// Judges the answer to a put's first request, awaited.
fn put_answered<'a>(answer: PutAnswer, underway: Underway<'a>) -> StoreFuture<'a, Version> {
    let Underway {
        store,
        operation,
        key,
        expect,
        token,
        span,
    } = underway;
    judge_put(answer, store, operation, key, expect, token, span)
}

/// Judges the answer to a put's first request: the version written, the conflict, or
/// the future of the attempts still to make. Inlined into `put` for a store that
/// answers at once (a call here, or the parts gathered into an `Underway`, cost the
/// memory store's update 0.5-1.5%).
#[inline(always)]
fn judge_put<'a>(
    answer: PutAnswer,
    store: &'a dyn Storage,
    operation: Operation,
    key: &'a Key,
    expect: Expect,
    token: WriteToken,
    span: Span,
) -> StoreFuture<'a, Version> {
    let (value, first) = match answer {
        // Applied, as the store says; a value it did not keep is dropped here.
        PutAnswer::Kept { previous }
        | PutAnswer::Answered {
            answer: Ok(Outcome::Applied { previous }),
            ..
        } => {
            // The common answer built where it is returned, not in a local copied
            // there (a copy read just after its parts were written stalls).
            if let Some(version) = version_after_put(expect, previous) {
                span::close_ok(&span, 1);
                return StoreFuture::ready(Ok(version));
            }
            let result = Err(exhausted(store, operation, key));
            return StoreFuture::ready(span::closed(&span, result, 1));
        }
        PutAnswer::Answered { answer, value } => (value, answer),
    };
    // A refusal the first answer settles (no attempt of this write can have applied
    // before it), judged here as the resending loop would on its first round; any
    // other answer goes to that loop.
    let first = match first {
        Ok(Outcome::Refused { current }) => {
            let write = Write::carrying(key, expect, Change::Put(&value), token);
            let tombstones = store.capabilities().tombstones;
            match send::judge_refusal(&write, &write, current.as_ref(), false, tombstones) {
                Refusal::AppliedBefore(previous) => {
                    let result = put_version(store, operation, key, expect, previous);
                    return StoreFuture::ready(span::closed(&span, result, 1));
                }
                Refusal::Final => {
                    let result = Err(send::refused(store, operation, &write, current));
                    return StoreFuture::ready(span::closed(&span, result, 1));
                }
                _ => Ok(Outcome::Refused { current }),
            }
        }
        other => other,
    };
    let attempts = put_awaited(store, operation, key, expect, token, value, Some(first));
    StoreFuture::new(span::run(span, attempts))
}

/// The attempts of a put the store did not settle at once: `first` is the answer to
/// the first attempt, made with the value handed over and given back; `None` for a
/// put that expects `u64::MAX`, which `send` makes a check.
///
/// An `async` block, not an `async fn`, for the size of its future: see `send`.
#[allow(clippy::manual_async_fn)] // on purpose: see above
fn put_awaited<S: Storage + ?Sized>(
    store: &S,
    operation: Operation,
    key: &Key,
    expect: Expect,
    token: WriteToken,
    value: Value,
    first: Option<std::result::Result<Outcome, StorageError>>,
) -> impl Future<Output = (Result<Version>, u32)> {
    async move {
        let version =
            |sent: &Write<'_>, previous| put_version(store, operation, key, sent.expect, previous);
        let write = Write::carrying(key, expect, Change::Put(&value), token);
        send(store, operation, write, first, version).await
    }
}

/// The version a put under `expect` left on a key that held `previous`.
fn put_version<S: Storage + ?Sized>(
    store: &S,
    operation: Operation,
    key: &Key,
    expect: Expect,
    previous: Held,
) -> Result<Version> {
    version_after_put(expect, previous).ok_or_else(|| exhausted(store, operation, key))
}

/// `delete` (`At`) and `remove` (`Any`): the version the item had.
async fn delete<S: Storage + ?Sized>(
    store: &S,
    operation: Operation,
    key: &Key,
    expect: Expect,
) -> Result<Option<Version>> {
    let checked = validate::key(operation, key, store.capabilities());
    let span = span::open(store.backend_name(), operation, Some(key), Some(expect));
    if let Err(invalid) = checked {
        return span::closed(&span, Err(invalid), 0);
    }
    let write = Write::new(key, expect, Change::Delete);
    let attempts = send(store, operation, write, None, |_, previous| {
        Ok(previous.live_version())
    });
    span::run(span, attempts).await
}

/// Runs `f` in `span`, entered only when someone listens.
#[inline]
fn in_scope<R>(span: &Span, f: impl FnOnce() -> R) -> R {
    if span.is_disabled() {
        f()
    } else {
        span.in_scope(f)
    }
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

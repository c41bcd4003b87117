//! One `tracing` span per operation: the backend, the operation, its key and expected
//! version, and once it ends, its outcome and how many requests it took.

use futures_util::FutureExt as _;
use futures_util::future::Either;
use tracing::field::{Empty, display};
use tracing::instrument::Instrumented;
use tracing::{Instrument, Span};

use crate::{Error, Expect, Key, Operation, Result};

/// Opens the span of one operation (at debug level: free when nobody listens).
pub(super) fn open(
    backend: &'static str,
    operation: Operation,
    key: Option<&Key>,
    expect: Option<Expect>,
) -> Span {
    let span = tracing::debug_span!(
        "optimist",
        backend,
        operation = %operation,
        key = Empty,
        expected = Empty,
        outcome = Empty,
        attempts = Empty,
    );
    if !span.is_disabled() {
        if let Some(key) = key {
            span.record("key", display(key));
        }
        match expect {
            Some(Expect::At(version)) => {
                span.record("expected", display(version));
            }
            Some(Expect::Absent | Expect::Tombstone(_)) => {
                span.record("expected", "absent");
            }
            Some(Expect::Any) | None => {}
        }
    }
    span
}

/// Runs `future` inside `span` when someone listens, and as it is when nobody does:
/// wrapped, a future enters and leaves even a disabled span at every poll, and with
/// `tracing`'s `log` feature on (sqlx turns it on) each of those asks `log` too.
pub(super) fn within<F: Future>(span: &Span, future: F) -> Either<F, Instrumented<F>> {
    if span.is_disabled() {
        Either::Left(future)
    } else {
        Either::Right(future.instrument(span.clone()))
    }
}

/// Runs an operation's `attempts` (its result and how many requests it took) in its
/// span, and closes the span with them.
///
/// A combinator, not an `async fn`: an `async fn` keeps its argument beside the future
/// it awaits, so every operation's future was held twice over (a SQLite put's 1.5 KB of
/// attempts made a 4.7 KB future, copied into its box on every call).
pub(super) fn run<T, F>(span: Span, attempts: F) -> impl Future<Output = Result<T>>
where
    F: Future<Output = (Result<T>, u32)>,
{
    within(&span, attempts).map(move |(result, attempts)| closed(&span, result, attempts))
}

/// Records how an operation ended, and says it in one debug event inside the span.
pub(super) fn close<T>(span: &Span, result: &Result<T>, attempts: u32) {
    if !span.is_disabled() {
        record_end(span, outcome(result), attempts);
    }
}

/// [`close`], handing the result on.
#[inline]
pub(super) fn closed<T>(span: &Span, result: Result<T>, attempts: u32) -> Result<T> {
    close(span, &result, attempts);
    result
}

/// The part of [`close`] that runs only when someone listens.
fn record_end(span: &Span, outcome: &'static str, attempts: u32) {
    span.record("outcome", outcome);
    span.record("attempts", attempts);
    tracing::debug!(parent: span, outcome, attempts, "optimist operation done");
}

fn outcome<T>(result: &Result<T>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(Error::Conflict { .. }) => "conflict",
        Err(Error::TransactionConflict { .. }) => "transaction conflict",
        Err(Error::InvalidInput { .. }) => "invalid input",
        Err(Error::Unsupported { .. }) => "unsupported",
        Err(Error::Configuration { .. }) => "configuration error",
        Err(Error::Indeterminate { .. }) => "indeterminate",
        Err(Error::Backend { .. }) => "backend error",
        Err(Error::Lease { .. }) => "lease conflict",
    }
}

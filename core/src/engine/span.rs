//! One `tracing` span per operation: the backend, the operation, its key and expected
//! version, and once it ends, its outcome and how many requests it took.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

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
/// A future of its own, not an `async fn` nor `within` and a `map`: an `async fn`
/// keeps its argument beside the future it awaits (a SQLite put's 1.5 KB of attempts
/// made a 4.7 KB future), and a map over `within` held the span twice.
pub(super) fn run<T, F>(span: Span, attempts: F) -> Run<F>
where
    F: Future<Output = (Result<T>, u32)>,
{
    Run { span, attempts }
}

pin_project_lite::pin_project! {
    /// The future of [`run`].
    pub(super) struct Run<F> {
        span: Span,
        #[pin]
        attempts: F,
    }
}

impl<T, F> Future for Run<F>
where
    F: Future<Output = (Result<T>, u32)>,
{
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.project();
        // Entered only when someone listens: see `within`.
        let (result, attempts) = if this.span.is_disabled() {
            ready!(this.attempts.poll(cx))
        } else {
            let _entered = this.span.enter();
            ready!(this.attempts.poll(cx))
        };
        Poll::Ready(closed(this.span, result, attempts))
    }
}

/// Records how an operation ended, and says it in one debug event inside the span.
pub(super) fn close<T>(span: &Span, result: &Result<T>, attempts: u32) {
    if !span.is_disabled() {
        record_end(span, outcome(result), attempts);
    }
}

/// [`close`] for a success, without the result.
#[inline]
pub(super) fn close_ok(span: &Span, attempts: u32) {
    if !span.is_disabled() {
        record_end(span, "ok", attempts);
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

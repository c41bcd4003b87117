//! A call's first request to the store, awaited by the call's own future: the store's
//! future is polled where it lies, and its answer handed to the engine's judgement.
//! Awaited inside a boxed future of the engine's own, with the resending loop around
//! it, it cost every call of a networked store one more allocation and a few layers of
//! state machine, for resends and settling that a typical call never needs.

use std::pin::Pin;
use std::task::{Context, Poll};

use tracing::Span;

use super::StoreFuture;
use crate::{Expect, Key, Operation, PutAnswer, Record, Storage, StorageError, WriteToken};

/// The answer to a read's request.
pub(crate) type ReadAnswer = Result<Option<Record>, StorageError>;

/// A store's future, as an `async` trait method returns it.
pub(crate) type Request<'a, A> = Pin<Box<dyn Future<Output = A> + Send + 'a>>;

/// The first request of a call in flight, and what judges its answer.
pub(crate) struct First<'a, A, T> {
    /// The store's future for the request.
    pub(crate) request: Request<'a, A>,
    /// Judges the answer: the call's result, or a future for the rest (resending
    /// after a transient failure, settling a lost answer).
    pub(crate) then: fn(A, Underway<'a>) -> StoreFuture<'a, T>,
    /// What the judgement needs.
    pub(crate) underway: Underway<'a>,
}

/// A call whose first request has been made: what its judgement needs to finish it.
pub(crate) struct Underway<'a> {
    pub(crate) store: &'a dyn Storage,
    pub(crate) operation: Operation,
    pub(crate) key: &'a Key,
    pub(crate) expect: Expect,
    /// The write's token (unused by a read).
    pub(crate) token: WriteToken,
    /// The call's span, entered while the request is polled.
    pub(crate) span: Span,
}

impl<'a, A, T> First<'a, A, T> {
    /// Polls the request, in the call's span when someone listens (entering even a
    /// disabled span costs a call into `tracing` at every poll).
    pub(super) fn poll_request(&mut self, cx: &mut Context<'_>) -> Poll<A> {
        if self.underway.span.is_disabled() {
            self.request.as_mut().poll(cx)
        } else {
            let _entered = self.underway.span.enter();
            self.request.as_mut().poll(cx)
        }
    }

    /// Hands the answer to the judgement.
    pub(super) fn judge(self, answer: A) -> StoreFuture<'a, T> {
        (self.then)(answer, self.underway)
    }
}

/// A read whose first request is `request`.
pub(crate) type Reading<'a, T> = First<'a, ReadAnswer, T>;

/// A put whose first request (the value handed over) is `request`.
pub(crate) type Writing<'a, T> = First<'a, PutAnswer, T>;

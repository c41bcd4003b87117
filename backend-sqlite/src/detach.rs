//! Each write runs to its end, whatever its caller does; a read runs where its caller
//! awaits it.
//!
//! A caller may drop an operation's future at any `.await` (a timeout, a `select!`).
//! Dropped half way through sqlx's exchange with its SQLite worker thread (a `BEGIN`
//! answered but not yet wrapped in a transaction, a statement mid-way, a commit sent),
//! a connection went back to the pool or to the `:memory:` store in a state the next
//! call tripped over: a transaction left open, so later reads saw an old snapshot, or a
//! worker that answered nothing more. The suite's cancellation cases found it. So a
//! write dropped half way is handed to a task of its own ([`run`]): dropping its future
//! only stops the waiting; the call itself finishes and leaves its connection clean. A
//! write then lands whole or not at all, possibly after its caller has gone, which is
//! what the contract allows a dropped call (R12). Until it is dropped, its caller polls
//! it: a task spawned for every write cost a wake-up of another runtime thread per
//! call.
//!
//! A read is one autocommit `SELECT` on one connection: no `BEGIN`, no lock beyond the
//! statement's own snapshot. Dropped half way, it leaves nothing to finish: sqlx's
//! worker finds the receiver of its rows gone, stops stepping and resets the statement
//! (which ends SQLite's implicit read transaction), and the connection goes back to the
//! pool, whose return sends the worker a ping it answers only after the abandoned
//! statement, or to the `:memory:` store's lock, whose next holder's statement queues
//! behind it the same way. So a read skips the task: spawning one cost a wake-up of
//! another runtime thread per call (one more `epoll_wait` and eventfd `write` per `get`
//! than bare sqlx, counted with `strace -c`), most of what a one-client `get` cost
//! beyond bare sqlx.
//! `tests/cancelled_reads.rs` cuts reads at every await and checks that the store still
//! answers, with what was last written.

use std::future::{self, Future, Ready};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::Either;
use optimist_core::{Applied, ErrorKind, StorageError};

/// Runs the write `call` where its caller awaits it, and, if the caller drops it before
/// it ends, to its end in a task of its own; answers what it answers. A call that
/// panics may have applied the write: it answers so.
///
/// Not an `async fn`: one would hold `call` beside the box it moves `call` into, and
/// each future around it would be as large (a write's call is ~1.8 KB).
pub(crate) fn run<T, F>(call: F) -> Either<ToTheEnd<F>, Ready<Result<T, StorageError>>>
where
    T: Send + 'static,
    F: Future<Output = Result<T, StorageError>> + Send + 'static,
{
    match runtime() {
        Ok(runtime) => Either::Left(ToTheEnd {
            call: Some(Box::pin(call)),
            runtime,
        }),
        Err(no_runtime) => Either::Right(future::ready(Err(no_runtime))),
    }
}

/// A write polled by its caller that finishes in a task of its own if the caller
/// drops it half way. Spawning every write up front cost a wake-up of another runtime
/// thread per call (the task's answer woke the caller): here the SQLite worker's
/// answer wakes the caller itself.
pub(crate) struct ToTheEnd<F>
where
    F: Future<Output: Send + 'static> + Send + 'static,
{
    /// The call, until it answers.
    call: Option<Pin<Box<F>>>,
    runtime: tokio::runtime::Handle,
}

impl<T, F> Future for ToTheEnd<F>
where
    T: Send + 'static,
    F: Future<Output = Result<T, StorageError>> + Send + 'static,
{
    type Output = Result<T, StorageError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(call) = self.call.as_mut() else {
            return Poll::Pending;
        };
        let answer = match std::panic::catch_unwind(AssertUnwindSafe(|| call.as_mut().poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(answer)) => answer,
            Err(_) => Err(StorageError::new(
                ErrorKind::Other,
                Applied::Maybe,
                "the SQLite call panicked",
            )),
        };
        self.call = None;
        Poll::Ready(answer)
    }
}

impl<F> Drop for ToTheEnd<F>
where
    F: Future<Output: Send + 'static> + Send + 'static,
{
    fn drop(&mut self) {
        // The caller stopped waiting: the call goes on alone and leaves its connection
        // clean. (A runtime shutting down drops it; sqlx then rolls back what it began.)
        if let Some(call) = self.call.take() {
            drop(self.runtime.spawn(call));
        }
    }
}

/// Runs a read where its caller awaits it: no task of its own, as nothing is left to
/// finish if its caller drops it (see the module's note). Outside a tokio runtime it
/// answers as a write does (sqlx's pool needs one), instead of panicking in sqlx.
/// Not an `async fn`, for the reason [`run`] is not.
pub(crate) fn in_place<T, F>(read: F) -> Either<F, Ready<Result<T, StorageError>>>
where
    F: Future<Output = Result<T, StorageError>>,
{
    match runtime() {
        Ok(_) => Either::Left(read),
        Err(no_runtime) => Either::Right(future::ready(Err(no_runtime))),
    }
}

/// The runtime calls run on: the caller's, which sqlx needs too.
fn runtime() -> Result<tokio::runtime::Handle, StorageError> {
    tokio::runtime::Handle::try_current().map_err(|_| {
        StorageError::not_applied(
            ErrorKind::Rejected,
            "optimist-sqlite runs on tokio (sqlx's pool, and a task that finishes a write its caller drops): call it inside a tokio runtime",
        )
    })
}

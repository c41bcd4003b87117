//! Each write runs to its end in a task of its own, whatever its caller does; a read runs
//! where its caller awaits it.
//!
//! A caller may drop an operation's future at any `.await` (a timeout, a `select!`).
//! Dropped half way through sqlx's exchange with its SQLite worker thread (a `BEGIN`
//! answered but not yet wrapped in a transaction, a statement mid-way, a commit sent),
//! a connection went back to the pool or to the `:memory:` store in a state the next
//! call tripped over: a transaction left open, so later reads saw an old snapshot, or a
//! worker that answered nothing more. The suite's cancellation cases found it. So every
//! write is spawned: dropping its future only stops the waiting; the call itself
//! finishes and leaves its connection clean. A write then lands whole or not at all,
//! possibly after its caller has gone, which is what the contract allows a dropped call
//! (R12).
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

use std::future::Future;

use optimist_core::{
    Applied, Change, ErrorKind, Expect, Key, StorageError, Value, Write, WriteToken,
};

/// Runs the write `call` in its own task and answers what it answers; a task that ends
/// without an answer (it panicked, or the runtime is shutting down) may have applied it.
pub(crate) async fn run<T, F>(call: F) -> Result<T, StorageError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, StorageError>> + Send + 'static,
{
    match runtime()?.spawn(call).await {
        Ok(answer) => answer,
        Err(join) => Err(StorageError::new(
            ErrorKind::Other,
            Applied::Maybe,
            format!("the task running the SQLite call ended without an answer: {join}"),
        )),
    }
}

/// Runs a read where its caller awaits it: no task of its own, as nothing is left to
/// finish if its caller drops it (see the module's note). Outside a tokio runtime it
/// answers as a write does (sqlx's pool needs one), instead of panicking in sqlx.
pub(crate) async fn in_place<T, F>(read: F) -> Result<T, StorageError>
where
    F: Future<Output = Result<T, StorageError>>,
{
    runtime()?;
    read.await
}

/// The runtime calls run on: the caller's, which sqlx needs too.
fn runtime() -> Result<tokio::runtime::Handle, StorageError> {
    tokio::runtime::Handle::try_current().map_err(|_| {
        StorageError::not_applied(
            ErrorKind::Rejected,
            "optimist-sqlite runs on tokio (sqlx's pool, a task per write): call it inside a tokio runtime",
        )
    })
}

/// A [`Write`] a spawned task owns (a `Write` borrows its key and value).
#[derive(Clone, Debug)]
pub(crate) struct OwnedWrite {
    key: Key,
    expect: Expect,
    change: OwnedChange,
    token: WriteToken,
}

#[derive(Clone, Debug)]
enum OwnedChange {
    Put(Value),
    Delete,
    Keep,
}

impl OwnedWrite {
    pub(crate) fn of(write: &Write<'_>) -> Self {
        let change = match write.change {
            Change::Put(value) => OwnedChange::Put(value.clone()),
            Change::Delete => OwnedChange::Delete,
            Change::Keep => OwnedChange::Keep,
        };
        Self {
            key: write.key.clone(),
            expect: write.expect,
            change,
            token: write.token,
        }
    }

    /// The write again, borrowing from this one.
    pub(crate) fn write(&self) -> Write<'_> {
        let change = match &self.change {
            OwnedChange::Put(value) => Change::Put(value),
            OwnedChange::Delete => Change::Delete,
            OwnedChange::Keep => Change::Keep,
        };
        Write::new(&self.key, self.expect, change).with_token(self.token)
    }
}

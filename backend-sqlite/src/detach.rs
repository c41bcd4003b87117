//! Each call runs to its end in a task of its own, whatever its caller does.
//!
//! A caller may drop an operation's future at any `.await` (a timeout, a `select!`).
//! Dropped half way through sqlx's exchange with its SQLite worker thread (a `BEGIN`
//! answered but not yet wrapped in a transaction, a statement mid-way, a commit sent),
//! a connection went back to the pool or to the `:memory:` store in a state the next
//! call tripped over: a transaction left open, so later reads saw an old snapshot, or a
//! worker that answered nothing more. The suite's cancellation cases found it. So every
//! call is spawned: dropping its future only stops the waiting; the call itself finishes
//! and leaves its connection clean. A write then lands whole or not at all, possibly
//! after its caller has gone, which is what the contract allows a dropped call (R12).

use std::future::Future;

use optimist_core::{
    Applied, Change, ErrorKind, Expect, Key, StorageError, Value, Write, WriteToken,
};

/// Runs `call` in its own task and answers what it answers. `lost` says whether the call
/// may have been applied if its task ends without an answer (it panicked, or the runtime
/// is shutting down): `Maybe` for writes, `No` for reads.
pub(crate) async fn run<T, F>(lost: Applied, call: F) -> Result<T, StorageError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, StorageError>> + Send + 'static,
{
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
        StorageError::not_applied(
            ErrorKind::Rejected,
            "optimist-sqlite runs each call as a tokio task: call it inside a tokio runtime",
        )
    })?;
    match runtime.spawn(call).await {
        Ok(answer) => answer,
        Err(join) => Err(StorageError::new(
            ErrorKind::Other,
            lost,
            format!("the task running the SQLite call ended without an answer: {join}"),
        )),
    }
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

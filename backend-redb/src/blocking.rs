//! Every call into redb runs on tokio's blocking pool: redb's calls block (file reads,
//! a write transaction waits for the one before it, a commit waits for its fsync), and
//! blocking inside an `async fn` would stall the runtime's worker threads.
//!
//! What that means for a caller that drops the future (a timeout, a `select!`): the
//! blocking task is not stopped, so a write already handed to it still commits, after
//! the caller has gone. Each call is one redb transaction, so it lands whole or not at
//! all, which is what the contract promises a dropped call (the same as
//! `Indeterminate`, contract R12); nothing here may assume the caller is still waiting.

use optimist_core::{Applied, StorageError};

use crate::error;

/// Runs `work` on the blocking pool and answers what it answers. `lost` says whether
/// the work may have been applied if its task ends without an answer (a panic, a
/// runtime shutting down): `Maybe` for writes, `No` for reads.
pub(crate) async fn run<T, F>(lost: Applied, work: F) -> Result<T, StorageError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StorageError> + Send + 'static,
{
    // spawn_blocking panics outside a runtime: answer an error instead.
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| error::no_runtime())?;
    match runtime.spawn_blocking(work).await {
        Ok(answer) => answer,
        Err(join) => Err(error::task_lost(join, lost)),
    }
}

//! Retrying an operation while the database is busy, for a bounded time.
//!
//! SQLite's own busy handler (`busy_timeout`) waits inside a statement, but some
//! SQLITE_BUSY answers skip it (a stale WAL snapshot, a lock held while a connection
//! opens the database in WAL mode, SQLITE_LOCKED). Such an attempt changed nothing, so
//! the whole operation is tried again after a short jittered pause, until the budget
//! is spent; then the caller gets a retryable backend error.

use std::future::Future;
use std::time::Duration;

use optimist_core::{Key, Operation, Result};
use rand::Rng;
use tokio::time::Instant;

use crate::error::{self, Fail};

/// The longest pause between two attempts.
const MAX_PAUSE: Duration = Duration::from_millis(50);

/// Runs `attempt` until it succeeds, fails for a reason other than a busy database, or
/// `budget` has passed since the first attempt.
pub(crate) async fn busy_retry<T, F, Fut>(
    budget: Duration,
    operation: Operation,
    key: Option<&Key>,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Fail>>,
{
    let start = Instant::now();
    let mut retries = 0u32;
    loop {
        match attempt().await {
            Ok(done) => return Ok(done),
            Err(Fail::Final(error)) => return Err(error),
            Err(Fail::Driver { source, phase }) => {
                if error::is_busy(&source) {
                    let pause = pause(retries);
                    if start.elapsed() + pause < budget {
                        retries += 1;
                        tracing::debug!(%operation, retries, ?pause, "sqlite busy, retrying");
                        tokio::time::sleep(pause).await;
                        continue;
                    }
                    tracing::warn!(%operation, retries, ?budget, "sqlite busy, giving up");
                }
                return Err(error::map(operation, key, source, phase));
            }
        }
    }
}

/// Exponential from 1 ms up to [`MAX_PAUSE`], with jitter so that waiting writers do
/// not wake in step.
fn pause(retries: u32) -> Duration {
    let ceiling = Duration::from_millis(1u64 << retries.min(6)).min(MAX_PAUSE);
    let micros = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rand::thread_rng().gen_range(micros / 2..=micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_and_stay_bounded() {
        assert!(pause(0) <= Duration::from_millis(1));
        assert!(pause(0) >= Duration::from_micros(500));
        for retries in 0..100 {
            assert!(pause(retries) <= MAX_PAUSE);
        }
    }
}

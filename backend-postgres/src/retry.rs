//! Bounded retries of serialization failures and deadlocks.
//!
//! PostgreSQL rolls back a statement or transaction it refuses with 40001 or 40P01, so
//! trying it again is safe and usually succeeds. The retries stop after a time budget,
//! and the refusal is then reported as `Backend { retryable: true }`.

use std::future::Future;
use std::time::{Duration, Instant};

use optimist_core::{Error, Result};
use rand::Rng;

use crate::error::{Context, Failure};

/// How long retries of one operation may go on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RetryBudget(pub(crate) Duration);

const FIRST_PAUSE: Duration = Duration::from_millis(2);
const LONGEST_PAUSE: Duration = Duration::from_millis(200);

impl RetryBudget {
    /// Runs `attempt` until it succeeds, fails for good, or the budget is spent.
    pub(crate) async fn run<T, F, Fut>(self, ctx: Context<'_>, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<T, Failure>>,
    {
        let start = Instant::now();
        let mut ceiling = FIRST_PAUSE;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            match attempt().await {
                Ok(value) => return Ok(value),
                Err(Failure::Final(err)) => return Err(err),
                Err(Failure::Transient(err)) => {
                    // Full jitter: contenders that collided spread out.
                    let pause = rand::thread_rng().gen_range(Duration::ZERO..=ceiling);
                    if start.elapsed() + pause >= self.0 {
                        tracing::debug!(attempts, %err, "giving up on retries");
                        return Err(Error::backend(ctx.operation, ctx.key, true, err));
                    }
                    tracing::trace!(attempts, %err, "retrying");
                    tokio::time::sleep(pause).await;
                    ceiling = (ceiling * 2).min(LONGEST_PAUSE);
                }
            }
        }
    }
}

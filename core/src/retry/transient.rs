//! Resending a storage request after a failure that provably applied nothing: the one
//! retry loop every backend shares, run by the engine.

use std::future::Future;

use crate::StorageError;

use super::RetryPolicy;

/// The result of [`retry_transient`] and how many requests it took.
#[derive(Debug)]
pub struct Attempted<T> {
    /// The last attempt's result.
    pub result: Result<T, StorageError>,
    /// How many attempts were made (at least 1).
    pub attempts: u32,
    /// Whether the last attempt failed transiently with no attempt left: the error is
    /// then reported as not retryable, so callers do not retry it again.
    pub exhausted: bool,
}

/// Runs `attempt` until it succeeds, fails with an error that is not
/// [transient](StorageError::is_transient), or `policy.max_attempts()` attempts were
/// made, sleeping a full-jitter backoff between attempts. A failure that may have been
/// applied is never resent.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use optimist_core::retry::{retry_transient, RetryPolicy};
/// use optimist_core::{ErrorKind, StorageError};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let calls = AtomicU32::new(0);
/// let done = retry_transient(&RetryPolicy::default(), || async {
///     match calls.fetch_add(1, Ordering::SeqCst) {
///         0 => Err(StorageError::not_applied(ErrorKind::Busy, "locked")),
///         _ => Ok("written"),
///     }
/// })
/// .await;
/// assert_eq!(done.result.unwrap(), "written");
/// assert_eq!(done.attempts, 2);
/// # });
/// ```
pub async fn retry_transient<T, F, Fut>(policy: &RetryPolicy, mut attempt: F) -> Attempted<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StorageError>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = attempt().await;
        let transient = matches!(&result, Err(err) if err.is_transient());
        if !transient {
            return Attempted {
                result,
                attempts,
                exhausted: false,
            };
        }
        if attempts >= policy.max_attempts() {
            return Attempted {
                result,
                attempts,
                exhausted: true,
            };
        }
        let pause = policy.delay(attempts);
        tracing::debug!(attempts, ?pause, "transient failure, sending again");
        tokio::time::sleep(pause).await;
    }
}

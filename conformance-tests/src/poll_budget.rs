//! Cutting a call short: a future dropped after a given number of polls, wherever it
//! stood, as a caller's `select!` or timeout would drop it. The suite's cancellation
//! cases (contract R12) use it, and a backend's own tests can too.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future polled at most `polls` times: then it answers `None` and the inner future
/// is dropped with it, wherever it stood; `Some` with the inner future's output if that
/// came first.
///
/// ```
/// use optimist_conformance::PollBudget;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// assert_eq!(PollBudget::new(async { 7 }, 1).await, Some(7));
/// assert_eq!(PollBudget::new(tokio::task::yield_now(), 1).await, None);
/// # });
/// ```
#[derive(Debug)]
pub struct PollBudget<F> {
    inner: Pin<Box<F>>,
    left: u32,
}

impl<F: Future> PollBudget<F> {
    /// `call`, polled at most `polls` times (at least once).
    pub fn new(call: F, polls: u32) -> Self {
        Self {
            inner: Box::pin(call),
            left: polls.max(1),
        }
    }
}

impl<F: Future> Future for PollBudget<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(out) = self.inner.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        self.left = self.left.saturating_sub(1);
        if self.left == 0 {
            Poll::Ready(None)
        } else {
            // The inner future registered the waker: it wakes this one.
            Poll::Pending
        }
    }
}

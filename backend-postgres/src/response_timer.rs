//! The response timeout's timer: one per connection, kept from one request to the next
//! (and a few the pool keeps for callers waiting for a connection).
//!
//! `tokio::time::timeout` arms a timer for each request and removes it when the answer
//! comes: two trips through the runtime's timer wheel, under its lock, about 900 of the
//! ~20,000 instructions a read costs the client (callgrind). Here a connection keeps
//! one `Sleep`, and a request only notes its own deadline. The `Sleep` stays armed for
//! an earlier request's deadline, which is never later than the current one (every
//! deadline is a request's start plus the store's response timeout); when it goes off
//! during a request whose deadline has not come, it is armed again for that deadline.
//! So while requests keep coming the timer is re-armed about once per timeout, not
//! twice per request, and each request still times out at its own deadline.
//!
//! A `Sleep` belongs to the runtime it was made on, and one whose runtime has shut down
//! panics when polled; the timer is made afresh when a request runs on another runtime
//! than the one it was made on (a store built on one runtime and used from another).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::runtime::{Handle, Id};
use tokio::time::{Instant, Sleep};

/// One connection's timer for its requests' answers.
#[derive(Default)]
pub(crate) struct ResponseTimer {
    /// The timer, and the runtime it was made on; none until a request waits.
    sleep: Option<(Id, Pin<Box<Sleep>>)>,
}

impl ResponseTimer {
    /// `answer`, or `None` if it has not come `timeout` after this call.
    pub(crate) fn within<F: Future>(&mut self, timeout: Duration, answer: F) -> Within<'_, F> {
        Within {
            answer,
            timer: self,
            deadline: Instant::now().checked_add(timeout),
        }
    }

    /// The timer made on the current runtime, made now (for `deadline`) if there is
    /// none yet or it belongs to another runtime; `None` outside a runtime.
    fn on_this_runtime(&mut self, deadline: Instant) -> Option<&mut Pin<Box<Sleep>>> {
        let runtime = Handle::try_current().ok()?.id();
        let slot = &mut self.sleep;
        if !matches!(slot, Some((made_on, _)) if *made_on == runtime) {
            *slot = Some((runtime, Box::pin(tokio::time::sleep_until(deadline))));
        }
        slot.as_mut().map(|(_, sleep)| sleep)
    }
}

pin_project_lite::pin_project! {
    /// A request's answer, or `None` once the request's deadline has passed.
    /// `deadline` is `None` for a timeout too long to have one (it never expires).
    pub(crate) struct Within<'t, F> {
        #[pin]
        answer: F,
        timer: &'t mut ResponseTimer,
        deadline: Option<Instant>,
    }
}

impl<F: Future> Future for Within<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(answer) = this.answer.poll(cx) {
            return Poll::Ready(Some(answer));
        }
        let Some(deadline) = *this.deadline else {
            return Poll::Pending;
        };
        let Some(sleep) = this.timer.on_this_runtime(deadline) else {
            // No runtime to time with: the answer's own I/O needs one, and fails
            // without it.
            return Poll::Pending;
        };
        // Set for an earlier deadline (or this one) it goes off in time; set for a
        // later one (a longer timeout before), it would not.
        if sleep.deadline() > deadline {
            sleep.as_mut().reset(deadline);
        }
        // Went off for an earlier request's deadline: armed again for this one, and
        // polled again so that it wakes this task. Twice at most: armed for this
        // deadline, it goes off only once the deadline has passed.
        for _ in 0..2 {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if Instant::now() >= deadline {
                break;
            }
            sleep.as_mut().reset(deadline);
        }
        Poll::Ready(None)
    }
}

#[cfg(test)]
#[allow(clippy::panic)] // tests fail by panicking
mod tests {
    use std::future::pending;

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(30);

    /// An answer that comes `after` (of the paused clock) from its first poll.
    async fn answer_after(after: Duration, answer: u8) -> u8 {
        tokio::time::sleep(after).await;
        answer
    }

    /// Asserts that a request never answered ends after exactly `timeout`.
    async fn times_out_after(timer: &mut ResponseTimer, timeout: Duration) {
        let started = Instant::now();
        assert_eq!(timer.within(timeout, pending::<u8>()).await, None);
        assert_eq!(started.elapsed(), timeout);
    }

    fn paused_runtime() -> tokio::runtime::Runtime {
        let built = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build();
        built.unwrap_or_else(|err| panic!("a runtime for the test: {err}"))
    }

    #[test]
    fn an_answer_in_time_is_handed_out_and_a_late_one_times_out_at_its_own_deadline() {
        paused_runtime().block_on(async {
            let mut timer = ResponseTimer::default();
            assert_eq!(timer.within(TIMEOUT, async { 7 }).await, Some(7));
            // A request that waits on the network (the timer goes off meanwhile).
            let answer = answer_after(Duration::from_secs(20), 8);
            assert_eq!(timer.within(TIMEOUT, answer).await, Some(8));
            // The timer is still armed for the first request's deadline, 20 s ago plus
            // 30 s; this request's deadline is 30 s from now, not 10.
            times_out_after(&mut timer, TIMEOUT).await;
        });
    }

    #[test]
    fn a_shorter_timeout_after_a_longer_one_still_ends_the_wait_at_its_deadline() {
        paused_runtime().block_on(async {
            let mut timer = ResponseTimer::default();
            let answer = answer_after(Duration::from_secs(1), 1);
            assert_eq!(
                timer.within(Duration::from_secs(3600), answer).await,
                Some(1)
            );
            times_out_after(&mut timer, Duration::from_secs(5)).await;
        });
    }

    #[test]
    fn a_timer_made_on_a_runtime_since_shut_down_is_made_again_on_the_next() {
        let mut timer = ResponseTimer::default();
        paused_runtime().block_on(async {
            let answer = answer_after(Duration::from_secs(1), 1);
            assert_eq!(timer.within(TIMEOUT, answer).await, Some(1));
        });
        // The first runtime is gone: polling its timer would panic.
        paused_runtime().block_on(times_out_after(&mut timer, TIMEOUT));
    }

    #[test]
    fn a_timeout_too_long_for_a_deadline_never_expires() {
        paused_runtime().block_on(async {
            let mut timer = ResponseTimer::default();
            let answer = answer_after(Duration::from_secs(365 * 24 * 3600), 1);
            assert_eq!(timer.within(Duration::MAX, answer).await, Some(1));
        });
    }
}

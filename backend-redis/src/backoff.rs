//! The pauses between a connection's attempts to come back, while the store waits for
//! a server (or cluster) that closed it to take clients again.

use std::time::Duration;

/// The pause after the first failed attempt; each next pause doubles, up to
/// [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(50);

/// The longest pause between two attempts.
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// Doubling pauses, from [`FIRST_PAUSE`] to [`MAX_PAUSE`]: quick after a brief close,
/// one attempt every 2 s at most against a server that stays down.
pub(crate) struct Backoff {
    next: Duration,
    /// Attempts failed so far.
    pub(crate) failures: u32,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        Self {
            next: FIRST_PAUSE,
            failures: 0,
        }
    }

    /// Counts a failed attempt and waits before the next one.
    pub(crate) async fn pause(&mut self) {
        self.failures = self.failures.saturating_add(1);
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(MAX_PAUSE);
    }
}

//! The retry policy: how many attempts, and how long to wait between them.

use std::time::Duration;

use rand::Rng;

/// How many times to try a write that conflicts, and how long to wait in between:
/// exponential backoff with full jitter. The `n`th backoff is drawn uniformly from
/// `[0, min(max_delay, base_delay * 2^(n-1))]`.
///
/// Full jitter spreads writers that collided at the same instant over the whole window,
/// so they stop colliding again in lockstep; the window doubles until the writers fit
/// in it. See [`Default`](#impl-Default-for-RetryPolicy) for the default's numbers.
///
/// ```
/// use std::time::Duration;
/// use optimist_core::retry::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(5)
///     .with_base_delay(Duration::from_millis(10));
/// assert_eq!(policy.max_attempts(), 5);
/// // The 3rd backoff is at most 10 ms * 2^2.
/// assert_eq!(policy.ceiling(3), Duration::from_millis(40));
/// assert!(policy.delay(3) <= Duration::from_millis(40));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 40 attempts, base 2 ms, cap 500 ms: sized for a hot key with 16 writers.
    ///
    /// 16 writers that increment one key with no pause overload it: the key takes one
    /// write per round trip, so each writer must wait about 16 round trips per success,
    /// and the unluckiest wait much longer. The bench `core/benches/hot_key.rs` (16
    /// writers, simulated 1 ms round trip) measured, per successful update, a median
    /// of 2-3 writes and a p99 in the twenties; 10 attempts left 5-30% of updates
    /// exhausted whatever the delays, 40 attempts none. Base 2 ms spreads the first
    /// retries over about one round trip; the 500 ms cap is reached after 9 backoffs,
    /// when 16 writers are spread over far more than their 16 round trips. The
    /// project's test runs 16 writers × 50 increments through
    /// [`update_with`](crate::typed::Context::update_with) with no `RetryExhausted`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = optimist_core::retry::RetryPolicy::default();
    /// assert_eq!(policy.max_attempts(), 40);
    /// assert_eq!(policy.base_delay(), Duration::from_millis(2));
    /// assert_eq!(policy.max_delay(), Duration::from_millis(500));
    /// ```
    fn default() -> Self {
        Self {
            max_attempts: 40,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(500),
        }
    }
}

/// The policy [`RetryPolicy::transient_default`] returns.
static TRANSIENT: RetryPolicy = RetryPolicy {
    max_attempts: 6,
    base_delay: Duration::from_millis(5),
    max_delay: Duration::from_millis(250),
};

impl RetryPolicy {
    /// The default for resending a request after a transient failure that applied
    /// nothing (busy, throttled, connection refused): 6 attempts, base 5 ms, cap 250 ms,
    /// so a store gives up after about half a second of back-off in the worst case and
    /// a caller's own loop is not multiplied by a long hidden one. A backend's builder
    /// takes another with `retry_policy(..)`.
    ///
    /// ```
    /// let policy = optimist_core::retry::RetryPolicy::transient_default();
    /// assert_eq!(policy.max_attempts(), 6);
    /// ```
    pub fn transient_default() -> &'static RetryPolicy {
        &TRANSIENT
    }

    /// A policy of `max_attempts` attempts (at least 1) with the given delays.
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = optimist_core::retry::RetryPolicy::new(3, Duration::from_millis(1), Duration::from_millis(8));
    /// assert_eq!(policy.ceiling(10), Duration::from_millis(8));
    /// ```
    pub fn new(max_attempts: u32, base_delay: Duration, max_delay: Duration) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            base_delay,
            max_delay,
        }
    }

    /// One attempt, no retry: a conflict is returned as
    /// [`RetryExhausted`](crate::typed::Error::RetryExhausted) with `attempts: 1`.
    ///
    /// ```
    /// assert_eq!(optimist_core::retry::RetryPolicy::no_retry().max_attempts(), 1);
    /// ```
    pub fn no_retry() -> Self {
        Self::new(1, Duration::ZERO, Duration::ZERO)
    }

    /// The same policy with another number of attempts (at least 1).
    ///
    /// ```
    /// let p = optimist_core::retry::RetryPolicy::default().with_max_attempts(0);
    /// assert_eq!(p.max_attempts(), 1);
    /// ```
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// The same policy with another base delay.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = optimist_core::retry::RetryPolicy::default().with_base_delay(Duration::from_millis(5));
    /// assert_eq!(p.ceiling(1), Duration::from_millis(5));
    /// ```
    pub fn with_base_delay(mut self, base_delay: Duration) -> Self {
        self.base_delay = base_delay;
        self
    }

    /// The same policy with another cap on a single wait.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = optimist_core::retry::RetryPolicy::default().with_max_delay(Duration::from_millis(50));
    /// assert_eq!(p.ceiling(30), Duration::from_millis(50));
    /// ```
    pub fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// How many attempts in all, the first included.
    ///
    /// ```
    /// assert_eq!(optimist_core::retry::RetryPolicy::default().max_attempts(), 40);
    /// ```
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The window after the first failure.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(optimist_core::retry::RetryPolicy::default().base_delay(), Duration::from_millis(2));
    /// ```
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// The largest window.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(optimist_core::retry::RetryPolicy::default().max_delay(), Duration::from_millis(500));
    /// ```
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The largest `n`th backoff:
    /// `min(max_delay, base_delay * 2^(n - 1))`; zero for `n = 0`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = optimist_core::retry::RetryPolicy::default();
    /// assert_eq!(p.ceiling(0), Duration::ZERO);
    /// assert_eq!(p.ceiling(1), Duration::from_millis(2));
    /// assert_eq!(p.ceiling(4), Duration::from_millis(16));
    /// assert_eq!(p.ceiling(64), Duration::from_millis(500));
    /// ```
    pub fn ceiling(&self, n: u32) -> Duration {
        let Some(doublings) = n.checked_sub(1) else {
            return Duration::ZERO;
        };
        let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.max_delay)
    }

    /// The `n`th backoff, drawn uniformly from `[0, ceiling(n)]` (full jitter).
    ///
    /// ```
    /// let p = optimist_core::retry::RetryPolicy::default();
    /// assert!(p.delay(2) <= p.ceiling(2));
    /// ```
    pub fn delay(&self, n: u32) -> Duration {
        self.delay_with(n, &mut rand::thread_rng())
    }

    /// [`delay`](Self::delay) with a given random source, for reproducible tests.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let p = optimist_core::retry::RetryPolicy::default();
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    /// assert!(p.delay_with(5, &mut rng) <= p.ceiling(5));
    /// ```
    pub fn delay_with<R: Rng + ?Sized>(&self, n: u32, rng: &mut R) -> Duration {
        let ceiling = self.ceiling(n);
        // Nanoseconds fit in u64 for any wait under 584 years.
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.gen_range(0..=nanos))
    }
}

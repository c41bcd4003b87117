//! What a lease is acquired with: the owner's name, the lease duration, and how often
//! a waiter looks at the record.

use std::time::Duration;

use crate::{Error, Key, Operation, Result};

/// The shortest lease duration: durations are stored in whole milliseconds.
pub const MIN_LEASE_DURATION: Duration = Duration::from_millis(1);

/// The longest lease duration, one day: anything longer is taken for a unit mistake
/// (a lease nobody can take over for a week is not a lease).
pub const MAX_LEASE_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest owner name, in bytes.
pub const MAX_OWNER_BYTES: usize = 256;

/// How to acquire a lease: who the owner is and how long the lease lasts without a
/// renewal. Checked when used; bad options are `InvalidInput` and nothing is written.
///
/// ```
/// use std::time::Duration;
/// use optimist_core::lease::LeaseOptions;
///
/// let options = LeaseOptions::new("worker-7", Duration::from_secs(10))
///     .with_poll_interval(Duration::from_secs(1));
/// assert_eq!(options.owner(), "worker-7");
/// assert_eq!(options.duration(), Duration::from_secs(10));
/// assert_eq!(options.poll_interval(), Duration::from_secs(1));
/// // By default a waiter looks four times per lease duration.
/// let default = LeaseOptions::new("worker-7", Duration::from_secs(10));
/// assert_eq!(default.poll_interval(), Duration::from_millis(2500));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseOptions {
    owner: String,
    duration: Duration,
    poll_interval: Option<Duration>,
}

impl LeaseOptions {
    /// Options for `owner` (a name that says who holds the lease: host and process, a
    /// worker id), with a lease of `duration`: the holder renews within it, and a
    /// waiter takes the lease over only after seeing its record unchanged for that
    /// long. From [`MIN_LEASE_DURATION`] to [`MAX_LEASE_DURATION`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = optimist_core::lease::LeaseOptions::new("a", Duration::from_millis(300));
    /// assert_eq!(options.duration().as_millis(), 300);
    /// ```
    pub fn new(owner: impl Into<String>, duration: Duration) -> Self {
        Self {
            owner: owner.into(),
            duration,
            poll_interval: None,
        }
    }

    /// How often a waiting [`acquire`](super::Lease::acquire) reads the record, to see a
    /// release at once and a renewal that restarts its wait; at most the lease
    /// duration. Default: a quarter of the duration.
    ///
    /// ```
    /// use std::time::Duration;
    /// use optimist_core::lease::LeaseOptions;
    /// let options = LeaseOptions::new("a", Duration::from_secs(4)).with_poll_interval(Duration::from_secs(2));
    /// assert_eq!(options.poll_interval(), Duration::from_secs(2));
    /// ```
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = Some(interval);
        self
    }

    /// The owner's name.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(optimist_core::lease::LeaseOptions::new("a", Duration::from_secs(1)).owner(), "a");
    /// ```
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The lease duration.
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = optimist_core::lease::LeaseOptions::new("a", Duration::from_secs(1));
    /// assert_eq!(options.duration(), Duration::from_secs(1));
    /// ```
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// How often a waiter reads the record: the one set, or a quarter of the duration
    /// (at least a millisecond).
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = optimist_core::lease::LeaseOptions::new("a", Duration::from_millis(2));
    /// assert_eq!(options.poll_interval(), Duration::from_millis(1));
    /// ```
    pub fn poll_interval(&self) -> Duration {
        self.poll_interval
            .unwrap_or_else(|| (self.duration / 4).max(MIN_LEASE_DURATION))
    }

    /// Checks the options for `operation` on the lease at `lease`: an owner that is not
    /// blank, at most [`MAX_OWNER_BYTES`] and free of control characters; a duration
    /// from [`MIN_LEASE_DURATION`] to [`MAX_LEASE_DURATION`] in whole milliseconds; a
    /// poll interval above zero and at most the duration.
    ///
    /// ```
    /// use std::time::Duration;
    /// use optimist_core::{Key, Operation};
    /// use optimist_core::lease::LeaseOptions;
    /// let blank = LeaseOptions::new("  ", Duration::from_secs(1));
    /// assert!(blank.validate(Operation::AcquireLease, &Key::new("l")).unwrap_err().is_invalid_input());
    /// let zero = LeaseOptions::new("a", Duration::ZERO);
    /// assert!(zero.validate(Operation::AcquireLease, &Key::new("l")).is_err());
    /// ```
    pub fn validate(&self, operation: Operation, lease: &Key) -> Result<()> {
        let invalid = |reason: String| Err(Error::invalid(operation, Some(lease), reason));
        if self.owner.trim().is_empty() {
            return invalid("the lease owner is empty".into());
        }
        if self.owner.len() > MAX_OWNER_BYTES {
            return invalid(format!(
                "the lease owner has {} bytes, over the limit of {MAX_OWNER_BYTES}",
                self.owner.len()
            ));
        }
        if self.owner.chars().any(char::is_control) {
            return invalid("the lease owner holds a control character".into());
        }
        if self.duration < MIN_LEASE_DURATION || self.duration > MAX_LEASE_DURATION {
            return invalid(format!(
                "the lease duration {:?} is outside {MIN_LEASE_DURATION:?} to {MAX_LEASE_DURATION:?}",
                self.duration
            ));
        }
        if self.duration.subsec_nanos() % 1_000_000 != 0 {
            return invalid(format!(
                "the lease duration {:?} is not a whole number of milliseconds",
                self.duration
            ));
        }
        let poll = self.poll_interval();
        if poll.is_zero() || poll > self.duration {
            return invalid(format!(
                "the poll interval {poll:?} is not above zero and at most the lease duration"
            ));
        }
        Ok(())
    }
}

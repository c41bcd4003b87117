//! Timing one subject for one window: how many calls, and how long each took.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// How long one side runs in one round.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window(pub(crate) Duration);

/// Calls counted and their latencies, summed over rounds.
#[derive(Clone, Debug)]
pub(crate) struct Figures {
    calls: u64,
    busy: Duration,
    latency: Histogram<u64>,
}

impl Default for Figures {
    #[allow(clippy::expect_used)] // constant bounds, valid: cannot fail
    fn default() -> Self {
        Self {
            calls: 0,
            busy: Duration::ZERO,
            // 1 ns to 10 minutes, 3 significant digits; a longer call is clamped.
            latency: Histogram::new_with_bounds(1, 600_000_000_000, 3)
                .expect("1 ns to 10 minutes at 3 digits are valid bounds"),
        }
    }
}

impl Figures {
    /// Records one call that took `took`.
    pub(crate) fn record(&mut self, took: Duration) {
        self.calls += 1;
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.latency.saturating_record(nanos.max(1));
    }

    /// Adds another task's or round's figures.
    pub(crate) fn merge(&mut self, other: &Figures) {
        self.calls += other.calls;
        self.busy += other.busy;
        let _ = self.latency.add(&other.latency);
    }

    /// Sets the time the calls took in all (their tasks ran side by side).
    pub(crate) fn ran_for(&mut self, busy: Duration) {
        self.busy = busy;
    }

    /// Calls per second over the time the side ran.
    pub(crate) fn ops_per_second(&self) -> f64 {
        self.calls as f64 / self.busy.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// The latency at quantile `q` (0.5: median).
    pub(crate) fn latency(&self, q: f64) -> Duration {
        Duration::from_nanos(self.latency.value_at_quantile(q))
    }
}

impl Window {
    /// The start of each call, for as long as the window lasts: `for start in
    /// window.starts() { call; figures.record(start.elapsed()) }`.
    pub(crate) fn starts(self) -> impl Iterator<Item = Instant> {
        let deadline = Instant::now() + self.0;
        std::iter::repeat_with(Instant::now).take_while(move |now| *now < deadline)
    }
}

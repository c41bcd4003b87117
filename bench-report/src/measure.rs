//! Timing one subject for one window: how many calls, how long each took, and the
//! CPU time the process spent meanwhile.

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
    /// The CPU time (user and system, every thread) the process spent while the calls
    /// ran; `None` where it cannot be read.
    cpu: Option<Duration>,
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
            cpu: Some(Duration::ZERO),
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
        self.cpu = self.cpu.zip(other.cpu).map(|(mine, theirs)| mine + theirs);
        let _ = self.latency.add(&other.latency);
    }

    /// Sets the time the calls took in all (their tasks ran side by side).
    pub(crate) fn ran_for(&mut self, busy: Duration) {
        self.busy = busy;
    }

    /// Sets the process's CPU time while the calls ran (`None`: unknown).
    pub(crate) fn used_cpu(&mut self, cpu: Option<Duration>) {
        self.cpu = cpu;
    }

    /// The process's CPU time per call, if it was read.
    pub(crate) fn cpu_per_call(&self) -> Option<Duration> {
        let calls = u32::try_from(self.calls).ok().filter(|&calls| calls > 0)?;
        Some(self.cpu? / calls)
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

/// The CPU time the process has used so far, user and system, all threads: Linux's
/// `/proc/self/stat`, in clock ticks of 10 ms (`USER_HZ`, 100 on every Linux this runs
/// on), so a side's total over a row's rounds (seconds) is read within a percent or
/// so. `None` elsewhere.
pub(crate) fn process_cpu() -> Option<Duration> {
    const TICKS_PER_SECOND: u64 = 100;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name, in parentheses, may hold spaces: fields count from after it.
    let (_, fields) = stat.rsplit_once(") ")?;
    let mut fields = fields.split_ascii_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    let ticks = user.checked_add(system)?;
    Some(Duration::from_millis(
        ticks.checked_mul(1000 / TICKS_PER_SECOND)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_per_call_divides_the_rounds_cpu_by_their_calls() {
        let mut round = Figures::default();
        for _ in 0..4 {
            round.record(Duration::from_micros(1));
        }
        round.used_cpu(Some(Duration::from_micros(10)));
        let mut all = Figures::default();
        all.merge(&round);
        all.merge(&round);
        assert_eq!(all.cpu_per_call(), Some(Duration::from_nanos(2_500)));
        // One round whose CPU time could not be read leaves the total unknown.
        round.used_cpu(None);
        all.merge(&round);
        assert_eq!(all.cpu_per_call(), None);
        assert_eq!(Figures::default().cpu_per_call(), None, "no calls");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_cpu_time_is_read_on_linux_and_never_goes_back() {
        let before = process_cpu();
        let spun = (0..2_000_000u64).fold(0u64, |acc, n| acc.wrapping_add(n * n));
        std::hint::black_box(spun);
        let after = process_cpu();
        assert!(
            before.is_some() && after >= before,
            "{before:?} then {after:?}"
        );
    }
}

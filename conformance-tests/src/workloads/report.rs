//! What an exactly-once workload reports: its figures and the promises broken.

use std::fmt;

use crate::network::ProxyCounts;

/// The figures of an exactly-once workload ([`counters`](super::counters),
/// [`transfers`](super::transfers)). Every count but `calls`, `ok`, `failed`,
/// `indeterminate`, `indeterminate_applied` and `faults` must be 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Calls made (each a change with its own id).
    pub calls: u64,
    /// Calls that returned success.
    pub ok: u64,
    /// Calls that returned an error other than `Indeterminate`: nothing written.
    pub failed: u64,
    /// Calls that returned `Indeterminate`: applied once or never.
    pub indeterminate: u64,
    /// `Indeterminate` calls whose change is in the store.
    pub indeterminate_applied: u64,
    /// Successful calls whose change is not in the store.
    pub lost: u64,
    /// Extra copies of changes in the store (a change applied twice counts 1).
    pub duplicated: u64,
    /// Failed calls whose change is in the store anyway.
    pub failed_but_applied: u64,
    /// Writes that landed after every call had returned and the proxy had healed,
    /// between the two final reads.
    pub late: u64,
    /// Conflicts a call met whose current item already held the call's own change:
    /// a conflict with its own earlier attempt.
    pub false_conflicts: u64,
    /// What the proxy did meanwhile.
    pub faults: ProxyCounts,
}

/// The outcome of an exactly-once workload: its figures and, for each promise
/// broken, a line saying which and where. A run that keeps every promise has no
/// problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The workload's name.
    pub workload: &'static str,
    /// The seed it ran with.
    pub seed: u64,
    /// Its figures.
    pub figures: Figures,
    /// The promises broken; empty when every one held.
    pub problems: Vec<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = &self.figures;
        write!(
            f,
            "{} (seed {}): {} calls: {} ok, {} failed, {} Indeterminate ({} found applied); \
             lost {}, duplicated {}, failed but applied {}, late {}, false conflicts {}; \
             proxy: {}",
            self.workload,
            self.seed,
            g.calls,
            g.ok,
            g.failed,
            g.indeterminate,
            g.indeterminate_applied,
            g.lost,
            g.duplicated,
            g.failed_but_applied,
            g.late,
            g.false_conflicts,
            g.faults,
        )?;
        for problem in &self.problems {
            write!(f, "\n  PROBLEM: {problem}")?;
        }
        Ok(())
    }
}

/// How one call ended, for the final comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Ended {
    /// Success; the version it returned, when it returns one.
    Ok(Option<u64>),
    /// An error other than `Indeterminate`: nothing written.
    Failed(String),
    /// `Indeterminate`.
    Indeterminate,
}

/// The first few of `ids`, for a problem's line.
pub(super) fn some<T: fmt::Debug>(ids: &[T]) -> String {
    const SHOWN: usize = 10;
    if ids.len() <= SHOWN {
        format!("{ids:?}")
    } else {
        format!("{:?} and {} more", &ids[..SHOWN], ids.len() - SHOWN)
    }
}

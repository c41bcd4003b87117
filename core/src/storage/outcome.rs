//! What a backend answers for a write or a transaction whose request completed.

use serde_json::Value;

use crate::{Version, Versioned};

/// The answer to one [`Write`](crate::Write).
///
/// ```
/// use optimist_core::{Outcome, Version};
/// let applied = Outcome::Applied { previous: Some(Version::new(4)) };
/// assert!(matches!(applied, Outcome::Applied { .. }));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The precondition held and the change was applied.
    Applied {
        /// The item's version before the write; `None` if the key held no item. The
        /// engine derives the new version from it (and `remove` returns it).
        previous: Option<Version>,
    },
    /// The precondition failed (or a put found the version counter at its end) and
    /// nothing was written.
    Refused {
        /// The item as it was when the precondition failed, `None` if absent: read in
        /// the same atomic step where the engine allows it (contract R11).
        current: Option<Versioned<Value>>,
    },
}

/// The answer to a transaction ([`Storage::commit`](crate::Storage::commit)).
///
/// ```
/// use optimist_core::{CommitOutcome, Version};
/// let refused = CommitOutcome::Refused { current: vec![(1, None)] };
/// assert!(matches!(refused, CommitOutcome::Refused { .. }));
/// let applied = CommitOutcome::Applied { previous: vec![None, Some(Version::FIRST)] };
/// assert!(matches!(applied, CommitOutcome::Applied { .. }));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum CommitOutcome {
    /// Every precondition held and every change was applied: for each write, in order,
    /// its item's version before the transaction (`None`: absent).
    Applied {
        /// One entry per write.
        previous: Vec<Option<Version>>,
    },
    /// At least one precondition failed and nothing was written: each refused write's
    /// index with its item as it was (`None`: absent). Every failing write should be
    /// listed, so the caller learns all of them at once (contract R10).
    Refused {
        /// `(index, current item)` per refused write.
        current: Vec<(usize, Option<Versioned<Value>>)>,
    },
}

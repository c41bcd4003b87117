//! What a backend answers for a write or a transaction whose request completed.

use crate::{Held, Record};

/// The answer to one [`Write`](crate::Write).
///
/// ```
/// use optimist_core::{Held, Outcome, Version};
/// let applied = Outcome::Applied { previous: Held::Item(Version::new(4)) };
/// assert!(matches!(applied, Outcome::Applied { .. }));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The precondition held and the change was applied.
    Applied {
        /// What the key held before the write. The engine derives the new version from
        /// it (and `remove` returns the item's version). For a put, only its version
        /// counts: `Item(v)` and `Tombstone(v)` give the same answer, so a backend whose
        /// upsert cannot tell them apart may report either.
        previous: Held,
    },
    /// The precondition failed (or a put found the version counter at its end) and
    /// nothing was written.
    Refused {
        /// The record as it was when the precondition failed (item or tombstone, with
        /// its token), `None` if the key held nothing: read in the same atomic step
        /// where the backend can (contract R11).
        current: Option<Record>,
    },
}

/// The answer to a transaction ([`Storage::commit`](crate::Storage::commit)).
///
/// ```
/// use optimist_core::{CommitOutcome, Held, Version};
/// let refused = CommitOutcome::Refused { current: vec![(1, None)] };
/// assert!(matches!(refused, CommitOutcome::Refused { .. }));
/// let applied = CommitOutcome::Applied { previous: vec![Held::Nothing, Held::Item(Version::FIRST)] };
/// assert!(matches!(applied, CommitOutcome::Applied { .. }));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum CommitOutcome {
    /// Every precondition held and every change was applied: for each write, in order,
    /// what its key held before the transaction.
    Applied {
        /// One entry per write.
        previous: Vec<Held>,
    },
    /// At least one precondition failed and nothing was written: each refused write's
    /// index with its record as it was (`None`: nothing). Every failing write should be
    /// listed, so the caller learns all of them at once (contract R10).
    Refused {
        /// `(index, current record)` per refused write.
        current: Vec<(usize, Option<Record>)>,
    },
}

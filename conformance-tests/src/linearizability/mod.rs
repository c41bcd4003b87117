//! A linearizability checker (Wing & Gong's search with Lowe's memoisation, as in
//! Porcupine and Knossos): given a concurrent history of calls, each with the logical
//! time it was called and answered, it searches for an order of the calls that respects
//! real time (a call answered before another was made comes first) and that a
//! sequential [`Model`] accepts, answer by answer. Visited configurations
//! (linearized set, model state) are remembered, so no one is explored twice.
//!
//! A call whose outcome is unknown ([`Completion::Unknown`], an `Indeterminate` error)
//! may take effect at any point after it was called, or never.
//!
//! Histories are split by [`partition`](fn@partition) into independent groups of keys (P-compositionality):
//! calls on different keys, with no transaction joining them, are checked separately.
//!
//! ```
//! use optimist_conformance::linearizability::{check, Completion, Entry, Model, Verdict};
//!
//! /// A register holding one number: ops are `Some(write)` or `None` (read).
//! struct Register;
//! impl Model for Register {
//!     type State = u32;
//!     type Op = Option<u32>;
//!     type Ret = u32; // what a read saw; 0 for a write
//!     fn step(&self, state: &u32, op: &Option<u32>, ret: Option<&u32>) -> Vec<u32> {
//!         match (op, ret) {
//!             (Some(v), _) => vec![*v],
//!             (None, Some(seen)) if seen == state => vec![*state],
//!             (None, None) => vec![*state],
//!             (None, Some(_)) => vec![],
//!         }
//!     }
//! }
//! // write(1) overlaps a read that sees 1: linearizable.
//! let history = vec![
//!     Entry { op: Some(1), call: 0, completion: Completion::Returned { at: 3, ret: 0 } },
//!     Entry { op: None, call: 1, completion: Completion::Returned { at: 2, ret: 1 } },
//! ];
//! assert!(matches!(check(&Register, &0, &history), Ok(Verdict::Linearizable { .. })));
//! ```

mod checker;
mod partition;

pub use checker::{CheckError, Completion, Entry, Model, Verdict, check};
pub use partition::{Partitioned, check_partitioned, partition};

#[cfg(test)]
#[allow(clippy::panic)]
mod tests;

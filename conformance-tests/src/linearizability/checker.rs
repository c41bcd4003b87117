//! The search itself.

use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;

/// A sequential specification the checker replays calls against.
pub trait Model {
    /// The state; compared and hashed to remember visited configurations.
    type State: Clone + Eq + Hash;
    /// A call.
    type Op;
    /// What a call answered.
    type Ret;

    /// The states `op` may leave when it runs alone in `state` and answers `ret`; empty
    /// when the specification cannot give that answer from `state`. `ret` is `None` when
    /// the answer is unknown (the call may have taken effect with any answer).
    fn step(&self, state: &Self::State, op: &Self::Op, ret: Option<&Self::Ret>)
    -> Vec<Self::State>;
}

/// How a call ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Completion<R> {
    /// It answered `ret` at logical time `at`.
    Returned {
        /// When it answered.
        at: u64,
        /// What it answered.
        ret: R,
    },
    /// Its outcome is unknown: it may take effect any time after its call, or never.
    Unknown,
}

/// One call of a history.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry<O, R> {
    /// The call.
    pub op: O,
    /// The logical time it was made; times of one history are distinct.
    pub call: u64,
    /// How it ended.
    pub completion: Completion<R>,
}

impl<O, R> Entry<O, R> {
    fn returned_at(&self) -> Option<u64> {
        match self.completion {
            Completion::Returned { at, .. } => Some(at),
            Completion::Unknown => None,
        }
    }
}

/// The checker's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A valid order exists: here it is, as indexes into the history. Calls of unknown
    /// outcome that never took effect are left out.
    Linearizable {
        /// The order found.
        order: Vec<usize>,
    },
    /// No valid order exists.
    NotLinearizable {
        /// The longest sequence of calls (indexes into the history) the search could
        /// linearize before every continuation failed.
        longest_prefix: Vec<usize>,
    },
}

/// Why the checker could not decide.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckError {
    /// A history (or one partition of it) holds more calls than the checker handles.
    TooManyCalls {
        /// How many it holds.
        calls: usize,
        /// The most the checker handles.
        limit: usize,
    },
    /// The search visited its maximum number of configurations without an answer.
    SearchTooLarge {
        /// Configurations visited.
        visited: usize,
    },
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::TooManyCalls { calls, limit } => write!(
                f,
                "the history holds {calls} calls on one group of keys; the checker handles {limit}"
            ),
            CheckError::SearchTooLarge { visited } => write!(
                f,
                "the search visited {visited} configurations without an answer"
            ),
        }
    }
}

impl std::error::Error for CheckError {}

/// The most calls one checked history (or partition) may hold: the linearized set is a
/// 128-bit mask.
pub const MAX_CALLS: usize = 128;

/// The most configurations one search may visit before giving up.
pub const MAX_VISITED: usize = 2_000_000;

/// Decides whether `history` is linearizable against `model` starting from `init`.
///
/// ```
/// use optimist_conformance::linearizability::{check, Verdict};
/// # use optimist_conformance::linearizability::{Entry, Model};
/// # struct Nothing;
/// # impl Model for Nothing { type State = (); type Op = (); type Ret = ();
/// #   fn step(&self, _: &(), _: &(), _: Option<&()>) -> Vec<()> { vec![()] } }
/// let empty: Vec<Entry<(), ()>> = vec![];
/// assert_eq!(check(&Nothing, &(), &empty), Ok(Verdict::Linearizable { order: vec![] }));
/// ```
pub fn check<M: Model>(
    model: &M,
    init: &M::State,
    history: &[Entry<M::Op, M::Ret>],
) -> Result<Verdict, CheckError> {
    if history.len() > MAX_CALLS {
        return Err(CheckError::TooManyCalls {
            calls: history.len(),
            limit: MAX_CALLS,
        });
    }
    let required = history
        .iter()
        .enumerate()
        .filter(|(_, e)| e.returned_at().is_some())
        .fold(0u128, |mask, (i, _)| mask | (1u128 << i));
    let mut search = Search {
        model,
        history,
        required,
        seen: HashSet::new(),
        path: Vec::new(),
        best: Vec::new(),
    };
    match search.explore(0, init) {
        Found::Yes => Ok(Verdict::Linearizable { order: search.path }),
        Found::No => Ok(Verdict::NotLinearizable {
            longest_prefix: search.best,
        }),
        Found::GaveUp => Err(CheckError::SearchTooLarge {
            visited: search.seen.len(),
        }),
    }
}

enum Found {
    Yes,
    No,
    GaveUp,
}

struct Search<'a, M: Model> {
    model: &'a M,
    history: &'a [Entry<M::Op, M::Ret>],
    /// The calls that must be linearized: those that answered.
    required: u128,
    /// Configurations already explored, each known to lead nowhere.
    seen: HashSet<(u128, M::State)>,
    path: Vec<usize>,
    best: Vec<usize>,
}

impl<M: Model> Search<'_, M> {
    fn explore(&mut self, done: u128, state: &M::State) -> Found {
        if done & self.required == self.required {
            return Found::Yes;
        }
        if self.seen.len() >= MAX_VISITED {
            return Found::GaveUp;
        }
        if !self.seen.insert((done, state.clone())) {
            return Found::No;
        }
        if self.path.len() > self.best.len() {
            self.best.clone_from(&self.path);
        }
        // A call can go next only if no pending call answered before it was made.
        let horizon = self
            .history
            .iter()
            .enumerate()
            .filter(|(i, _)| done & (1u128 << i) == 0)
            .filter_map(|(_, e)| e.returned_at())
            .min()
            .unwrap_or(u64::MAX);
        for (i, entry) in self.history.iter().enumerate() {
            if done & (1u128 << i) != 0 || entry.call > horizon {
                continue;
            }
            let ret = match &entry.completion {
                Completion::Returned { ret, .. } => Some(ret),
                Completion::Unknown => None,
            };
            for next in self.model.step(state, &entry.op, ret) {
                self.path.push(i);
                match self.explore(done | (1u128 << i), &next) {
                    Found::No => {
                        self.path.pop();
                    }
                    found => return found,
                }
            }
        }
        Found::No
    }
}

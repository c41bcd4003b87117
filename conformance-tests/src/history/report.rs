//! Checking a recorded history and saying, when it fails, what happened.

use std::fmt;

use super::exec::{KvModel, Observed};
use super::run::Recorded;
use crate::linearizability::{Completion, Entry, Partitioned, check_partitioned};
use crate::model::{Op, Outcome, State};

/// Why a history failed the check.
#[derive(Clone, Debug)]
pub struct HistoryFailure {
    /// What went wrong, in one line.
    pub reason: String,
    /// The whole history.
    pub history: Vec<Recorded>,
    /// The calls (indexes into `history`) of the group of keys that failed.
    pub group: Vec<usize>,
    /// The longest linearizable sequence of that group's calls (indexes into `history`).
    pub longest_prefix: Vec<usize>,
}

fn describe(r: &Recorded) -> String {
    let who = r
        .branch
        .map_or("prefix".to_string(), |b| format!("branch {b}"));
    let answer = match &r.observed {
        Observed::Answered(outcome) => outcome.to_string(),
        Observed::Indeterminate => "Indeterminate (maybe applied)".to_string(),
        Observed::Cancelled => "cancelled: dropped before it answered (maybe applied)".to_string(),
        Observed::Failed(why) => format!("failed, not applied: {why}"),
        Observed::Unexpected(why) => format!("UNEXPECTED ERROR: {why}"),
    };
    format!("[{:>3}, {:>3}] {who:<9} {} -> {answer}", r.call, r.at, r.op)
}

impl fmt::Display for HistoryFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.reason)?;
        writeln!(f, "history ([call, answer] times from one global counter):")?;
        for (i, r) in self.history.iter().enumerate() {
            let mark = if self.group.contains(&i) { "*" } else { " " };
            writeln!(f, " {mark} {}", describe(r))?;
        }
        writeln!(
            f,
            "longest linearizable prefix of the failing group (marked *), in order:"
        )?;
        let mut state = State::empty(0);
        for &i in &self.longest_prefix {
            if let Some(r) = self.history.get(i) {
                state = crate::model::apply(&state, &r.op).0;
                writeln!(f, "    {}   => {state}", describe(r))?;
            }
        }
        write!(
            f,
            "no call left in the group can go next: each either answers what the model \
             forbids from that state or must wait for a call that has not been placed"
        )
    }
}

impl std::error::Error for HistoryFailure {}

/// Checks a recorded history over `keys` keys, all absent at the start: every call
/// that answered must fit one sequential order respecting real time; `Indeterminate`
/// and cancelled calls may fit anywhere after their start or nowhere; failed calls (retryable
/// backend errors) must have had no effect.
///
/// ```
/// use optimist_conformance::history::{check_history, Observed, Recorded};
/// use optimist_conformance::model::{Act, MKey, Op, Outcome};
/// let history = vec![Recorded {
///     branch: None,
///     op: Op::Write(MKey::Slot(0), Act::Insert(1)),
///     call: 0,
///     at: 1,
///     observed: Observed::Answered(Outcome::Written(1)),
/// }];
/// assert!(check_history(&history, 1).is_ok());
/// ```
pub fn check_history(history: &[Recorded], keys: usize) -> Result<(), HistoryFailure> {
    check_history_from(history, &State::empty(keys))
}

/// [`check_history`] from a given initial state, such as the empty state of a store in
/// tombstone mode (`State::empty(keys).with_tombstones(true)`).
///
/// ```
/// use optimist_conformance::history::{check_history_from, Observed, Recorded};
/// use optimist_conformance::model::{Act, MKey, Op, Outcome, State};
/// let history = vec![Recorded {
///     branch: None,
///     op: Op::Write(MKey::Slot(0), Act::Insert(1)),
///     call: 0,
///     at: 1,
///     observed: Observed::Answered(Outcome::Written(1)),
/// }];
/// assert!(check_history_from(&history, &State::empty(1).with_tombstones(true)).is_ok());
/// ```
pub fn check_history_from(history: &[Recorded], initial: &State) -> Result<(), HistoryFailure> {
    let fail = |reason: String, group: Vec<usize>, longest_prefix: Vec<usize>| HistoryFailure {
        reason,
        history: history.to_vec(),
        group,
        longest_prefix,
    };
    let mut entries: Vec<Entry<Op, Outcome>> = Vec::new();
    let mut index = Vec::new();
    for (i, r) in history.iter().enumerate() {
        let completion = match &r.observed {
            Observed::Answered(ret) => Completion::Returned {
                at: r.at,
                ret: ret.clone(),
            },
            Observed::Indeterminate | Observed::Cancelled => Completion::Unknown,
            Observed::Failed(_) => continue,
            Observed::Unexpected(why) => {
                return Err(fail(
                    format!("call {i} ({}) answered an unexpected error: {why}", r.op),
                    vec![i],
                    vec![],
                ));
            }
        };
        entries.push(Entry {
            op: r.op.clone(),
            call: r.call,
            completion,
        });
        index.push(i);
    }
    match check_partitioned(&KvModel, initial, &entries, Op::slots) {
        Ok(Partitioned::Linearizable { .. }) => Ok(()),
        Ok(Partitioned::NotLinearizable {
            calls,
            longest_prefix,
        }) => Err(fail(
            "the history is not linearizable (contract R13)".to_string(),
            calls.iter().map(|&c| index[c]).collect(),
            longest_prefix.iter().map(|&c| index[c]).collect(),
        )),
        Err(err) => Err(fail(
            format!("the checker could not decide ({err}); lower OPTIMIST_HISTORY_OPS"),
            vec![],
            vec![],
        )),
    }
}

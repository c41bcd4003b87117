//! The sequential specification of contract R4–R10 as a pure function over a few keys: the
//! model the property test compares a store against step by step, and the one the
//! linearizability checker replays concurrent histories against.
//!
//! Values are abstract: every write in a generated test writes a value carrying a
//! unique id ([`ValueId`]), so the model tracks ids and versions, and a read tells
//! exactly which write it saw.
//!
//! ```
//! use optimist_conformance::model::{apply, Act, Item, MKey, Op, Outcome, State};
//!
//! let state = State::empty(2);
//! let (state, out) = apply(&state, &Op::Write(MKey::Slot(0), Act::Insert(7)));
//! assert_eq!(out, Outcome::Written(1));
//! let (_, out) = apply(&state, &Op::Get(MKey::Slot(0)));
//! assert_eq!(out, Outcome::Got(Some(Item { value: 7, version: 1 })));
//! ```

use std::collections::HashSet;
use std::fmt;

/// The id a test gave the value of one write.
pub type ValueId = u64;

/// The id standing for a value the store returned that no write of the test wrote.
pub const UNKNOWN_VALUE: ValueId = u64::MAX;

/// A key of the model: one of the test's few keys, or a key every store must refuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MKey {
    /// The test's key number `n`.
    Slot(usize),
    /// The empty key, `InvalidInput` on every store.
    Empty,
}

impl fmt::Display for MKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MKey::Slot(n) => write!(f, "k{n}"),
            MKey::Empty => f.write_str("<empty key>"),
        }
    }
}

/// An item of the model: which write's value, at which version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Item {
    /// The id of the value.
    pub value: ValueId,
    /// The version number.
    pub version: u64,
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value == UNKNOWN_VALUE {
            write!(f, "#?@v{}", self.version)
        } else {
            write!(f, "#{}@v{}", self.value, self.version)
        }
    }
}

/// A write, alone or inside a transaction (`Check` only inside one).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Act {
    /// Insert the value, only if absent.
    Insert(ValueId),
    /// Replace the value, only at `expected`.
    Update {
        /// The version the item must be at.
        expected: u64,
        /// The new value.
        value: ValueId,
    },
    /// Delete, only at `expected`.
    Delete {
        /// The version the item must be at.
        expected: u64,
    },
    /// Require `expected`, write nothing.
    Check {
        /// The version the item must be at.
        expected: u64,
    },
    /// Write unconditionally.
    Put(ValueId),
    /// Delete unconditionally.
    Remove,
}

impl fmt::Display for Act {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Act::Insert(v) => write!(f, "insert #{v}"),
            Act::Update { expected, value } => write!(f, "update v{expected} -> #{value}"),
            Act::Delete { expected } => write!(f, "delete v{expected}"),
            Act::Check { expected } => write!(f, "check v{expected}"),
            Act::Put(v) => write!(f, "put #{v}"),
            Act::Remove => f.write_str("remove"),
        }
    }
}

/// The range of a query over the test's keys, whose sort parts are `k0`, `k1`, ...
/// in one partition, in this order (contract R17).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MRange {
    /// Every key.
    All,
    /// The keys whose sort part starts with key `n`'s: key `n` alone.
    Prefix(usize),
    /// Keys `from` to `to`, both included; `from > to` is `InvalidInput`.
    Between(usize, usize),
    /// The keys after key `n`.
    After(usize),
    /// The keys before key `n`.
    Before(usize),
}

impl MRange {
    /// Whether key number `n` lies in the range.
    pub fn contains(self, n: usize) -> bool {
        match self {
            MRange::All => true,
            MRange::Prefix(p) => n == p,
            MRange::Between(from, to) => from <= n && n <= to,
            MRange::After(a) => n > a,
            MRange::Before(b) => n < b,
        }
    }
}

impl fmt::Display for MRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MRange::All => f.write_str("all"),
            MRange::Prefix(n) => write!(f, "prefix k{n}"),
            MRange::Between(a, b) => write!(f, "k{a}..=k{b}"),
            MRange::After(n) => write!(f, "after k{n}"),
            MRange::Before(n) => write!(f, "before k{n}"),
        }
    }
}

/// One call to a store.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `get`.
    Get(MKey),
    /// `insert`, `update`, `delete`, `put` or `remove` (never `Check`).
    Write(MKey, Act),
    /// `transact`.
    Transact(Vec<(MKey, Act)>),
    /// `get_many` of these keys, in this order (contract R16).
    GetMany(Vec<MKey>),
    /// A `query` of the test's keys read to its end in pages of `limit` (contract R17).
    Query {
        /// The keys read.
        range: MRange,
        /// Highest key first.
        descending: bool,
        /// The page size; 0 is `InvalidInput`.
        limit: usize,
    },
    /// A `scan` read to its end in pages of `limit`, of which the test's keys count
    /// (contract R18).
    Scan {
        /// The page size; 0 is `InvalidInput`.
        limit: usize,
    },
}

impl Op {
    /// The test's key numbers the op touches.
    ///
    /// ```
    /// use optimist_conformance::model::{Act, MKey, Op};
    /// let op = Op::Transact(vec![(MKey::Slot(2), Act::Remove), (MKey::Slot(0), Act::Remove)]);
    /// assert_eq!(op.slots(), vec![2, 0]);
    /// ```
    pub fn slots(&self) -> Vec<usize> {
        let slot = |k: &MKey| match k {
            MKey::Slot(n) => Some(*n),
            MKey::Empty => None,
        };
        match self {
            Op::Get(k) | Op::Write(k, _) => slot(k).into_iter().collect(),
            Op::Transact(ops) => ops.iter().filter_map(|(k, _)| slot(k)).collect(),
            Op::GetMany(keys) => keys.iter().filter_map(slot).collect(),
            // A range read touches every key; histories do not generate them.
            Op::Query { .. } | Op::Scan { .. } => Vec::new(),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Get(k) => write!(f, "get {k}"),
            Op::Write(k, act) => write!(f, "{act} {k}"),
            Op::Transact(ops) => {
                f.write_str("transact [")?;
                for (i, (k, act)) in ops.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{act} {k}")?;
                }
                f.write_str("]")
            }
            Op::GetMany(keys) => {
                f.write_str("get_many [")?;
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}")?;
                }
                f.write_str("]")
            }
            Op::Query {
                range,
                descending,
                limit,
            } => {
                let order = if *descending { " descending" } else { "" };
                write!(f, "query {range}{order} in pages of {limit}")
            }
            Op::Scan { limit } => write!(f, "scan in pages of {limit}"),
        }
    }
}

/// Why a condition failed, with the item the conflict carries (contract R11).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MConflict {
    /// Insert on a present item.
    AlreadyExists(Item),
    /// Checked write on an absent item.
    NotFound,
    /// Checked write expecting another version.
    VersionMismatch {
        /// The version the caller expected.
        expected: u64,
        /// The item that is there.
        current: Item,
    },
}

impl fmt::Display for MConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MConflict::AlreadyExists(item) => write!(f, "AlreadyExists({item})"),
            MConflict::NotFound => f.write_str("NotFound"),
            MConflict::VersionMismatch { expected, current } => {
                write!(
                    f,
                    "VersionMismatch(expected v{expected}, current {current})"
                )
            }
        }
    }
}

/// What a call answered, in the model's terms.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// `get` answered this item, or none.
    Got(Option<Item>),
    /// `insert`, `update` or `put` answered this new version.
    Written(u64),
    /// `delete` succeeded.
    Deleted,
    /// `remove` answered the removed version, or none.
    Removed(Option<u64>),
    /// A single op's conflict.
    Conflict(MConflict),
    /// `transact` succeeded with these per-op versions.
    Committed(Vec<Option<u64>>),
    /// `transact` was refused with these failing ops (index, conflict), in op order.
    Refused(Vec<(usize, MConflict)>),
    /// `InvalidInput`.
    Invalid,
    /// `get_many` answered these items, in the order asked.
    GotMany(Vec<Option<Item>>),
    /// A query answered these keys' items in this order; a scan's, in key order.
    Listed(Vec<(usize, Item)>),
}

fn versions(v: &[Option<u64>]) -> String {
    v.iter()
        .map(|v| v.map_or("-".to_string(), |v| format!("v{v}")))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Got(None) => f.write_str("Ok(None)"),
            Outcome::Got(Some(item)) => write!(f, "Ok({item})"),
            Outcome::Written(v) => write!(f, "Ok(v{v})"),
            Outcome::Deleted => f.write_str("Ok(())"),
            Outcome::Removed(v) => write!(f, "Ok({})", versions(&[*v])),
            Outcome::Conflict(c) => write!(f, "Conflict({c})"),
            Outcome::Committed(v) => write!(f, "Ok([{}])", versions(v)),
            Outcome::Refused(failures) => {
                f.write_str("TransactionConflict[")?;
                for (i, (index, c)) in failures.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "op {index}: {c}")?;
                }
                f.write_str("]")
            }
            Outcome::Invalid => f.write_str("InvalidInput"),
            Outcome::GotMany(items) => {
                f.write_str("Ok([")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match item {
                        Some(item) => write!(f, "{item}")?,
                        None => f.write_str("-")?,
                    }
                }
                f.write_str("])")
            }
            Outcome::Listed(items) => {
                f.write_str("Ok([")?;
                for (i, (n, item)) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "k{n}={item}")?;
                }
                f.write_str("])")
            }
        }
    }
}

/// The state of the model: the item, if any, at each of the test's keys, and in
/// tombstone mode the version each deleted key's counter stands at (contract R15).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// Item per key number.
    pub items: Vec<Option<Item>>,
    /// Per key number, the version of the tombstone a delete left (tombstone mode only).
    pub tombstones: Option<Vec<Option<u64>>>,
}

impl State {
    /// `keys` absent keys, in the default mode: a key deleted and written again
    /// restarts at version 1.
    pub fn empty(keys: usize) -> Self {
        Self {
            items: vec![None; keys],
            tombstones: None,
        }
    }

    /// The same state of a store in tombstone mode (`on`): a delete leaves a tombstone
    /// that keeps the version counting.
    ///
    /// ```
    /// use optimist_conformance::model::{apply, Act, MKey, Op, Outcome, State};
    /// let s = State::empty(1).with_tombstones(true);
    /// let (s, _) = apply(&s, &Op::Write(MKey::Slot(0), Act::Insert(1)));
    /// let (s, _) = apply(&s, &Op::Write(MKey::Slot(0), Act::Remove));
    /// let (_, out) = apply(&s, &Op::Write(MKey::Slot(0), Act::Insert(2)));
    /// assert_eq!(out, Outcome::Written(2));
    /// ```
    pub fn with_tombstones(mut self, on: bool) -> Self {
        self.tombstones = on.then(|| vec![None; self.items.len()]);
        self
    }

    /// The version a key's counter stands at: its item's, or its tombstone's.
    fn counter(&self, key: MKey) -> Option<u64> {
        let buried = match (key, &self.tombstones) {
            (MKey::Slot(n), Some(tombstones)) => tombstones.get(n).copied().flatten(),
            _ => None,
        };
        self.item(key).map(|item| item.version).or(buried)
    }

    fn bury(&mut self, key: MKey, version: Option<u64>) {
        if let (MKey::Slot(n), Some(tombstones)) = (key, &mut self.tombstones) {
            if n >= tombstones.len() {
                tombstones.resize(n + 1, None);
            }
            if version.is_some() {
                tombstones[n] = version;
            }
        }
    }

    /// The item at a key (none for an unknown slot).
    pub fn item(&self, key: MKey) -> Option<Item> {
        match key {
            MKey::Slot(n) => self.items.get(n).copied().flatten(),
            MKey::Empty => None,
        }
    }

    fn set(&mut self, key: MKey, item: Option<Item>) {
        if let MKey::Slot(n) = key {
            if n >= self.items.len() {
                self.items.resize(n + 1, None);
            }
            self.items[n] = item;
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match item {
                Some(item) => write!(f, "k{i}={item}")?,
                None => write!(f, "k{i}=-")?,
            }
        }
        Ok(())
    }
}

/// The conflict of `act` on an item in state `current` (contract R5–R7, R11).
fn condition(act: &Act, current: Option<Item>) -> Option<MConflict> {
    match (act, current) {
        (Act::Insert(_), Some(item)) => Some(MConflict::AlreadyExists(item)),
        (Act::Update { .. } | Act::Delete { .. } | Act::Check { .. }, None) => {
            Some(MConflict::NotFound)
        }
        (
            Act::Update { expected, .. } | Act::Delete { expected } | Act::Check { expected },
            Some(item),
        ) if item.version != *expected => Some(MConflict::VersionMismatch {
            expected: *expected,
            current: item,
        }),
        _ => None,
    }
}

/// Applies an act whose condition holds; returns the version afterwards (contract R3, R8–R10).
fn effect(state: &mut State, key: MKey, act: &Act) -> Option<u64> {
    let previous = state.counter(key);
    match act {
        Act::Insert(value) | Act::Put(value) | Act::Update { value, .. } => {
            let version = previous.map_or(1, |v| v.saturating_add(1));
            state.set(
                key,
                Some(Item {
                    value: *value,
                    version,
                }),
            );
            Some(version)
        }
        Act::Check { expected } => Some(*expected),
        Act::Delete { .. } | Act::Remove => {
            state.bury(key, state.item(key).map(|item| item.version));
            state.set(key, None);
            None
        }
    }
}

/// The present items of the keys `keep` admits, by key number.
fn listed(state: &State, keep: impl Fn(usize) -> bool) -> Vec<(usize, Item)> {
    state
        .items
        .iter()
        .enumerate()
        .filter(|(n, _)| keep(*n))
        .filter_map(|(n, item)| item.map(|item| (n, item)))
        .collect()
}

/// Runs `op` on `state`: the state afterwards and what the store must answer.
pub fn apply(state: &State, op: &Op) -> (State, Outcome) {
    let mut next = state.clone();
    let outcome = match op {
        Op::Get(MKey::Empty) | Op::Write(MKey::Empty, _) => Outcome::Invalid,
        Op::Get(key) => Outcome::Got(state.item(*key)),
        Op::Write(key, act) => match (act, condition(act, state.item(*key))) {
            (_, Some(conflict)) => Outcome::Conflict(conflict),
            (Act::Remove, None) => {
                let removed = state.item(*key).map(|i| i.version);
                effect(&mut next, *key, act);
                Outcome::Removed(removed)
            }
            (Act::Delete { .. }, None) => {
                effect(&mut next, *key, act);
                Outcome::Deleted
            }
            (_, None) => match effect(&mut next, *key, act) {
                Some(version) => Outcome::Written(version),
                None => Outcome::Deleted,
            },
        },
        Op::GetMany(asked) => {
            let mut keys = HashSet::new();
            let invalid =
                asked.is_empty() || asked.iter().any(|k| *k == MKey::Empty || !keys.insert(*k));
            if invalid {
                Outcome::Invalid
            } else {
                Outcome::GotMany(asked.iter().map(|k| state.item(*k)).collect())
            }
        }
        Op::Query {
            range,
            descending,
            limit,
        } => {
            if *limit == 0 || matches!(range, MRange::Between(from, to) if from > to) {
                Outcome::Invalid
            } else {
                let mut listed = listed(state, |n| range.contains(n));
                if *descending {
                    listed.reverse();
                }
                Outcome::Listed(listed)
            }
        }
        Op::Scan { limit } => {
            if *limit == 0 {
                Outcome::Invalid
            } else {
                Outcome::Listed(listed(state, |_| true))
            }
        }
        Op::Transact(ops) => {
            let mut keys = HashSet::new();
            let invalid = ops.is_empty()
                || ops
                    .iter()
                    .any(|(k, _)| *k == MKey::Empty || !keys.insert(*k));
            if invalid {
                Outcome::Invalid
            } else {
                let failures: Vec<(usize, MConflict)> = ops
                    .iter()
                    .enumerate()
                    .filter_map(|(i, (k, act))| condition(act, state.item(*k)).map(|c| (i, c)))
                    .collect();
                if failures.is_empty() {
                    Outcome::Committed(
                        ops.iter()
                            .map(|(k, act)| effect(&mut next, *k, act))
                            .collect(),
                    )
                } else {
                    Outcome::Refused(failures)
                }
            }
        }
    };
    if matches!(
        outcome,
        Outcome::Invalid | Outcome::Conflict(_) | Outcome::Refused(_)
    ) {
        // contract R12: a refused call changes nothing.
        return (state.clone(), outcome);
    }
    (next, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(n: usize) -> MKey {
        MKey::Slot(n)
    }

    #[test]
    fn versions_and_conflicts_follow_the_spec() {
        let s = State::empty(2);
        let (s, out) = apply(&s, &Op::Write(k(0), Act::Put(1)));
        assert_eq!(out, Outcome::Written(1));
        let (s, out) = apply(
            &s,
            &Op::Write(
                k(0),
                Act::Update {
                    expected: 1,
                    value: 2,
                },
            ),
        );
        assert_eq!(out, Outcome::Written(2));
        let (s2, out) = apply(
            &s,
            &Op::Write(
                k(0),
                Act::Update {
                    expected: 1,
                    value: 3,
                },
            ),
        );
        assert_eq!(
            out,
            Outcome::Conflict(MConflict::VersionMismatch {
                expected: 1,
                current: Item {
                    value: 2,
                    version: 2
                }
            })
        );
        assert_eq!(s2, s);
        let (_, out) = apply(&s, &Op::Write(k(1), Act::Delete { expected: 1 }));
        assert_eq!(out, Outcome::Conflict(MConflict::NotFound));
        let (s, out) = apply(&s, &Op::Write(k(0), Act::Remove));
        assert_eq!(out, Outcome::Removed(Some(2)));
        let (_, out) = apply(&s, &Op::Write(k(0), Act::Insert(4)));
        assert_eq!(
            out,
            Outcome::Written(1),
            "contract R15: insert after delete restarts at 1"
        );
    }

    #[test]
    fn transactions_are_all_or_nothing() {
        let s = State::empty(3);
        let (s, _) = apply(&s, &Op::Write(k(0), Act::Insert(1)));
        let tx = Op::Transact(vec![
            (k(1), Act::Insert(2)),
            (k(0), Act::Check { expected: 2 }),
            (
                k(2),
                Act::Update {
                    expected: 1,
                    value: 3,
                },
            ),
        ]);
        let (after, out) = apply(&s, &tx);
        assert_eq!(after, s);
        assert_eq!(
            out,
            Outcome::Refused(vec![
                (
                    1,
                    MConflict::VersionMismatch {
                        expected: 2,
                        current: Item {
                            value: 1,
                            version: 1
                        }
                    }
                ),
                (2, MConflict::NotFound)
            ])
        );
        let tx = Op::Transact(vec![
            (k(1), Act::Insert(2)),
            (k(0), Act::Check { expected: 1 }),
            (k(2), Act::Remove),
        ]);
        let (after, out) = apply(&s, &tx);
        assert_eq!(out, Outcome::Committed(vec![Some(1), Some(1), None]));
        assert_eq!(
            after.item(k(1)),
            Some(Item {
                value: 2,
                version: 1
            })
        );
        let dup = Op::Transact(vec![(k(1), Act::Remove), (k(1), Act::Remove)]);
        assert_eq!(apply(&s, &dup).1, Outcome::Invalid);
        assert_eq!(apply(&s, &Op::Transact(vec![])).1, Outcome::Invalid);
    }
}

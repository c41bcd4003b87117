//! The ops of a transaction (SPEC R10).

use serde_json::Value;

use crate::{Conflict, Expect, Key, Operation, Version, Versioned};

/// One op of a [`transact`](crate::VersionedStore::transact) call: a key and what to
/// do with it.
///
/// ```
/// use optimist_core::{Key, TxOp, Version};
/// use serde_json::json;
///
/// let ops = vec![
///     TxOp::update(Key::new("alice"), Version::new(3), json!({"balance": 90})),
///     TxOp::update(Key::new("bob"), Version::new(7), json!({"balance": 110})),
///     TxOp::check(Key::new("rates"), Version::new(1)),
/// ];
/// assert_eq!(ops[2].key(), &Key::new("rates"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TxOp {
    key: Key,
    action: TxAction,
}

/// What a [`TxOp`] does to its key.
///
/// Deliberately exhaustive: a backend must handle every action, and a new one would be
/// a breaking change that every backend has to implement.
#[derive(Clone, Debug, PartialEq)]
pub enum TxAction {
    /// Create the item at version 1, only if absent (SPEC R5).
    Insert(Value),
    /// Replace the value, only if the item is at `expected` (SPEC R6).
    Update {
        /// The version the item must be at.
        expected: Version,
        /// The new value.
        value: Value,
    },
    /// Delete the item, only if it is at `expected` (SPEC R7).
    Delete {
        /// The version the item must be at.
        expected: Version,
    },
    /// Write nothing, but require the item to be at `expected`.
    Check {
        /// The version the item must be at.
        expected: Version,
    },
    /// Write unconditionally, advancing the version (SPEC R8).
    Put(Value),
    /// Delete unconditionally (SPEC R9).
    Remove,
}

impl TxAction {
    /// The single operation this action corresponds to, for error messages.
    ///
    /// ```
    /// use optimist_core::{Operation, TxAction};
    /// assert_eq!(TxAction::Remove.operation(), Operation::Remove);
    /// ```
    pub fn operation(&self) -> Operation {
        match self {
            TxAction::Insert(_) => Operation::Insert,
            TxAction::Update { .. } => Operation::Update,
            TxAction::Delete { .. } => Operation::Delete,
            TxAction::Check { .. } => Operation::Check,
            TxAction::Put(_) => Operation::Put,
            TxAction::Remove => Operation::Remove,
        }
    }

    /// The value this action writes, if it writes one.
    ///
    /// ```
    /// use optimist_core::TxAction;
    /// assert_eq!(TxAction::Put(serde_json::json!(1)).value(), Some(&serde_json::json!(1)));
    /// assert_eq!(TxAction::Remove.value(), None);
    /// ```
    pub fn value(&self) -> Option<&Value> {
        match self {
            TxAction::Insert(value) | TxAction::Put(value) | TxAction::Update { value, .. } => {
                Some(value)
            }
            TxAction::Delete { .. } | TxAction::Check { .. } | TxAction::Remove => None,
        }
    }

    /// The conflict, if any, of this action on an item in state `current` (`None`:
    /// absent), carrying the item as SPEC R11 requires. The one judgement every backend
    /// that decides conditions in Rust shares, so they all decide alike.
    ///
    /// ```
    /// use optimist_core::{Conflict, TxAction, Version, Versioned};
    /// let item = Versioned::new(serde_json::json!(1), Version::new(2));
    /// let check = TxAction::Check { expected: Version::FIRST };
    /// assert!(matches!(check.conflict_with(Some(&item)), Some(Conflict::VersionMismatch { .. })));
    /// assert_eq!(check.conflict_with(None), Some(Conflict::NotFound));
    /// assert_eq!(TxAction::Remove.conflict_with(Some(&item)), None);
    /// ```
    pub fn conflict_with(&self, current: Option<&Versioned<Value>>) -> Option<Conflict> {
        self.expect().conflict(current.cloned())
    }

    /// The precondition this action puts on its item.
    ///
    /// ```
    /// use optimist_core::{Expect, TxAction};
    /// assert_eq!(TxAction::Remove.expect(), Expect::Any);
    /// assert_eq!(TxAction::Insert(serde_json::json!(1)).expect(), Expect::Absent);
    /// ```
    pub fn expect(&self) -> Expect {
        match self {
            TxAction::Insert(_) => Expect::Absent,
            TxAction::Update { expected, .. }
            | TxAction::Delete { expected }
            | TxAction::Check { expected } => Expect::At(*expected),
            TxAction::Put(_) | TxAction::Remove => Expect::Any,
        }
    }

    /// The version this action requires, if it is checked against one.
    ///
    /// ```
    /// use optimist_core::{TxAction, Version};
    /// assert_eq!(TxAction::Check { expected: Version::FIRST }.expected(), Some(Version::FIRST));
    /// ```
    pub fn expected(&self) -> Option<Version> {
        match self {
            TxAction::Update { expected, .. }
            | TxAction::Delete { expected }
            | TxAction::Check { expected } => Some(*expected),
            TxAction::Insert(_) | TxAction::Put(_) | TxAction::Remove => None,
        }
    }
}

impl TxOp {
    /// An op from a key and an action.
    ///
    /// ```
    /// use optimist_core::{Key, TxAction, TxOp};
    /// let op = TxOp::new(Key::new("k"), TxAction::Remove);
    /// assert_eq!(op.action(), &TxAction::Remove);
    /// ```
    pub fn new(key: Key, action: TxAction) -> Self {
        Self { key, action }
    }

    /// Insert `value` at `key`, only if absent.
    ///
    /// ```
    /// let op = optimist_core::TxOp::insert(optimist_core::Key::new("k"), serde_json::json!(1));
    /// ```
    pub fn insert(key: Key, value: Value) -> Self {
        Self::new(key, TxAction::Insert(value))
    }

    /// Replace the value at `key`, only if it is at `expected`.
    ///
    /// ```
    /// use optimist_core::{Key, TxOp, Version};
    /// let op = TxOp::update(Key::new("k"), Version::FIRST, serde_json::json!(2));
    /// ```
    pub fn update(key: Key, expected: Version, value: Value) -> Self {
        Self::new(key, TxAction::Update { expected, value })
    }

    /// Delete the item at `key`, only if it is at `expected`.
    ///
    /// ```
    /// use optimist_core::{Key, TxOp, Version};
    /// let op = TxOp::delete(Key::new("k"), Version::FIRST);
    /// ```
    pub fn delete(key: Key, expected: Version) -> Self {
        Self::new(key, TxAction::Delete { expected })
    }

    /// Require the item at `key` to be at `expected`, writing nothing.
    ///
    /// ```
    /// use optimist_core::{Key, TxOp, Version};
    /// let op = TxOp::check(Key::new("k"), Version::FIRST);
    /// ```
    pub fn check(key: Key, expected: Version) -> Self {
        Self::new(key, TxAction::Check { expected })
    }

    /// Write `value` at `key` unconditionally.
    ///
    /// ```
    /// let op = optimist_core::TxOp::put(optimist_core::Key::new("k"), serde_json::json!(1));
    /// ```
    pub fn put(key: Key, value: Value) -> Self {
        Self::new(key, TxAction::Put(value))
    }

    /// Delete the item at `key` unconditionally.
    ///
    /// ```
    /// let op = optimist_core::TxOp::remove(optimist_core::Key::new("k"));
    /// ```
    pub fn remove(key: Key) -> Self {
        Self::new(key, TxAction::Remove)
    }

    /// The op's key.
    ///
    /// ```
    /// let op = optimist_core::TxOp::remove(optimist_core::Key::new("k"));
    /// assert_eq!(op.key().partition(), "k");
    /// ```
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// What the op does.
    ///
    /// ```
    /// use optimist_core::{Key, TxAction, TxOp};
    /// assert_eq!(TxOp::remove(Key::new("k")).action(), &TxAction::Remove);
    /// ```
    pub fn action(&self) -> &TxAction {
        &self.action
    }

    /// Splits the op into its key and action.
    ///
    /// ```
    /// use optimist_core::{Key, TxAction, TxOp};
    /// let (key, action) = TxOp::remove(Key::new("k")).into_parts();
    /// assert_eq!(action, TxAction::Remove);
    /// ```
    pub fn into_parts(self) -> (Key, TxAction) {
        (self.key, self.action)
    }
}

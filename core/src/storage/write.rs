//! What the engine asks a backend to write: a key, a precondition and a change.

use serde_json::Value;

use crate::{Conflict, Key, Version, Versioned};

/// The state a write requires its item to be in, judged atomically with the write (the
/// precondition is part of the call, like `object_store`'s `PutMode`).
///
/// ```
/// use optimist_core::{Expect, Version};
/// assert!(Expect::Absent.admits(None));
/// assert!(Expect::At(Version::new(3)).admits(Some(Version::new(3))));
/// assert!(!Expect::At(Version::new(3)).admits(Some(Version::new(4))));
/// assert!(Expect::Any.admits(Some(Version::new(9))));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expect {
    /// The key holds no item (insert).
    Absent,
    /// The item exists at exactly this version (update, delete, check).
    At(Version),
    /// Whatever is there (put, remove).
    Any,
}

impl Expect {
    /// Whether an item at `current` (`None`: absent) meets the precondition. The one
    /// judgement of conditions every backend that decides in Rust uses.
    ///
    /// ```
    /// use optimist_core::Expect;
    /// assert!(!Expect::Absent.admits(Some(optimist_core::Version::FIRST)));
    /// ```
    pub fn admits(self, current: Option<Version>) -> bool {
        match self {
            Expect::Absent => current.is_none(),
            Expect::At(expected) => current == Some(expected),
            Expect::Any => true,
        }
    }

    /// The conflict of this precondition on an item in state `current`, carrying the
    /// item (contract R11); `None` when the precondition holds.
    ///
    /// ```
    /// use optimist_core::{Conflict, Expect, Version, Versioned};
    /// let item = Versioned::new(serde_json::json!(1), Version::new(2));
    /// assert_eq!(Expect::At(Version::FIRST).conflict(None), Some(Conflict::NotFound));
    /// assert!(Expect::Absent.conflict(Some(item.clone())).is_some());
    /// assert_eq!(Expect::At(Version::new(2)).conflict(Some(item)), None);
    /// ```
    pub fn conflict(self, current: Option<Versioned<Value>>) -> Option<Conflict> {
        match (self, current) {
            (Expect::Absent, Some(current)) => Some(Conflict::AlreadyExists { current }),
            (Expect::At(_), None) => Some(Conflict::NotFound),
            (Expect::At(expected), Some(current)) if current.version != expected => {
                Some(Conflict::VersionMismatch { expected, current })
            }
            _ => None,
        }
    }

    /// The version a successful [`Change::Put`] under this precondition gives, when it
    /// can be known before the write: 1 for `Absent`, `expected + 1` for `At`. `None`
    /// for `Any` (it depends on the stored item) and at the end of the counter.
    ///
    /// ```
    /// use optimist_core::{Expect, Version};
    /// assert_eq!(Expect::Absent.next_version(), Some(Version::FIRST));
    /// assert_eq!(Expect::At(Version::new(4)).next_version(), Some(Version::new(5)));
    /// assert_eq!(Expect::Any.next_version(), None);
    /// ```
    pub fn next_version(self) -> Option<Version> {
        match self {
            Expect::Absent => Some(Version::FIRST),
            Expect::At(expected) => expected.next(),
            Expect::Any => None,
        }
    }
}

/// What a write does to its item when its precondition holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Change<'a> {
    /// Store this value at the next version (1 on an absent key, previous + 1 otherwise).
    Put(&'a Value),
    /// Delete the item.
    Delete,
    /// Write nothing: only the precondition is checked (a transaction's `Check`).
    Keep,
}

/// One conditional write, as the engine hands it to a
/// [`Storage`](crate::Storage): apply `change` to `key` only if `expect` holds, as one
/// atomic step.
///
/// Built by the engine after it has checked the input; a backend reads it, it does not
/// build one. New fields may come (a write token), hence `#[non_exhaustive]`.
///
/// ```
/// use optimist_core::{Change, Expect, Key, Version, Write};
/// let value = serde_json::json!({"n": 1});
/// let key = Key::new("k");
/// let write = Write::new(&key, Expect::At(Version::new(1)), Change::Put(&value));
/// assert_eq!(write.new_version(), Some(Version::new(2)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Write<'a> {
    /// The item's key.
    pub key: &'a Key,
    /// The state the item must be in.
    pub expect: Expect,
    /// What to do to it.
    pub change: Change<'a>,
}

/// What a backend that decides in Rust does for a [`Write`] on an item at a given
/// version: see [`Write::decide`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The precondition fails (or the version counter is exhausted): write nothing and
    /// answer [`Outcome::Refused`](crate::Outcome::Refused) with the current item.
    Refuse,
    /// Store the write's value at this version.
    Put(Version),
    /// Delete the item.
    Delete,
    /// Write nothing; the precondition held.
    Keep,
}

impl<'a> Write<'a> {
    /// A write of `change` to `key` under `expect`.
    ///
    /// ```
    /// use optimist_core::{Change, Expect, Key, Write};
    /// let write = Write::new(&Key::new("k"), Expect::Any, Change::Delete);
    /// assert_eq!(write.change, Change::Delete);
    /// ```
    pub fn new(key: &'a Key, expect: Expect, change: Change<'a>) -> Self {
        Self {
            key,
            expect,
            change,
        }
    }

    /// The version the item has after this write, when the engine knows it in advance
    /// (see [`Expect::next_version`]); `None` for a delete, and for a put under
    /// [`Expect::Any`], whose backend computes `previous + 1` where it stores it.
    ///
    /// ```
    /// use optimist_core::{Change, Expect, Key, Version, Write};
    /// let key = Key::new("k");
    /// assert_eq!(Write::new(&key, Expect::At(Version::new(3)), Change::Keep).new_version(), Some(Version::new(3)));
    /// ```
    pub fn new_version(&self) -> Option<Version> {
        match (self.change, self.expect) {
            (Change::Put(_), expect) => expect.next_version(),
            (Change::Keep, Expect::At(version)) => Some(version),
            _ => None,
        }
    }

    /// The whole judgement of this write against an item at `current` (`None`:
    /// absent), for backends that read the item and decide in Rust under a lock or in
    /// a transaction: refuse, or what to store. A put on an item at the last version
    /// is refused, as nothing can follow it; the engine reports that as exhausted.
    ///
    /// ```
    /// use optimist_core::{Change, Decision, Expect, Key, Version, Write};
    /// let v = serde_json::json!(1);
    /// let key = Key::new("k");
    /// let put = Write::new(&key, Expect::Any, Change::Put(&v));
    /// assert_eq!(put.decide(None), Decision::Put(Version::FIRST));
    /// assert_eq!(put.decide(Some(Version::new(7))), Decision::Put(Version::new(8)));
    /// assert_eq!(put.decide(Some(Version::new(u64::MAX))), Decision::Refuse);
    /// let insert = Write::new(&key, Expect::Absent, Change::Put(&v));
    /// assert_eq!(insert.decide(Some(Version::FIRST)), Decision::Refuse);
    /// ```
    pub fn decide(&self, current: Option<Version>) -> Decision {
        if !self.expect.admits(current) {
            return Decision::Refuse;
        }
        match self.change {
            Change::Put(_) => match current {
                None => Decision::Put(Version::FIRST),
                Some(previous) => previous.next().map_or(Decision::Refuse, Decision::Put),
            },
            Change::Delete => Decision::Delete,
            Change::Keep => Decision::Keep,
        }
    }

    /// The value a put stores.
    ///
    /// ```
    /// use optimist_core::{Change, Expect, Key, Write};
    /// let v = serde_json::json!(1);
    /// let key = Key::new("k");
    /// assert_eq!(Write::new(&key, Expect::Any, Change::Put(&v)).value(), Some(&v));
    /// ```
    pub fn value(&self) -> Option<&'a Value> {
        match self.change {
            Change::Put(value) => Some(value),
            Change::Delete | Change::Keep => None,
        }
    }
}

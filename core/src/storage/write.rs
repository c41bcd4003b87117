//! What the engine asks a backend to write: a key, a precondition and a change.

use serde_json::Value;

use crate::{Conflict, Held, Key, Version, Versioned, WriteToken};

/// The state a write requires its item to be in, judged atomically with the write (the
/// precondition is part of the call, like `object_store`'s `PutMode`).
///
/// ```
/// use optimist_core::{Expect, Held, Version};
/// assert!(Expect::Absent.admits(Held::Nothing));
/// assert!(!Expect::Absent.admits(Held::Tombstone(Version::new(2))));
/// assert!(Expect::At(Version::new(3)).admits(Held::Item(Version::new(3))));
/// assert!(!Expect::At(Version::new(3)).admits(Held::Tombstone(Version::new(3))));
/// assert!(Expect::Tombstone(Version::new(3)).admits(Held::Tombstone(Version::new(3))));
/// assert!(Expect::Any.admits(Held::Item(Version::new(9))));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expect {
    /// The key holds nothing at all: no item and no tombstone (insert).
    Absent,
    /// An item exists at exactly this version (update, delete, check).
    At(Version),
    /// The key holds the tombstone of the item deleted at exactly this version: an
    /// insert on a key deleted in tombstone mode
    /// ([`Capabilities::tombstones`](crate::Capabilities::tombstones)). Sent only after
    /// the store reported such a tombstone, so a store that never leaves one never
    /// gets it.
    Tombstone(Version),
    /// Whatever is there (put, remove).
    Any,
}

impl Expect {
    /// Whether a key in state `held` meets the precondition. The one judgement of
    /// conditions every backend that decides in Rust uses.
    ///
    /// ```
    /// use optimist_core::{Expect, Held, Version};
    /// assert!(!Expect::Absent.admits(Held::Item(Version::FIRST)));
    /// ```
    #[inline]
    pub fn admits(self, held: Held) -> bool {
        match (self, held) {
            (Expect::Absent, Held::Nothing) | (Expect::Any, _) => true,
            (Expect::At(expected), Held::Item(version))
            | (Expect::Tombstone(expected), Held::Tombstone(version)) => version == expected,
            _ => false,
        }
    }

    /// The conflict of this precondition on an item in state `current` (`None`:
    /// absent, a tombstone included), carrying the item (contract R11); `None` when
    /// the precondition holds as the caller sees it.
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
            (Expect::Absent | Expect::Tombstone(_), Some(current)) => {
                Some(Conflict::AlreadyExists { current })
            }
            (Expect::At(_), None) => Some(Conflict::NotFound),
            (Expect::At(expected), Some(current)) if current.version != expected => {
                Some(Conflict::VersionMismatch { expected, current })
            }
            _ => None,
        }
    }

    /// The version a successful [`Change::Put`] under this precondition gives, when it
    /// can be known before the write: 1 for `Absent`, `expected + 1` for `At` and
    /// `Tombstone`. `None` for `Any` (it depends on the stored item) and at the end of
    /// the counter.
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
            Expect::At(expected) | Expect::Tombstone(expected) => expected.next(),
            Expect::Any => None,
        }
    }
}

/// What a write does to its item when its precondition holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Change<'a> {
    /// Store this value at the next version (1 on an empty key, the item's or the
    /// tombstone's version + 1 otherwise).
    Put(&'a Value),
    /// Delete the item: remove it, or in tombstone mode replace it by a tombstone at
    /// the same version. On a key without an item, write nothing.
    Delete,
    /// Write nothing: only the precondition is checked (a transaction's `Check`).
    Keep,
}

/// One conditional write, as the engine hands it to a
/// [`Storage`](crate::Storage): apply `change` to `key` only if `expect` holds, as one
/// atomic step.
///
/// Built by the engine after it has checked the input; a backend reads it, it does not
/// build one. The backend stores `token` with whatever the write leaves (item or
/// tombstone), so that after a lost answer the engine can tell its own write from
/// another's (contract R14).
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
    /// The write's unique token, to store with what it leaves.
    pub token: WriteToken,
}

/// What a backend that decides in Rust does for a [`Write`] on an item at a given
/// version: see [`Write::decide`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The precondition fails (or the version counter is exhausted): write nothing and
    /// answer [`Outcome::Refused`](crate::Outcome::Refused) with the current record.
    Refuse,
    /// Store the write's value at this version, with the write's token.
    Put(Version),
    /// Delete the item: remove the record, or in tombstone mode leave a tombstone at
    /// the item's version with the write's token.
    Delete,
    /// Write nothing; the precondition held.
    Keep,
}

impl<'a> Write<'a> {
    /// A write of `change` to `key` under `expect`, with a fresh token.
    ///
    /// ```
    /// use optimist_core::{Change, Expect, Key, Write};
    /// let key = Key::new("k");
    /// let write = Write::new(&key, Expect::Any, Change::Delete);
    /// assert_eq!(write.change, Change::Delete);
    /// assert_ne!(write.token, Write::new(&key, Expect::Any, Change::Delete).token);
    /// ```
    pub fn new(key: &'a Key, expect: Expect, change: Change<'a>) -> Self {
        Self {
            key,
            expect,
            change,
            token: WriteToken::random(),
        }
    }

    /// A write of `change` to `key` under `expect` carrying `token`, drawn before
    /// (a put's first attempt handed its value over with it).
    pub(crate) fn carrying(
        key: &'a Key,
        expect: Expect,
        change: Change<'a>,
        token: WriteToken,
    ) -> Self {
        Self {
            key,
            expect,
            change,
            token,
        }
    }

    /// The same write carrying `token` (a transaction's writes share one; a resend
    /// keeps its first attempt's).
    ///
    /// ```
    /// use optimist_core::{Change, Expect, Key, Write, WriteToken};
    /// let key = Key::new("k");
    /// let token = WriteToken::from_u128(1);
    /// assert_eq!(Write::new(&key, Expect::Any, Change::Delete).with_token(token).token, token);
    /// ```
    pub fn with_token(mut self, token: WriteToken) -> Self {
        self.token = token;
        self
    }

    /// The same write under another precondition, token kept.
    pub fn expecting(mut self, expect: Expect) -> Self {
        self.expect = expect;
        self
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

    /// The whole judgement of this write against a key in state `held`, for backends
    /// that read the record and decide in Rust under a lock or in a transaction:
    /// refuse, or what to store. A put on a key whose counter is at its last version
    /// is refused, as nothing can follow it; the engine reports that as exhausted.
    ///
    /// ```
    /// use optimist_core::{Change, Decision, Expect, Held, Key, Version, Write};
    /// let v = serde_json::json!(1);
    /// let key = Key::new("k");
    /// let put = Write::new(&key, Expect::Any, Change::Put(&v));
    /// assert_eq!(put.decide(Held::Nothing), Decision::Put(Version::FIRST));
    /// assert_eq!(put.decide(Held::Item(Version::new(7))), Decision::Put(Version::new(8)));
    /// assert_eq!(put.decide(Held::Tombstone(Version::new(7))), Decision::Put(Version::new(8)));
    /// assert_eq!(put.decide(Held::Item(Version::new(u64::MAX))), Decision::Refuse);
    /// let insert = Write::new(&key, Expect::Absent, Change::Put(&v));
    /// assert_eq!(insert.decide(Held::Item(Version::FIRST)), Decision::Refuse);
    /// let remove = Write::new(&key, Expect::Any, Change::Delete);
    /// assert_eq!(remove.decide(Held::Tombstone(Version::FIRST)), Decision::Keep);
    /// ```
    #[inline]
    pub fn decide(&self, held: Held) -> Decision {
        if !self.expect.admits(held) {
            return Decision::Refuse;
        }
        match (self.change, held) {
            (Change::Put(_), Held::Nothing) => Decision::Put(Version::FIRST),
            (Change::Put(_), Held::Item(previous) | Held::Tombstone(previous)) => {
                previous.next().map_or(Decision::Refuse, Decision::Put)
            }
            (Change::Delete, Held::Item(_)) => Decision::Delete,
            (Change::Delete, Held::Nothing | Held::Tombstone(_)) | (Change::Keep, _) => {
                Decision::Keep
            }
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

//! What a key holds in storage, as a backend reports it to the engine: nothing, an
//! item, or (in tombstone mode) the tombstone a delete left; with the token of the
//! write that left it there.

use serde_json::Value;

use crate::{Version, Versioned, WriteToken};

/// The state of a key as far as a precondition is concerned.
///
/// ```
/// use optimist_core::{Held, Version};
/// assert_eq!(Held::Item(Version::new(3)).live_version(), Some(Version::new(3)));
/// assert_eq!(Held::Tombstone(Version::new(3)).live_version(), None);
/// assert_eq!(Held::Tombstone(Version::new(3)).version(), Some(Version::new(3)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Held {
    /// The key holds nothing: never written, deleted without a tombstone, or purged.
    Nothing,
    /// An item at this version.
    Item(Version),
    /// A tombstone left by deleting the item that had this version (tombstone mode:
    /// the version keeps counting from it; readers see the key as absent).
    Tombstone(Version),
}

impl Held {
    /// The state a stored record gives the key; `None` is [`Held::Nothing`].
    ///
    /// ```
    /// use optimist_core::{Held, Record, Version};
    /// assert_eq!(Held::of(None), Held::Nothing);
    /// assert_eq!(Held::of(Some(&Record::tombstone(Version::FIRST))), Held::Tombstone(Version::FIRST));
    /// ```
    pub fn of(record: Option<&Record>) -> Self {
        record.map_or(Held::Nothing, Record::held)
    }

    /// The version of the item, `None` for nothing and for a tombstone.
    pub fn live_version(self) -> Option<Version> {
        match self {
            Held::Item(version) => Some(version),
            Held::Nothing | Held::Tombstone(_) => None,
        }
    }

    /// The version the key's counter stands at: an item's or a tombstone's.
    pub fn version(self) -> Option<Version> {
        match self {
            Held::Item(version) | Held::Tombstone(version) => Some(version),
            Held::Nothing => None,
        }
    }
}

/// What a backend stores under a key: an item (a value at a version) or a tombstone
/// (a version without a value), with the [`WriteToken`] of the write that left it.
/// `token` is `None` when the record was written by another client (or before tokens
/// were kept); such a record is never taken for one of ours.
///
/// ```
/// use optimist_core::{Record, Version, WriteToken};
/// let token = WriteToken::random();
/// let item = Record::item(serde_json::json!(1), Version::FIRST).with_token(Some(token));
/// assert!(item.written_by(token));
/// assert!(!item.is_tombstone());
/// assert_eq!(item.into_item().map(|i| i.version), Some(Version::FIRST));
/// assert_eq!(Record::tombstone(Version::new(4)).into_item(), None);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Record {
    /// The item's version, or the deleted item's version for a tombstone.
    pub version: Version,
    /// The value; `None` for a tombstone.
    pub value: Option<Value>,
    /// The token of the write that left this record, if that write carried one.
    pub token: Option<WriteToken>,
}

impl Record {
    /// An item without a token.
    pub fn item(value: Value, version: Version) -> Self {
        Self {
            version,
            value: Some(value),
            token: None,
        }
    }

    /// A tombstone at `version` without a token.
    pub fn tombstone(version: Version) -> Self {
        Self {
            version,
            value: None,
            token: None,
        }
    }

    /// The same record carrying `token`.
    pub fn with_token(mut self, token: Option<WriteToken>) -> Self {
        self.token = token;
        self
    }

    /// Whether this is a tombstone.
    pub fn is_tombstone(&self) -> bool {
        self.value.is_none()
    }

    /// Whether the write carrying `token` left this record.
    pub fn written_by(&self, token: WriteToken) -> bool {
        self.token == Some(token)
    }

    /// The key's state under this record.
    pub fn held(&self) -> Held {
        match self.value {
            Some(_) => Held::Item(self.version),
            None => Held::Tombstone(self.version),
        }
    }

    /// The item readers see: `None` for a tombstone.
    pub fn into_item(self) -> Option<Versioned<Value>> {
        let version = self.version;
        self.value.map(|value| Versioned::new(value, version))
    }
}

impl From<Versioned<Value>> for Record {
    fn from(item: Versioned<Value>) -> Self {
        Record::item(item.value, item.version)
    }
}

//! A put handed to the store with its value, for a store that keeps values as they
//! are (in memory): it moves the value in instead of copying it.

use serde_json::Value;

use crate::{Change, Expect, Held, Key, Outcome, StorageError, Write, WriteToken};

/// A put whose value the store may keep: [`Storage::write_value`](crate::Storage::write_value)'s
/// argument. The same write as [`OwnedPut::write`], with the value owned.
///
/// ```
/// use optimist_core::{Change, Expect, Key, OwnedPut, WriteToken};
/// let key = Key::new("k");
/// let put = OwnedPut::new(&key, Expect::Absent, WriteToken::from_u128(7), serde_json::json!(1));
/// let write = put.write();
/// assert_eq!(write.change, Change::Put(&serde_json::json!(1)));
/// assert_eq!(write.token, WriteToken::from_u128(7));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct OwnedPut<'a> {
    /// The item's key.
    pub key: &'a Key,
    /// The state the item must be in.
    pub expect: Expect,
    /// The write's token, to store with the item.
    pub token: WriteToken,
    /// The value to store.
    pub value: Value,
}

impl<'a> OwnedPut<'a> {
    /// A put of `value` to `key` under `expect`, carrying `token`.
    pub fn new(key: &'a Key, expect: Expect, token: WriteToken, value: Value) -> Self {
        Self {
            key,
            expect,
            token,
            value,
        }
    }

    /// The same put as a [`Write`] borrowing the value, for the judgement
    /// ([`Write::decide`]) or for [`Storage::write`](crate::Storage::write).
    pub fn write(&self) -> Write<'_> {
        // Not `Write::new`: that draws a token, which this put already has.
        Write {
            key: self.key,
            expect: self.expect,
            change: Change::Put(&self.value),
            token: self.token,
        }
    }
}

/// What became of an [`OwnedPut`].
#[derive(Debug)]
pub enum PutAnswer {
    /// Applied, the value kept by the store: what the key held before.
    Kept {
        /// The key's state before the put.
        previous: Held,
    },
    /// The store's answer as [`Storage::write`](crate::Storage::write) gives it, with
    /// the value back (the engine may send the put again).
    Answered {
        /// The answer.
        answer: Result<Outcome, StorageError>,
        /// The put's value, not kept.
        value: Value,
    },
}

//! The fencing token: which acquisition of which lease.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Key, Version};

/// A fencing token (contract R19): the lease record's version when its holder acquired
/// it. Every new holder's token is greater than every earlier holder's, because the
/// record is never deleted and its version only grows; renewals do not change it.
///
/// ```
/// use optimist_core::{Key, Version};
/// use optimist_core::lease::FencingToken;
/// let token = FencingToken::new(Key::new("shard-3"), Version::new(12));
/// assert_eq!(token.get(), 12);
/// assert_eq!(token.lease(), &Key::new("shard-3"));
/// assert_eq!(token.to_string(), "token 12 of lease \"shard-3\"");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct FencingToken {
    lease: Key,
    version: Version,
}

impl FencingToken {
    /// The token of the acquisition that gave the record at `lease` version `version`.
    ///
    /// ```
    /// use optimist_core::{Key, Version};
    /// let token = optimist_core::lease::FencingToken::new(Key::new("l"), Version::FIRST);
    /// assert_eq!(token.version(), Version::FIRST);
    /// ```
    pub fn new(lease: Key, version: Version) -> Self {
        Self { lease, version }
    }

    /// The lease record's key.
    ///
    /// ```
    /// use optimist_core::{Key, Version};
    /// let token = optimist_core::lease::FencingToken::new(Key::new("l"), Version::FIRST);
    /// assert_eq!(token.lease().partition(), "l");
    /// ```
    pub fn lease(&self) -> &Key {
        &self.lease
    }

    /// The record's version at acquisition.
    ///
    /// ```
    /// use optimist_core::{Key, Version};
    /// let token = optimist_core::lease::FencingToken::new(Key::new("l"), Version::new(3));
    /// assert_eq!(token.version(), Version::new(3));
    /// ```
    pub fn version(&self) -> Version {
        self.version
    }

    /// The token as a number, to stamp on writes or compare with another holder's.
    ///
    /// ```
    /// use optimist_core::{Key, Version};
    /// let token = optimist_core::lease::FencingToken::new(Key::new("l"), Version::new(3));
    /// assert_eq!(token.get(), 3);
    /// ```
    pub fn get(&self) -> u64 {
        self.version.get()
    }
}

impl fmt::Display for FencingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token {} of lease {}", self.version.get(), self.lease)
    }
}

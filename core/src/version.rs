//! Item versions (contract R3).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The version of an item (contract R3).
///
/// Insert creates version 1 and every successful write to an existing item sets
/// `previous + 1`. Version 0 is never assigned by a store: it is what an item written
/// by another tool, without a version, reads as.
///
/// ```
/// use optimist_core::Version;
///
/// let v = Version::FIRST;
/// assert_eq!(v.get(), 1);
/// assert_eq!(v.next(), Some(Version::new(2)));
/// assert_eq!(Version::UNVERSIONED.get(), 0);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Version(u64);

impl Version {
    /// Version 0: an item that exists without a version (written by another tool).
    pub const UNVERSIONED: Version = Version(0);
    /// Version 1: what insert, and put on an absent key, create.
    pub const FIRST: Version = Version(1);

    /// A version from its number.
    ///
    /// ```
    /// assert_eq!(optimist_core::Version::new(7).get(), 7);
    /// ```
    pub const fn new(number: u64) -> Self {
        Version(number)
    }

    /// The version's number.
    ///
    /// ```
    /// assert_eq!(optimist_core::Version::FIRST.get(), 1);
    /// ```
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The version a successful write gives: `self + 1`, or `None` at `u64::MAX`.
    ///
    /// ```
    /// use optimist_core::Version;
    /// assert_eq!(Version::new(41).next(), Some(Version::new(42)));
    /// assert_eq!(Version::new(u64::MAX).next(), None);
    /// ```
    pub const fn next(self) -> Option<Version> {
        match self.0.checked_add(1) {
            Some(n) => Some(Version(n)),
            None => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

impl From<u64> for Version {
    fn from(number: u64) -> Self {
        Version(number)
    }
}

impl From<Version> for u64 {
    fn from(version: Version) -> Self {
        version.0
    }
}

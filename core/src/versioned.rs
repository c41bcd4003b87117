//! A value together with the version it was read at.

use serde::{Deserialize, Serialize};

use crate::Version;

/// A value and the version it was read at.
///
/// `get` returns one, and every [`Conflict`](crate::Conflict) carries the current one.
///
/// ```
/// use optimist_core::{Version, Versioned};
/// use serde_json::json;
///
/// let item = Versioned::new(json!({"title": "Dune"}), Version::FIRST);
/// assert_eq!(item.version, Version::FIRST);
/// let title = item.map(|v| v["title"].clone());
/// assert_eq!(title.value, json!("Dune"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// The version the value was read at.
    pub version: Version,
}

impl<T> Versioned<T> {
    /// Pairs a value with its version.
    ///
    /// ```
    /// let item = optimist_core::Versioned::new(5, optimist_core::Version::new(3));
    /// assert_eq!(item.value, 5);
    /// ```
    pub fn new(value: T, version: Version) -> Self {
        Self { value, version }
    }

    /// Transforms the value and keeps the version.
    ///
    /// ```
    /// let item = optimist_core::Versioned::new(2, optimist_core::Version::FIRST);
    /// assert_eq!(item.map(|n| n * 10).value, 20);
    /// ```
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Versioned<U> {
        Versioned {
            value: f(self.value),
            version: self.version,
        }
    }
}

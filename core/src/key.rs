//! Item keys: a partition part and an optional sort part (contract R1).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The largest a key part may be, in UTF-8 bytes (contract R1).
pub const MAX_KEY_PART_BYTES: usize = 1024;

/// The key of an item: a partition part and an optional sort part.
///
/// `Key::new("a")` and `Key::with_sort("a", "b")` name different items. Building a key
/// never fails; a store checks the limits (non-empty, at most
/// [`MAX_KEY_PART_BYTES`] bytes per part) on every operation and answers
/// [`Error::InvalidInput`](crate::Error::InvalidInput) before sending anything.
///
/// ```
/// use optimist_core::Key;
///
/// let book = Key::new("book#42");
/// let chapter = Key::with_sort("book#42", "chapter#7");
/// assert_ne!(book, chapter);
/// assert_eq!(chapter.partition(), "book#42");
/// assert_eq!(chapter.sort(), Some("chapter#7"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    partition: String,
    sort: Option<String>,
}

impl Key {
    /// A key with only a partition part.
    ///
    /// ```
    /// let key = optimist_core::Key::new("order-1");
    /// assert_eq!(key.sort(), None);
    /// ```
    pub fn new(partition: impl Into<String>) -> Self {
        Self {
            partition: partition.into(),
            sort: None,
        }
    }

    /// A key with a partition part and a sort part.
    ///
    /// ```
    /// let key = optimist_core::Key::with_sort("customer-9", "order-1");
    /// assert_eq!(key.sort(), Some("order-1"));
    /// ```
    pub fn with_sort(partition: impl Into<String>, sort: impl Into<String>) -> Self {
        Self {
            partition: partition.into(),
            sort: Some(sort.into()),
        }
    }

    /// The partition part.
    ///
    /// ```
    /// assert_eq!(optimist_core::Key::new("p").partition(), "p");
    /// ```
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The sort part, if the key has one.
    ///
    /// ```
    /// assert_eq!(optimist_core::Key::with_sort("p", "s").sort(), Some("s"));
    /// ```
    pub fn sort(&self) -> Option<&str> {
        self.sort.as_deref()
    }

    /// Whether the key has a sort part.
    ///
    /// ```
    /// assert!(optimist_core::Key::with_sort("p", "s").has_sort());
    /// assert!(!optimist_core::Key::new("p").has_sort());
    /// ```
    pub fn has_sort(&self) -> bool {
        self.sort.is_some()
    }

    /// Both parts, for backends that store them separately.
    ///
    /// ```
    /// let key = optimist_core::Key::with_sort("p", "s");
    /// assert_eq!(key.parts(), ("p", Some("s")));
    /// ```
    pub fn parts(&self) -> (&str, Option<&str>) {
        (&self.partition, self.sort.as_deref())
    }

    /// The key's size in bytes (both parts), as counted against item size limits.
    ///
    /// ```
    /// assert_eq!(optimist_core::Key::with_sort("ab", "c").encoded_len(), 3);
    /// ```
    pub fn encoded_len(&self) -> usize {
        self.partition.len() + self.sort.as_ref().map_or(0, String::len)
    }
}

// Keys appear in error messages: quote them and cut very long parts so a message stays
// readable, while two different keys still print differently in the common case.
impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_part(f, &self.partition)?;
        if let Some(sort) = &self.sort {
            f.write_str("/")?;
            write_part(f, sort)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}

fn write_part(f: &mut fmt::Formatter<'_>, part: &str) -> fmt::Result {
    const SHOWN: usize = 64;
    if part.chars().count() <= SHOWN {
        write!(f, "{part:?}")
    } else {
        let head: String = part.chars().take(SHOWN).collect();
        write!(f, "{head:?}…({} bytes)", part.len())
    }
}

impl From<&str> for Key {
    fn from(partition: &str) -> Self {
        Key::new(partition)
    }
}

impl From<String> for Key {
    fn from(partition: String) -> Self {
        Key::new(partition)
    }
}

impl From<(&str, &str)> for Key {
    fn from((partition, sort): (&str, &str)) -> Self {
        Key::with_sort(partition, sort)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_and_truncates() {
        assert_eq!(Key::with_sort("a", "b:c").to_string(), "\"a\"/\"b:c\"");
        let long = "x".repeat(2000);
        let shown = Key::new(long).to_string();
        assert!(shown.len() < 100, "{shown}");
        assert!(shown.ends_with("(2000 bytes)"));
    }
}

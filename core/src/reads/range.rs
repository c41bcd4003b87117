//! Which sort parts of one partition a query reads.

use std::cmp::Ordering;
use std::ops::Bound;

/// The part of a partition a [`query`](crate::VersionedStore::query) reads, by sort
/// part, compared as UTF-8 bytes on every backend (contract R17).
///
/// ```
/// use optimist_core::SortRange;
///
/// let range = SortRange::between("2026-01", "2026-03");
/// assert!(range.contains("2026-02-14"));
/// assert!(!range.contains("2026-03-01")); // "2026-03-01" > "2026-03"
/// assert!(SortRange::prefix("2026-").contains("2026-12-31"));
/// assert!(!SortRange::after("b").contains("b"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SortRange {
    /// Every item of the partition that has a sort part.
    All,
    /// The sort parts that start with this prefix.
    Prefix(String),
    /// The sort parts from `from` to `to`, both included.
    Between {
        /// The lowest sort part read.
        from: String,
        /// The highest sort part read.
        to: String,
    },
    /// The sort parts above this one, not included.
    After(String),
    /// The sort parts below this one, not included.
    Before(String),
}

impl SortRange {
    /// [`SortRange::Prefix`].
    ///
    /// ```
    /// assert!(optimist_core::SortRange::prefix("a#").contains("a#1"));
    /// ```
    pub fn prefix(prefix: impl Into<String>) -> Self {
        SortRange::Prefix(prefix.into())
    }

    /// [`SortRange::Between`], both bounds included.
    ///
    /// ```
    /// assert!(optimist_core::SortRange::between("a", "c").contains("c"));
    /// ```
    pub fn between(from: impl Into<String>, to: impl Into<String>) -> Self {
        SortRange::Between {
            from: from.into(),
            to: to.into(),
        }
    }

    /// [`SortRange::After`], the bound not included.
    ///
    /// ```
    /// assert!(optimist_core::SortRange::after("a").contains("ab"));
    /// ```
    pub fn after(sort: impl Into<String>) -> Self {
        SortRange::After(sort.into())
    }

    /// [`SortRange::Before`], the bound not included.
    ///
    /// ```
    /// assert!(!optimist_core::SortRange::before("a").contains("a"));
    /// ```
    pub fn before(sort: impl Into<String>) -> Self {
        SortRange::Before(sort.into())
    }

    /// Whether a sort part lies in the range.
    ///
    /// ```
    /// assert!(optimist_core::SortRange::All.contains("anything"));
    /// ```
    pub fn contains(&self, sort: &str) -> bool {
        match self {
            SortRange::All => true,
            SortRange::Prefix(prefix) => sort.as_bytes().starts_with(prefix.as_bytes()),
            SortRange::Between { from, to } => {
                compare(sort, from) != Ordering::Less && compare(sort, to) != Ordering::Greater
            }
            SortRange::After(bound) => compare(sort, bound) == Ordering::Greater,
            SortRange::Before(bound) => compare(sort, bound) == Ordering::Less,
        }
    }

    /// The range as a lower and an upper bound on the sort part; a prefix becomes
    /// `[prefix, prefix_upper_bound(prefix))`, so a backend with ordered keys reads it
    /// as one interval.
    ///
    /// ```
    /// use std::ops::Bound;
    /// use optimist_core::SortRange;
    /// let (lower, upper) = SortRange::prefix("ab").bounds();
    /// assert_eq!(lower, Bound::Included("ab".to_string()));
    /// assert_eq!(upper, Bound::Excluded("ac".to_string()));
    /// ```
    pub fn bounds(&self) -> (Bound<String>, Bound<String>) {
        match self {
            SortRange::All => (Bound::Unbounded, Bound::Unbounded),
            SortRange::Prefix(prefix) => (
                Bound::Included(prefix.clone()),
                prefix_upper_bound(prefix).map_or(Bound::Unbounded, Bound::Excluded),
            ),
            SortRange::Between { from, to } => {
                (Bound::Included(from.clone()), Bound::Included(to.clone()))
            }
            SortRange::After(bound) => (Bound::Excluded(bound.clone()), Bound::Unbounded),
            SortRange::Before(bound) => (Bound::Unbounded, Bound::Excluded(bound.clone())),
        }
    }

    /// The strings the range names (the prefix or its bounds), for input checks.
    pub(crate) fn parts(&self) -> Vec<(&'static str, &str)> {
        match self {
            SortRange::All => Vec::new(),
            SortRange::Prefix(prefix) => vec![("prefix", prefix)],
            SortRange::Between { from, to } => vec![("lower bound", from), ("upper bound", to)],
            SortRange::After(bound) => vec![("lower bound", bound)],
            SortRange::Before(bound) => vec![("upper bound", bound)],
        }
    }
}

/// Byte order of the UTF-8 encodings, which is also the order of code points: the order
/// DynamoDB gives string sort keys, `COLLATE "C"` in PostgreSQL, SQLite's `BINARY`.
fn compare(a: &str, b: &str) -> Ordering {
    a.as_bytes().cmp(b.as_bytes())
}

/// The smallest string above every string that starts with `prefix`, or `None` if there
/// is none (the prefix is all `U+10FFFF`): the last character that can grow is replaced
/// by the next one, and what follows it is dropped.
///
/// ```
/// use optimist_core::prefix_upper_bound;
/// assert_eq!(prefix_upper_bound("ab").as_deref(), Some("ac"));
/// assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
/// assert_eq!(prefix_upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
/// assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
/// ```
pub fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=0x10FFFF).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

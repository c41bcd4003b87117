//! What the engine asks a backend for a page, and what it answers.

use std::ops::Bound;

use super::{Direction, SortRange};
use crate::{Key, Record};

/// Which items a [`RangeRequest`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RangeScope<'a> {
    /// The items of one partition whose sort part lies in `range`, in `direction`, by
    /// the UTF-8 bytes of the sort part. Items without a sort part are not part of it.
    Partition {
        /// The partition part of every key read.
        partition: &'a str,
        /// The sort parts read.
        range: &'a SortRange,
        /// The order.
        direction: Direction,
    },
    /// Every item of the store, in an order of the backend's choosing that is the same
    /// on every call (a page continues after a key by that order).
    Store,
}

/// One page asked of [`Storage::read_range`](crate::Storage::read_range): at most
/// `limit` records of `scope`, starting strictly after `after` in the scope's order
/// (from the start if `None`). The engine has checked every part of it.
///
/// ```
/// use std::ops::Bound;
/// use optimist_core::{Direction, Key, RangeRequest, RangeScope, SortRange};
///
/// let range = SortRange::prefix("2026-");
/// let after = Key::with_sort("customer-9", "2026-02");
/// let scope = RangeScope::Partition { partition: "customer-9", range: &range, direction: Direction::Ascending };
/// let request = RangeRequest::new(scope, Some(&after), 100);
/// assert_eq!(
///     request.sort_bounds(),
///     (Bound::Excluded("2026-02".to_string()), Bound::Excluded("2026.".to_string()))
/// );
/// assert!(request.admits(&Key::with_sort("customer-9", "2026-03")));
/// assert!(!request.admits(&Key::with_sort("customer-9", "2026-01")));
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct RangeRequest<'a> {
    /// What to read.
    pub scope: RangeScope<'a>,
    /// The key the previous page ended at (the `resume_after` of the backend's answer),
    /// not included; `None` for the first page.
    pub after: Option<&'a Key>,
    /// The most records to answer, at least 1.
    pub limit: usize,
}

impl<'a> RangeRequest<'a> {
    /// A request for at most `limit` records of `scope` past `after`.
    pub fn new(scope: RangeScope<'a>, after: Option<&'a Key>, limit: usize) -> Self {
        Self {
            scope,
            after,
            limit,
        }
    }

    /// For a partition read: the bounds on the sort part that the range and `after`
    /// leave together, lower then upper, so a backend with ordered keys reads one
    /// interval in the asked direction. For a store read: both unbounded.
    pub fn sort_bounds(&self) -> (Bound<String>, Bound<String>) {
        let RangeScope::Partition {
            range, direction, ..
        } = self.scope
        else {
            return (Bound::Unbounded, Bound::Unbounded);
        };
        let (lower, upper) = range.bounds();
        let Some(after) = self.after.and_then(Key::sort) else {
            return (lower, upper);
        };
        let position = Bound::Excluded(after.to_string());
        match direction {
            Direction::Ascending => (tighter_lower(lower, position), upper),
            Direction::Descending => (lower, tighter_upper(upper, position)),
        }
    }

    /// Whether a key belongs to this page's reach: in the scope, and past `after` in a
    /// partition read's direction. A store read admits every key (where it continues
    /// is the backend's order).
    pub fn admits(&self, key: &Key) -> bool {
        let RangeScope::Partition { partition, .. } = self.scope else {
            return true;
        };
        let Some(sort) = key.sort() else {
            return false;
        };
        if key.partition() != partition {
            return false;
        }
        let (lower, upper) = self.sort_bounds();
        let above = match &lower {
            Bound::Included(bound) => sort.as_bytes() >= bound.as_bytes(),
            Bound::Excluded(bound) => sort.as_bytes() > bound.as_bytes(),
            Bound::Unbounded => true,
        };
        let below = match &upper {
            Bound::Included(bound) => sort.as_bytes() <= bound.as_bytes(),
            Bound::Excluded(bound) => sort.as_bytes() < bound.as_bytes(),
            Bound::Unbounded => true,
        };
        above && below
    }
}

fn tighter_lower(range: Bound<String>, position: Bound<String>) -> Bound<String> {
    match (&range, &position) {
        (Bound::Unbounded, _) => position,
        (Bound::Included(r) | Bound::Excluded(r), Bound::Excluded(p)) => {
            if p.as_bytes() >= r.as_bytes() {
                position
            } else {
                range
            }
        }
        _ => range,
    }
}

fn tighter_upper(range: Bound<String>, position: Bound<String>) -> Bound<String> {
    match (&range, &position) {
        (Bound::Unbounded, _) => position,
        (Bound::Included(r) | Bound::Excluded(r), Bound::Excluded(p)) => {
            if p.as_bytes() <= r.as_bytes() {
                position
            } else {
                range
            }
        }
        _ => range,
    }
}

/// A backend's answer to a [`RangeRequest`].
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct RangePage {
    /// At most `limit` records in the scope's order, each with its key, tombstones
    /// included or not (the engine drops them).
    pub records: Vec<(Key, Record)>,
    /// The key to continue after (the last key examined, which may be a record the
    /// backend filtered out), or `None` when nothing of the scope follows.
    pub resume_after: Option<Key>,
}

impl RangePage {
    /// A page of these records that continues after `resume_after`.
    ///
    /// ```
    /// let page = optimist_core::RangePage::new(Vec::new(), None);
    /// assert!(page.records.is_empty());
    /// ```
    pub fn new(records: Vec<(Key, Record)>, resume_after: Option<Key>) -> Self {
        Self {
            records,
            resume_after,
        }
    }
}

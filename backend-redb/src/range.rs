//! Query and scan pages: one interval of the table, which redb keeps in key order.

use std::ops::Bound;

use optimist_core::{Direction, Key, RangePage, RangeRequest, RangeScope, StorageError};
use redb::Database;

use crate::error;
use crate::item;

/// A page request the blocking thread owns: the interval of keys, the direction, the
/// most records.
#[derive(Clone, Debug)]
pub(crate) struct OwnedRange {
    lower: Bound<Key>,
    upper: Bound<Key>,
    descending: bool,
    limit: usize,
}

impl OwnedRange {
    /// The interval `request` reads, past its `after`.
    pub(crate) fn of(request: &RangeRequest<'_>) -> Self {
        match request.scope {
            RangeScope::Partition {
                partition,
                direction,
                ..
            } => {
                let (lower, upper) = request.sort_bounds();
                let at = |sort: String| Key::with_sort(partition, sort);
                let lower = match lower {
                    Bound::Included(sort) => Bound::Included(at(sort)),
                    Bound::Excluded(sort) => Bound::Excluded(at(sort)),
                    // The partition's key without a sort part sorts first: start after it.
                    Bound::Unbounded => Bound::Excluded(Key::new(partition)),
                };
                let upper = match upper {
                    Bound::Included(sort) => Bound::Included(at(sort)),
                    Bound::Excluded(sort) => Bound::Excluded(at(sort)),
                    // No partition lies between `partition` and `partition` + NUL.
                    Bound::Unbounded => Bound::Excluded(Key::new(format!("{partition}\0"))),
                };
                Self {
                    lower,
                    upper,
                    descending: direction == Direction::Descending,
                    limit: request.limit,
                }
            }
            _ => Self {
                lower: request
                    .after
                    .map_or(Bound::Unbounded, |after| Bound::Excluded(after.clone())),
                upper: Bound::Unbounded,
                descending: false,
                limit: request.limit,
            },
        }
    }

    /// Whether the interval holds no key at all (redb is not asked for it).
    fn is_empty(&self) -> bool {
        match (&self.lower, &self.upper) {
            (Bound::Included(l), Bound::Included(u)) => l > u,
            (Bound::Included(l) | Bound::Excluded(l), Bound::Included(u) | Bound::Excluded(u)) => {
                l >= u
            }
            _ => false,
        }
    }
}

fn tuple(bound: &Bound<Key>) -> Bound<(&str, Option<&str>)> {
    match bound {
        Bound::Included(key) => Bound::Included(item::key_of(key)),
        Bound::Excluded(key) => Bound::Excluded(item::key_of(key)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// One page: at most `limit` records of the interval in its order, and the last key
/// answered when more follow.
pub(crate) fn read(
    db: &Database,
    table: &str,
    range: &OwnedRange,
) -> Result<RangePage, StorageError> {
    if range.is_empty() || range.limit == 0 {
        return Ok(RangePage::default());
    }
    let tx = db.begin_read().map_err(error::not_applied)?;
    let items = tx
        .open_table(item::table(table))
        .map_err(error::not_applied)?;
    let interval = items
        .range::<(&str, Option<&str>)>((tuple(&range.lower), tuple(&range.upper)))
        .map_err(error::not_applied)?;
    let entries: Box<dyn Iterator<Item = _>> = if range.descending {
        Box::new(interval.rev())
    } else {
        Box::new(interval)
    };
    // One more than asked, to learn whether the page is the last.
    let mut records = Vec::with_capacity(range.limit.min(1024) + 1);
    for entry in entries.take(range.limit + 1) {
        let (key, bytes) = entry.map_err(error::not_applied)?;
        records.push((
            item::key_from(key.value()),
            item::decode(bytes.value())?.record,
        ));
    }
    let more = records.len() > range.limit;
    records.truncate(range.limit);
    let resume_after = if more {
        records.last().map(|(key, _)| key.clone())
    } else {
        None
    };
    Ok(RangePage::new(records, resume_after))
}

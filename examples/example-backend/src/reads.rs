//! Reads beyond one key (contract R16, R18): several keys under one lock, and the
//! table in pages, in the engine's key order. This store's keys have no sort part, so
//! the engine answers `query` with `Unsupported` itself and asks only for whole-store
//! pages.

use std::ops::Bound;

use optimist_core::{ErrorKind, Key, RangePage, RangeRequest, RangeScope, Record, StorageError};

use crate::engine::Rows;
use crate::item::{from_row, row_key};
use crate::store::current;

/// Each key's record, in the order asked, all read under one lock: one request to the
/// engine, and every answer from the same moment.
pub(crate) fn read_many(rows: &Rows, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
    keys.iter().map(|key| current(rows, key)).collect()
}

/// One page of the whole table: at most `limit` rows after `request.after`, in key
/// order (the engine's own, the same on every call), and the last key answered when
/// more rows follow.
pub(crate) fn read_range(
    rows: &Rows,
    request: &RangeRequest<'_>,
) -> Result<RangePage, StorageError> {
    if !matches!(request.scope, RangeScope::Store) {
        return Err(StorageError::not_applied(
            ErrorKind::Rejected,
            "this store's keys have no sort part, so it reads no partitions",
        ));
    }
    let start = match request.after {
        Some(after) => Bound::Excluded(row_key(after)),
        None => Bound::Unbounded,
    };
    // One row more than asked tells whether another page follows.
    let mut rows: Vec<_> = rows
        .range((start, Bound::Unbounded))
        .take(request.limit + 1)
        .collect();
    let more = rows.len() > request.limit;
    rows.truncate(request.limit);
    let records = rows
        .into_iter()
        .map(|(key, row)| Ok((Key::new(key.as_str()), from_row(row)?)))
        .collect::<Result<Vec<_>, StorageError>>()?;
    let resume_after = if more {
        records.last().map(|(key, _)| key.clone())
    } else {
        None
    };
    Ok(RangePage::new(records, resume_after))
}

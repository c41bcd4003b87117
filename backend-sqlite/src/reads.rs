//! Reads beyond one key: `read_many` and `read_range`, each one `SELECT` (see
//! [`read_sql`](crate::read_sql)) on one connection, so it sees one snapshot: every
//! write committed before it started, none half-done.

use std::ops::Bound;

use optimist_core::{ErrorKind, Key, RangePage, RangeRequest, RangeScope, Record, StorageError};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use crate::db::Db;
use crate::error;
use crate::item::{key_columns, record_at};
use crate::read_sql::ReadSql;

/// The records of `keys`, in their order; `None` for a key without a row.
pub(crate) async fn many(
    db: &Db,
    sql: &ReadSql,
    keys: &[Key],
) -> Result<Vec<Option<Record>>, StorageError> {
    let (text, slots) = sql.many(keys.len());
    let mut query = sqlx::query(&text);
    for key in keys {
        let (partition, has_sort, sort) = key_columns(key);
        query = query.bind(partition).bind(has_sort).bind(sort);
    }
    for _ in keys.len()..slots {
        query = query
            .bind(None::<&str>)
            .bind(None::<i64>)
            .bind(None::<&str>);
    }
    let rows = {
        let mut conn = db.acquire().await.map_err(error::unapplied)?;
        query
            .fetch_all(&mut *conn)
            .await
            .map_err(error::unapplied)?
    };
    let mut records = vec![None; keys.len()];
    for row in &rows {
        let slot: i64 = row.try_get(0).map_err(error::unapplied)?;
        let place = usize::try_from(slot)
            .ok()
            .and_then(|slot| records.get_mut(slot))
            .ok_or_else(|| StorageError::corrupt(format!("read_many answered slot {slot}")))?;
        *place = Some(record_at(row, 1)?);
    }
    Ok(records)
}

/// One page of a partition or of the table: at most `limit` records, and the key to
/// continue after when more follow (one row more than the page is read to know).
pub(crate) async fn range(
    db: &Db,
    sql: &ReadSql,
    request: &RangeRequest<'_>,
) -> Result<RangePage, StorageError> {
    let limit = request.limit;
    let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    let mut conn = db.acquire().await.map_err(error::unapplied)?;
    let mut page: Vec<(Key, Record)> = Vec::with_capacity(limit.min(1024));
    let more = match request.scope {
        RangeScope::Partition {
            partition,
            direction,
            ..
        } => {
            let (lower, upper) = request.sort_bounds();
            let mut query = sqlx::query(sql.query(&lower, &upper, direction))
                .bind(partition)
                .bind(fetch);
            for bound in [lower, upper] {
                if let Bound::Included(sort) | Bound::Excluded(sort) = bound {
                    query = query.bind(sort);
                }
            }
            let rows = query
                .fetch_all(&mut *conn)
                .await
                .map_err(error::unapplied)?;
            for row in rows.iter().take(limit) {
                let sort: String = row.try_get(0).map_err(error::unapplied)?;
                page.push((Key::with_sort(partition, sort), record_at(row, 1)?));
            }
            rows.len() > limit
        }
        RangeScope::Store => {
            let mut query = sqlx::query(sql.scan(request.after.is_some()));
            if let Some(after) = request.after {
                let (partition, has_sort, sort) = key_columns(after);
                query = query.bind(partition).bind(has_sort).bind(sort);
            }
            let rows = query
                .bind(fetch)
                .fetch_all(&mut *conn)
                .await
                .map_err(error::unapplied)?;
            for row in rows.iter().take(limit) {
                page.push((key_at(row)?, record_at(row, 3)?));
            }
            rows.len() > limit
        }
        _ => {
            return Err(StorageError::not_applied(
                ErrorKind::Rejected,
                "this SQLite store does not know this kind of range read",
            ));
        }
    };
    drop(conn);
    let resume_after = if more {
        page.last().map(|(key, _)| key.clone())
    } else {
        None
    };
    Ok(RangePage::new(page, resume_after))
}

/// The key in columns 0–2 (partition, has-sort flag, sort part) of a scan's row.
fn key_at(row: &SqliteRow) -> Result<Key, StorageError> {
    let partition: String = row.try_get(0).map_err(error::unapplied)?;
    let has_sort: i64 = row.try_get(1).map_err(error::unapplied)?;
    let sort: String = row.try_get(2).map_err(error::unapplied)?;
    Ok(match has_sort {
        0 => Key::new(partition),
        _ => Key::with_sort(partition, sort),
    })
}

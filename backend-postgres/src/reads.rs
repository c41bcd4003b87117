//! Reads beyond one key: `read_many` and `read_range`, each one statement in one round
//! trip (see [`read_sql`](crate::read_sql)).

use std::ops::Bound;

use optimist_core::{
    Applied, ErrorKind, Key, RangePage, RangeRequest, RangeScope, Record, StorageError,
};
use sqlx::postgres::PgRow;

use crate::error;
use crate::item::{Unreadable, key_columns, key_from_columns};
use crate::row::{column, record_at};
use crate::store::PostgresStore;

/// The records of `keys`, in their order; `None` for a key without a row.
pub(crate) async fn many(
    store: &PostgresStore,
    keys: &[Key],
) -> Result<Vec<Option<Record>>, StorageError> {
    let (partitions, sorts): (Vec<&str>, Vec<&str>) = keys.iter().map(key_columns).unzip();
    let query = sqlx::query(&store.inner().sql.reads.many)
        .bind(partitions)
        .bind(sorts);
    let rows = store
        .connection()
        .await?
        .fetch_all(query, Applied::No)
        .await?;
    let mut records = vec![None; keys.len()];
    for row in &rows {
        let position: i64 = column(row, 0, Applied::No)?;
        let place = usize::try_from(position)
            .ok()
            .and_then(|position| position.checked_sub(1))
            .and_then(|index| records.get_mut(index))
            .ok_or_else(|| {
                let found = Unreadable(format!("read_many answered position {position}"));
                error::unreadable(found, Applied::No)
            })?;
        *place = Some(record_at(row, 1, Applied::No)?);
    }
    Ok(records)
}

/// One page of a partition or of the table: at most `limit` records, and the key to
/// continue after when more follow (one row more than the page is read to know).
pub(crate) async fn range(
    store: &PostgresStore,
    request: &RangeRequest<'_>,
) -> Result<RangePage, StorageError> {
    let limit = request.limit;
    let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    let sql = &store.inner().sql.reads;
    let (rows, partition) = match request.scope {
        RangeScope::Partition {
            partition,
            direction,
            ..
        } => {
            let (lower, upper) = request.sort_bounds();
            let mut query = sqlx::query(sql.query(&lower, &upper, direction))
                .bind(partition)
                .bind(fetch);
            query = match lower {
                Bound::Included(sort) | Bound::Excluded(sort) => query.bind(sort),
                // The items without a sort part hold `''`, below every sort part.
                Bound::Unbounded => query.bind(""),
            };
            if let Bound::Included(sort) | Bound::Excluded(sort) = upper {
                query = query.bind(sort);
            }
            let rows = fetch_all(store, query).await?;
            (rows, Some(partition))
        }
        RangeScope::Store => {
            let mut query = sqlx::query(sql.scan(request.after.is_some()));
            if let Some(after) = request.after {
                let (partition, sort) = key_columns(after);
                query = query.bind(partition).bind(sort);
            }
            (fetch_all(store, query.bind(fetch)).await?, None)
        }
        _ => {
            return Err(StorageError::not_applied(
                ErrorKind::Rejected,
                "this PostgreSQL store does not know this kind of range read",
            ));
        }
    };
    let mut page = Vec::with_capacity(rows.len().min(limit));
    for row in rows.iter().take(limit) {
        page.push(match partition {
            Some(partition) => {
                let sort: String = column(row, 0, Applied::No)?;
                (
                    Key::with_sort(partition, sort),
                    record_at(row, 1, Applied::No)?,
                )
            }
            None => {
                let partition: String = column(row, 0, Applied::No)?;
                let sort: String = column(row, 1, Applied::No)?;
                let key = key_from_columns(&partition, &sort);
                (key, record_at(row, 2, Applied::No)?)
            }
        });
    }
    let resume_after = if rows.len() > limit {
        page.last().map(|(key, _)| key.clone())
    } else {
        None
    };
    Ok(RangePage::new(page, resume_after))
}

async fn fetch_all(
    store: &PostgresStore,
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> Result<Vec<PgRow>, StorageError> {
    store
        .connection()
        .await?
        .fetch_all(query, Applied::No)
        .await
}

//! The locked path: writes judged and applied inside one `BEGIN IMMEDIATE` transaction.
//!
//! `Storage::commit` always takes it; a single write takes it only when its
//! one-statement form did not apply (or has none), so that a refusal and the item it
//! reports are read under the same write lock that decided it (contract R11).
//! IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
//! writes can get SQLITE_BUSY without SQLite's busy handler ever waiting.

use optimist_core::{CommitOutcome, Decision, StorageError, Value, Version, Versioned, Write};
use sqlx::{Connection, Row, SqliteConnection};

use crate::db::Db;
use crate::error;
use crate::item::{Encoded, decode_value, decode_version, key_columns, version_to_store};
use crate::sql::Sql;

/// An item's stored row; its value is decoded only if a refusal reports it.
struct Stored {
    text: String,
    version: Version,
}

impl Stored {
    fn item(&self) -> Result<Versioned<Value>, StorageError> {
        Ok(Versioned::new(decode_value(&self.text)?, self.version))
    }
}

/// `Storage::commit`: every write's value encoded before the lock is taken, then the
/// locked path on one connection.
pub(crate) async fn commit(
    db: &Db,
    sql: &Sql,
    writes: &[Write<'_>],
) -> Result<CommitOutcome, StorageError> {
    let encoded = writes
        .iter()
        .map(Encoded::new)
        .collect::<Result<Vec<_>, _>>()?;
    let mut conn = db.acquire().await.map_err(error::unapplied)?;
    locked(&mut conn, sql, &encoded).await
}

/// Runs `writes` in one `BEGIN IMMEDIATE` transaction: reads each write's item, judges
/// every precondition with [`Write::decide`], and either rolls back and reports every
/// refused write with its item, or applies every write and commits.
pub(crate) async fn locked(
    conn: &mut SqliteConnection,
    sql: &Sql,
    writes: &[Encoded<'_>],
) -> Result<CommitOutcome, StorageError> {
    // Dropping `tx` on any early return queues a ROLLBACK, which sqlx runs before the
    // connection's next command, so a failed attempt leaves nothing behind: every
    // error before the COMMIT applied nothing.
    let mut tx = conn
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(error::unapplied)?;
    let mut stored = Vec::with_capacity(writes.len());
    for encoded in writes {
        let (partition, has_sort, sort) = key_columns(encoded.write.key);
        let row = sqlx::query(&sql.get)
            .bind(partition)
            .bind(has_sort)
            .bind(sort)
            .fetch_optional(&mut *tx)
            .await
            .map_err(error::unapplied)?;
        stored.push(match row {
            Some(row) => Some(Stored {
                text: row.try_get(0).map_err(error::unapplied)?,
                version: decode_version(row.try_get(1).map_err(error::unapplied)?)?,
            }),
            None => None,
        });
    }

    let decisions: Vec<Decision> = writes
        .iter()
        .zip(&stored)
        .map(|(encoded, row)| encoded.write.decide(row.as_ref().map(|r| r.version)))
        .collect();
    let mut refused = Vec::new();
    for (index, (decision, row)) in decisions.iter().zip(&stored).enumerate() {
        if *decision == Decision::Refuse {
            refused.push((index, row.as_ref().map(Stored::item).transpose()?));
        }
    }
    if !refused.is_empty() {
        return Ok(CommitOutcome::Refused { current: refused });
    }

    for ((encoded, decision), row) in writes.iter().zip(&decisions).zip(&stored) {
        let (partition, has_sort, sort) = key_columns(encoded.write.key);
        let statement = match decision {
            Decision::Put(version) => {
                let sql = if row.is_some() {
                    &sql.update_to
                } else {
                    &sql.insert_at
                };
                Some(
                    sqlx::query(sql)
                        .bind(partition)
                        .bind(has_sort)
                        .bind(sort)
                        .bind(encoded.text())
                        .bind(version_to_store(*version)?),
                )
            }
            Decision::Delete if row.is_some() => Some(
                sqlx::query(&sql.delete)
                    .bind(partition)
                    .bind(has_sort)
                    .bind(sort),
            ),
            Decision::Delete | Decision::Keep | Decision::Refuse => None,
        };
        if let Some(statement) = statement {
            // Still uncommitted: an error here rolls everything back.
            statement
                .execute(&mut *tx)
                .await
                .map_err(error::unapplied)?;
        }
    }
    tx.commit().await.map_err(error::committing)?;
    Ok(CommitOutcome::Applied {
        previous: stored
            .iter()
            .map(|row| row.as_ref().map(|r| r.version))
            .collect(),
    })
}

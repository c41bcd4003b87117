//! The locked path: writes judged and applied inside one `BEGIN IMMEDIATE` transaction.
//!
//! `Storage::commit` always takes it; a single write takes it only when its
//! one-statement form did not apply (or has none), so that a refusal and the record it
//! reports are read under the same write lock that decided it (contract R11).
//! IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
//! writes can get SQLITE_BUSY without SQLite's busy handler ever waiting.

use optimist_core::{CommitOutcome, Decision, Held, StorageError, Write};
use sqlx::{Connection, SqliteConnection};

use crate::db::Db;
use crate::error;
use crate::item::{Encoded, Row, version_to_store};
use crate::sql::Sql;
use crate::statement::{bury, keyed};

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

/// Runs `writes` in one `BEGIN IMMEDIATE` transaction: reads each write's record (item
/// or tombstone), judges every precondition with [`Write::decide`], and either rolls
/// back and reports every refused write with its record, or applies every write, each
/// storing the write's token, and commits.
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
    let mut stored: Vec<Option<Row>> = Vec::with_capacity(writes.len());
    for encoded in writes {
        let row = keyed(&sql.get, encoded.write.key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(error::unapplied)?;
        stored.push(
            row.as_ref()
                .map(Row::read)
                .transpose()
                .map_err(error::unapplied)?,
        );
    }
    // The record's value and token are decoded only if a refusal reports them.
    let held = stored
        .iter()
        .map(|row| row.as_ref().map_or(Ok(Held::Nothing), Row::held))
        .collect::<Result<Vec<_>, _>>()?;

    let decisions: Vec<Decision> = writes
        .iter()
        .zip(&held)
        .map(|(encoded, held)| encoded.write.decide(*held))
        .collect();
    let mut refused = Vec::new();
    for (index, (decision, row)) in decisions.iter().zip(&stored).enumerate() {
        if *decision == Decision::Refuse {
            refused.push((index, row.as_ref().map(Row::record).transpose()?));
        }
    }
    if !refused.is_empty() {
        return Ok(CommitOutcome::Refused { current: refused });
    }

    for ((encoded, decision), row) in writes.iter().zip(&decisions).zip(&stored) {
        let statement = match decision {
            Decision::Put(version) => {
                let sql = if row.is_some() {
                    &sql.update_to
                } else {
                    &sql.insert_at
                };
                Some(
                    keyed(sql, encoded.write.key)
                        .bind(encoded.text())
                        .bind(encoded.token.as_str())
                        .bind(version_to_store(*version)?),
                )
            }
            // `decide` deletes only a live item, so the row is there.
            Decision::Delete => Some(bury(sql, keyed(&sql.delete, encoded.write.key), encoded)),
            Decision::Keep | Decision::Refuse => None,
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
    Ok(CommitOutcome::Applied { previous: held })
}

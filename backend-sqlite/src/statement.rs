//! The one-statement writes: each write whose precondition fits in a `WHERE` is one
//! autocommit statement that stores the write's token with what it leaves. When the
//! statement applies nothing (its precondition failed, or it has no one-statement form),
//! the locked path in [`transaction`](crate::transaction) decides.

use optimist_core::{Change, Expect, Held, Key, Outcome, StorageError, Version};
use sqlx::SqliteConnection;
use sqlx::sqlite::{Sqlite, SqliteArguments};

use crate::error;
use crate::item::{Encoded, decode_version, exhausted, key_columns, now_millis, stored_version};
use crate::sql::Sql;

type Query<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;

/// Sends `encoded` as one autocommit statement whose condition is in its `WHERE`: the
/// outcome if it applied, `None` if it did not and the locked path has to decide.
pub(crate) async fn send(
    conn: &mut SqliteConnection,
    sql: &Sql,
    encoded: &Encoded<'_>,
) -> Result<Option<Outcome>, StorageError> {
    let write = &encoded.write;
    // The state a statement that changed its row found: the one its WHERE asked for.
    let applied_if =
        |changed: bool, previous: Held| changed.then_some(Outcome::Applied { previous });
    match (write.expect, write.change) {
        (Expect::Absent, Change::Put(_)) => {
            let query = keyed(&sql.insert_if_absent, encoded.write.key)
                .bind(encoded.text())
                .bind(encoded.token.as_str());
            Ok(applied_if(execute(conn, query).await?, Held::Nothing))
        }
        (Expect::At(expected), Change::Put(_)) => {
            let Some(query) = conditional_put(&sql.update_if_at, encoded, expected) else {
                return Ok(None);
            };
            Ok(applied_if(
                execute(conn, query).await?,
                Held::Item(expected),
            ))
        }
        (Expect::Tombstone(expected), Change::Put(_)) => {
            let Some(query) = conditional_put(&sql.update_if_tombstone_at, encoded, expected)
            else {
                return Ok(None);
            };
            let changed = execute(conn, query).await?;
            Ok(applied_if(changed, Held::Tombstone(expected)))
        }
        (Expect::At(expected), Change::Delete) => {
            // A version beyond SQLite's integers has no row to match: the locked path
            // reports the conflict.
            let Some(at) = stored_version(expected) else {
                return Ok(None);
            };
            let query = bury(
                sql,
                keyed(&sql.delete_if_at, encoded.write.key).bind(at),
                encoded,
            );
            Ok(applied_if(
                execute(conn, query).await?,
                Held::Item(expected),
            ))
        }
        (Expect::Any, Change::Put(_)) => {
            let query = keyed(&sql.put, encoded.write.key)
                .bind(encoded.text())
                .bind(encoded.token.as_str());
            // No row: the upsert's WHERE found the counter at the end of SQLite's range.
            let version = returned_version(conn, query).await?.ok_or_else(exhausted)?;
            Ok(Some(Outcome::Applied {
                previous: previous_of_put(version),
            }))
        }
        (Expect::Any, Change::Delete) => {
            let query = bury(sql, keyed(&sql.remove, encoded.write.key), encoded);
            // No row: no live item. A tombstone there is answered as `Nothing` too: the
            // statement cannot tell them apart, and the engine gives the caller the same
            // answer for both (no item was removed).
            let previous = returned_version(conn, query)
                .await?
                .map_or(Held::Nothing, Held::Item);
            Ok(Some(Outcome::Applied { previous }))
        }
        // A check (only under a precondition) and anything else: the locked path.
        _ => Ok(None),
    }
}

/// What an unconditional put replaced, from the version it wrote. `RETURNING` sees only
/// the new row, so a replaced tombstone reads as an item at the same version: the
/// engine derives the new version from either alike (`previous + 1`), and nothing else
/// from a put's previous state. Version 1 was written on an empty key (or over a row
/// at 0 another client left: the same new version).
fn previous_of_put(written: Version) -> Held {
    match written.get().checked_sub(1) {
        None | Some(0) => Held::Nothing,
        Some(previous) => Held::Item(Version::new(previous)),
    }
}

/// The statement `sql` with `key` bound (`?1`–`?3`).
pub(crate) fn keyed<'q>(sql: &'q str, key: &'q Key) -> Query<'q> {
    let (partition, has_sort, sort) = key_columns(key);
    sqlx::query(sql).bind(partition).bind(has_sort).bind(sort)
}

/// The burial parameters of a delete (token, deletion time), bound last and only in
/// tombstone mode: a default-mode delete leaves nothing to stamp.
pub(crate) fn bury<'q>(sql: &Sql, query: Query<'q>, encoded: &'q Encoded<'_>) -> Query<'q> {
    if sql.tombstones {
        query.bind(encoded.token.as_str()).bind(now_millis())
    } else {
        query
    }
}

/// An update expecting `expected` (an item's or a tombstone's version): `None` when the
/// expected or the next version is beyond SQLite's integers, which the locked path
/// tells apart (a conflict, or an exhausted counter).
fn conditional_put<'q>(
    sql: &'q str,
    encoded: &'q Encoded<'_>,
    expected: Version,
) -> Option<Query<'q>> {
    let at = stored_version(expected)?;
    let next = encoded.write.new_version().and_then(stored_version)?;
    Some(
        keyed(sql, encoded.write.key)
            .bind(encoded.text())
            .bind(encoded.token.as_str())
            .bind(at)
            .bind(next),
    )
}

/// Runs an autocommit write whose `RETURNING` gives a version: `None` if it returned
/// no row.
async fn returned_version(
    conn: &mut SqliteConnection,
    query: Query<'_>,
) -> Result<Option<Version>, StorageError> {
    // Every row is fetched, so the statement runs to its end, where SQLite commits: a
    // failed commit is this call's error, not lost in a reset after the first row.
    let rows = query.fetch_all(conn).await.map_err(error::committing)?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    // The write has committed: a version that cannot be read back (a table another
    // tool made) leaves the outcome unknown to the caller, so the engine reads the
    // key's token to settle it.
    sqlx::Row::try_get(row, 0)
        .map_err(error::unapplied)
        .and_then(decode_version)
        .map(Some)
        .map_err(error::after_commit)
}

/// Runs an autocommit write: whether it changed a row.
async fn execute(conn: &mut SqliteConnection, query: Query<'_>) -> Result<bool, StorageError> {
    let done = query.execute(conn).await.map_err(error::committing)?;
    Ok(done.rows_affected() == 1)
}

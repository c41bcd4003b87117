//! The locked path: ops decided and applied inside one `BEGIN IMMEDIATE` transaction.
//!
//! `transact` always takes it; a single conditional write takes it only when its
//! one-statement fast path did not apply, so that the conflict it reports and the item
//! it carries are read under the same write lock that decided the failure (contract R11).
//! IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
//! writes can get SQLITE_BUSY without SQLite's busy handler ever waiting.

use optimist_core::{Conflict, Key, OpFailure, Operation, Value, Version, Versioned};
use sqlx::{Connection, Row, SqliteConnection};

use crate::codec::{decode_value, decode_version, key_columns, next_version};
use crate::error::{Fail, InPhase};
use crate::table::Sql;

/// What one op does; values are already encoded as JSON text.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Action<'a> {
    Insert(&'a str),
    Update { expected: Version, value: &'a str },
    Delete { expected: Version },
    Check { expected: Version },
    Put(&'a str),
    Remove,
}

impl Action<'_> {
    fn expected(&self) -> Option<Version> {
        match self {
            Action::Update { expected, .. }
            | Action::Delete { expected }
            | Action::Check { expected } => Some(*expected),
            Action::Insert(_) | Action::Put(_) | Action::Remove => None,
        }
    }
}

/// The result of the locked path.
pub(crate) enum Outcome {
    /// Every condition held and the transaction committed: per op, its version after.
    Applied(Vec<Option<Version>>),
    /// At least one condition failed; the transaction was rolled back.
    Refused(Vec<OpFailure>),
}

/// An item's stored row, decoded only if a conflict needs it.
struct Row0 {
    text: String,
    version: Version,
}

/// Runs `ops` in one `BEGIN IMMEDIATE` transaction: reads each op's item, checks every
/// condition, and either applies all and commits or rolls back and reports every
/// failure. `operation` names errors (`Transact`, or the single op's own).
pub(crate) async fn run(
    conn: &mut SqliteConnection,
    sql: &Sql,
    operation: Operation,
    ops: &[(&Key, Action<'_>)],
) -> Result<Outcome, Fail> {
    // Dropping `tx` on any early return queues a ROLLBACK, which sqlx runs before the
    // connection's next command, so a failed attempt leaves nothing behind.
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.before()?;
    let mut current = Vec::with_capacity(ops.len());
    for (key, _) in ops {
        let (partition, has_sort, sort) = key_columns(key);
        let row = sqlx::query(&sql.get)
            .bind(partition)
            .bind(has_sort)
            .bind(sort)
            .fetch_optional(&mut *tx)
            .await
            .before()?;
        let row = match row {
            Some(row) => {
                let text: String = row.try_get(0).before()?;
                let version = decode_version(operation, key, row.try_get(1).before()?)?;
                Some(Row0 { text, version })
            }
            None => None,
        };
        current.push(row);
    }

    let mut failures = Vec::new();
    for (index, ((key, action), row)) in ops.iter().zip(&current).enumerate() {
        if let Some(conflict) = condition(operation, key, action, row.as_ref())? {
            failures.push(OpFailure {
                index,
                key: (*key).clone(),
                conflict,
            });
        }
    }
    if !failures.is_empty() {
        return Ok(Outcome::Refused(failures));
    }

    // Every new version is computed before anything is written, so an exhausted
    // counter fails the whole transaction, not half of it.
    let mut plans = Vec::with_capacity(ops.len());
    for ((key, action), row) in ops.iter().zip(&current) {
        let previous = row.as_ref().map(|r| r.version);
        let next = match action {
            Action::Insert(_) | Action::Update { .. } | Action::Put(_) => {
                Some(next_version(operation, key, previous)?)
            }
            _ => None,
        };
        plans.push((previous.is_some(), next));
    }

    let mut versions = Vec::with_capacity(ops.len());
    for ((key, action), (exists, next)) in ops.iter().zip(plans) {
        let (partition, has_sort, sort) = key_columns(key);
        let statement = match (action, next) {
            (
                Action::Insert(value) | Action::Update { value, .. } | Action::Put(value),
                Some(next),
            ) => {
                let sql = if exists {
                    &sql.update_to
                } else {
                    &sql.insert_at
                };
                Some(
                    sqlx::query(sql)
                        .bind(partition)
                        .bind(has_sort)
                        .bind(sort)
                        .bind(*value)
                        .bind(next),
                )
            }
            (Action::Delete { .. } | Action::Remove, _) if exists => Some(
                sqlx::query(&sql.delete)
                    .bind(partition)
                    .bind(has_sort)
                    .bind(sort),
            ),
            _ => None,
        };
        if let Some(statement) = statement {
            // Still uncommitted: an error here rolls everything back.
            statement.execute(&mut *tx).await.before()?;
        }
        versions.push(match action {
            Action::Check { expected } => Some(*expected),
            Action::Delete { .. } | Action::Remove => None,
            _ => next.and_then(|n| u64::try_from(n).ok()).map(Version::new),
        });
    }
    tx.commit().await.writing()?;
    Ok(Outcome::Applied(versions))
}

/// The conflict, if any, of `action` on an item in state `row` (as the memory
/// reference decides it).
fn condition(
    operation: Operation,
    key: &Key,
    action: &Action<'_>,
    row: Option<&Row0>,
) -> Result<Option<Conflict>, Fail> {
    let current = |row: &Row0| -> Result<Versioned<Value>, Fail> {
        Ok(Versioned::new(
            decode_value(operation, key, &row.text)?,
            row.version,
        ))
    };
    Ok(match (action, row) {
        (Action::Insert(_), Some(row)) => Some(Conflict::AlreadyExists {
            current: current(row)?,
        }),
        (Action::Insert(_) | Action::Put(_) | Action::Remove, _) => None,
        (_, None) => Some(Conflict::NotFound),
        (_, Some(row)) => match action.expected() {
            Some(expected) if expected != row.version => Some(Conflict::VersionMismatch {
                expected,
                current: current(row)?,
            }),
            _ => None,
        },
    })
}

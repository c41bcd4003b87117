//! `Storage::commit` in one round trip: one call of the table's commit function (see
//! `commit_function.rs`), which locks, judges and writes on the server, and answers
//! with what each key held or, for a refused transaction, each refused write's record.
//!
//! The call is one statement that commits when it returns: a lost answer may hide a
//! commit ([`Applied::Maybe`]), which the engine settles by reading the transaction's
//! token back, as for a single write.

use optimist_core::{Applied, Change, CommitOutcome, ErrorKind, Expect, Held, StorageError, Write};
use sqlx::postgres::PgRow;

use crate::error;
use crate::item::{Unreadable, expected_column, key_columns, token_text, value_text};
use crate::row::{column, record_at};
use crate::store::PostgresStore;

/// The function's arguments: one array per column, a row per write.
#[derive(Default)]
struct Arguments<'a> {
    partitions: Vec<&'a str>,
    sorts: Vec<&'a str>,
    expects: Vec<&'static str>,
    versions: Vec<Option<i64>>,
    changes: Vec<&'static str>,
    values: Vec<Option<String>>,
}

impl<'a> Arguments<'a> {
    /// The arguments for `writes`; a kind of write added to core after this backend
    /// was written is refused, nothing sent.
    fn of(writes: &[Write<'a>]) -> Result<Self, StorageError> {
        let mut args = Arguments::default();
        for write in writes {
            let (partition, sort) = key_columns(write.key);
            let (expect, version) = match write.expect {
                Expect::Absent => ("absent", None),
                Expect::At(version) => ("at", Some(expected_column(version))),
                Expect::Tombstone(version) => ("tomb", Some(expected_column(version))),
                Expect::Any => ("any", None),
                _ => return Err(unknown()),
            };
            let (change, value) = match write.change {
                Change::Put(value) => ("put", Some(value_text(value))),
                Change::Delete => ("delete", None),
                Change::Keep => ("keep", None),
            };
            args.partitions.push(partition);
            args.sorts.push(sort);
            args.expects.push(expect);
            args.versions.push(version);
            args.changes.push(change);
            args.values.push(value);
        }
        Ok(args)
    }
}

fn unknown() -> StorageError {
    StorageError::not_applied(
        ErrorKind::Rejected,
        "this backend has no statement for this kind of write",
    )
}

/// Applies `writes` (distinct keys, checked by the engine) all or nothing, in one call.
pub(crate) async fn commit(
    store: &PostgresStore,
    call: &str,
    writes: &[Write<'_>],
) -> Result<CommitOutcome, StorageError> {
    let args = Arguments::of(writes)?;
    let token = writes.first().map(|write| token_text(write.token));
    let query = sqlx::query(call)
        .bind(&args.partitions)
        .bind(&args.sorts)
        .bind(&args.expects)
        .bind(&args.versions)
        .bind(&args.changes)
        .bind(&args.values)
        .bind(token)
        .bind(store.inner().tombstones);
    let rows = store
        .connection()
        .await?
        .fetch_all(query, Applied::Maybe)
        .await?;
    answer(&rows, writes.len())
}

/// The function's rows as the engine's outcome.
fn answer(rows: &[PgRow], writes: usize) -> Result<CommitOutcome, StorageError> {
    let mut previous = vec![None; writes];
    let mut refused = Vec::new();
    let mut exhausted = false;
    for row in rows {
        // The statement has committed by the time it answers, whatever it says.
        let index: i32 = column(row, 0, Applied::Maybe)?;
        let outcome: String = column(row, 1, Applied::Maybe)?;
        let held: String = column(row, 2, Applied::Maybe)?;
        let index = usize::try_from(index)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .filter(|i| *i < writes)
            .ok_or_else(|| shape(format!("the commit function answered write {index}")))?;
        match outcome.as_str() {
            "applied" => {
                let version: Option<i64> = column(row, 4, Applied::Maybe)?;
                previous[index] = Some(held_of(&held, version)?);
            }
            "refused" => {
                let current = match held.as_str() {
                    "n" => None,
                    _ => Some(record_at(row, 3, Applied::No)?),
                };
                refused.push((index, current));
            }
            "exhausted" => exhausted = true,
            other => return Err(shape(format!("the commit function answered {other:?}"))),
        }
    }
    if !refused.is_empty() {
        refused.sort_by_key(|(index, _)| *index);
        return Ok(CommitOutcome::Refused { current: refused });
    }
    if exhausted {
        return Err(StorageError::not_applied(
            ErrorKind::VersionExhausted,
            "the item's version counter is exhausted (BIGINT)",
        ));
    }
    let previous: Option<Vec<Held>> = previous.into_iter().collect();
    previous
        .map(|previous| CommitOutcome::Applied { previous })
        .ok_or_else(|| shape("the commit function left a write unanswered".into()))
}

/// What a key held, from the function's `held` (`n`, `i`, `t`) and version.
fn held_of(held: &str, version: Option<i64>) -> Result<Held, StorageError> {
    let version = || {
        let version = version.ok_or_else(|| shape("a record without a version".into()))?;
        crate::item::version_from_column(version).map_err(|e| error::unreadable(e, Applied::Maybe))
    };
    match held {
        "n" => Ok(Held::Nothing),
        "i" => Ok(Held::Item(version()?)),
        "t" => Ok(Held::Tombstone(version()?)),
        other => Err(shape(format!(
            "the commit function answered held {other:?}"
        ))),
    }
}

/// An answer of another shape than the function's: the transaction may have committed.
fn shape(problem: String) -> StorageError {
    error::unreadable(Unreadable(problem), Applied::Maybe)
}

//! `Storage::commit`: lock every key, judge every write, then write all or nothing.
//!
//! With the table's commit function (see `commit_function.rs`, created by `build`), a
//! transaction is one call of it, in one round trip (`commit_call.rs`). Without it (the
//! store may not create it, see the README), one database transaction at READ
//! COMMITTED, in three statements and BEGIN and COMMIT, four round trips:
//! 1. `lock_keys` locks every key the writes name, in one stable order, and returns each
//!    key's newest committed record (item or tombstone); an absent key gets an
//!    uncommitted placeholder row, so it is locked too (a concurrent insert of it waits
//!    for this transaction).
//! 2. Every write is judged against those records by core's `Write::decide`. If any is
//!    refused, the transaction rolls back (placeholders vanish) and every refused write
//!    is reported with its index and its current record.
//! 3. Otherwise `apply` writes the new values and versions (and, in tombstone mode, the
//!    tombstones deletes leave), all with the transaction's token, deletes what ends
//!    absent (items deleted in default mode and placeholders nothing was written to),
//!    and the transaction commits.
//!
//! Every key is locked from step 1 to the commit, so the transaction takes effect at
//! one instant. Until COMMIT is answered nothing can have been applied (a lost
//! connection rolls the transaction back); a lost answer to COMMIT may hide a commit.

use std::collections::HashMap;

use optimist_core::{
    Applied, CommitOutcome, Decision, ErrorKind, Held, Key, Record, StorageError, Write, WriteToken,
};
use sqlx::Row;

use crate::connection::Connection;
use crate::error;
use crate::item::{
    Unreadable, key_columns, key_from_columns, token_text, value_text, version_column,
};
use crate::row::record_at;
use crate::store::PostgresStore;

/// Applies `writes` (distinct keys, checked by the engine) all or nothing.
pub(crate) async fn commit(
    store: &PostgresStore,
    writes: &[Write<'_>],
) -> Result<CommitOutcome, StorageError> {
    if let Some(call) = &store.inner().commit_call {
        return crate::commit_call::commit(store, call, writes).await;
    }
    let mut conn = store.connection().await?;
    conn.begin().await?;
    let outcome = judge_and_apply(store, &mut conn, writes).await;
    match outcome {
        Ok(CommitOutcome::Applied { previous }) => {
            conn.commit().await?;
            Ok(CommitOutcome::Applied { previous })
        }
        refused_or_failed => {
            conn.rollback().await;
            refused_or_failed
        }
    }
}

/// Steps 1 to 3; the caller commits or rolls back.
async fn judge_and_apply(
    store: &PostgresStore,
    conn: &mut Connection,
    writes: &[Write<'_>],
) -> Result<CommitOutcome, StorageError> {
    let current = lock_keys(store, conn, writes).await?;
    let current_of = |write: &Write<'_>| current.get(write.key).and_then(Option::as_ref);
    let previous: Vec<Held> = writes
        .iter()
        .map(|write| Held::of(current_of(write)))
        .collect();
    let decisions: Vec<Decision> = writes
        .iter()
        .zip(&previous)
        .map(|(write, previous)| write.decide(*previous))
        .collect();
    let refused: Vec<(usize, Option<Record>)> = decisions
        .iter()
        .enumerate()
        .filter(|(_, decision)| **decision == Decision::Refuse)
        .map(|(index, _)| (index, current_of(&writes[index]).cloned()))
        .collect();
    if !refused.is_empty() {
        return Ok(CommitOutcome::Refused { current: refused });
    }
    let plan = Plan::of(writes, &decisions, &previous, store.inner().tombstones)?;
    apply(store, conn, &plan).await?;
    Ok(CommitOutcome::Applied { previous })
}

/// Step 1: every key's locked record, `None` for a placeholder (an absent key).
async fn lock_keys(
    store: &PostgresStore,
    conn: &mut Connection,
    writes: &[Write<'_>],
) -> Result<HashMap<Key, Option<Record>>, StorageError> {
    let (partitions, sorts): (Vec<&str>, Vec<&str>) =
        writes.iter().map(|write| key_columns(write.key)).unzip();
    let query = sqlx::query(&store.inner().sql.lock_keys)
        .bind(&partitions)
        .bind(&sorts);
    let rows = conn.fetch_all(query, Applied::No).await?;
    let column = |e| error::sent(e, Applied::No);
    let mut current = HashMap::with_capacity(rows.len());
    for row in &rows {
        let partition: &str = row.try_get(0).map_err(column)?;
        let sort: &str = row.try_get(1).map_err(column)?;
        let placeholder: bool = row.try_get(2).map_err(column)?;
        let record = if placeholder {
            None
        } else {
            Some(record_at(row, 3, Applied::No)?)
        };
        current.insert(key_from_columns(partition, sort), record);
    }
    if current.len() != writes.len() {
        let problem = Unreadable("locking the transaction's keys returned other rows".into());
        return Err(error::unreadable(problem, Applied::No));
    }
    Ok(current)
}

/// Step 3's columns: what to write (a `None` value is a tombstone) and what to delete.
#[derive(Default)]
struct Plan<'a> {
    write_partitions: Vec<&'a str>,
    write_sorts: Vec<&'a str>,
    write_values: Vec<Option<String>>,
    write_versions: Vec<i64>,
    delete_partitions: Vec<&'a str>,
    delete_sorts: Vec<&'a str>,
    /// The token every write of the transaction carries.
    token: Option<WriteToken>,
}

impl<'a> Plan<'a> {
    /// The changes of writes that all passed. A key left absent (a placeholder nothing
    /// is written to) is deleted with the deleted items.
    fn of(
        writes: &[Write<'a>],
        decisions: &[Decision],
        previous: &[Held],
        tombstones: bool,
    ) -> Result<Self, StorageError> {
        let mut plan = Plan::default();
        for ((write, decision), previous) in writes.iter().zip(decisions).zip(previous) {
            let (partition, sort) = key_columns(write.key);
            match decision {
                Decision::Put(version) => {
                    let (Some(value), Some(version)) = (write.value(), version_column(*version))
                    else {
                        // The column is a BIGINT: the counter ends at i64::MAX here.
                        return Err(StorageError::not_applied(
                            ErrorKind::VersionExhausted,
                            "the item's version counter is exhausted (BIGINT)",
                        ));
                    };
                    plan.write(
                        partition,
                        sort,
                        Some(value_text(value)),
                        version,
                        write.token,
                    );
                }
                Decision::Delete if tombstones => {
                    // A tombstone at the deleted item's version.
                    let Some(version) = previous.version().and_then(version_column) else {
                        return Err(StorageError::not_applied(
                            ErrorKind::Other,
                            "a delete was planned on a key without an item",
                        ));
                    };
                    plan.write(partition, sort, None, version, write.token);
                }
                Decision::Delete => plan.delete(partition, sort),
                // A check, or a delete on nothing or a tombstone, changes nothing; but the
                // placeholder of an absent key it locked must not stay behind.
                Decision::Keep if *previous == Held::Nothing => plan.delete(partition, sort),
                Decision::Keep => {}
                Decision::Refuse => {
                    return Err(StorageError::not_applied(
                        ErrorKind::Other,
                        "a refused write reached the apply step",
                    ));
                }
            }
        }
        Ok(plan)
    }

    fn write(
        &mut self,
        partition: &'a str,
        sort: &'a str,
        value: Option<String>,
        version: i64,
        token: WriteToken,
    ) {
        self.write_partitions.push(partition);
        self.write_sorts.push(sort);
        self.write_values.push(value);
        self.write_versions.push(version);
        self.token = Some(token);
    }

    fn delete(&mut self, partition: &'a str, sort: &'a str) {
        self.delete_partitions.push(partition);
        self.delete_sorts.push(sort);
    }

    fn is_empty(&self) -> bool {
        self.write_partitions.is_empty() && self.delete_partitions.is_empty()
    }
}

/// Step 3: the changes, on rows this transaction holds locked.
async fn apply(
    store: &PostgresStore,
    conn: &mut Connection,
    plan: &Plan<'_>,
) -> Result<(), StorageError> {
    if plan.is_empty() {
        return Ok(()); // only checks of present records
    }
    let query = sqlx::query(&store.inner().sql.apply)
        .bind(&plan.write_partitions)
        .bind(&plan.write_sorts)
        .bind(&plan.write_values)
        .bind(&plan.write_versions)
        .bind(plan.token.map(token_text))
        .bind(&plan.delete_partitions)
        .bind(&plan.delete_sorts);
    let rows = conn.fetch_all(query, Applied::No).await?;
    let column = |e| error::sent(e, Applied::No);
    let row = rows.first().ok_or_else(|| {
        error::unreadable(
            Unreadable("the apply statement returned no row".into()),
            Applied::No,
        )
    })?;
    let written: i64 = row.try_get(0).map_err(column)?;
    let deleted: i64 = row.try_get(1).map_err(column)?;
    let expected = (plan.write_partitions.len(), plan.delete_partitions.len());
    if usize::try_from(written).ok() != Some(expected.0)
        || usize::try_from(deleted).ok() != Some(expected.1)
    {
        let problem = format!(
            "the transaction's locked rows changed: wrote {written} of {}, deleted {deleted} of {}",
            expected.0, expected.1
        );
        return Err(error::unreadable(Unreadable(problem), Applied::No));
    }
    Ok(())
}

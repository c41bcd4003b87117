//! The synchronous work of each call, one redb transaction each, run on a blocking
//! thread ([`crate::blocking`]). Writes are judged by core's [`Write::decide`] inside the
//! write transaction, which redb runs one at a time: the check and the change are one
//! atomic step.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use optimist_core::{
    CommitOutcome, Decision, Held, Key, Outcome, OwnedWrite, Record, StorageError, Write,
};
use redb::{Database, ReadableTable, Table};

use crate::error;
use crate::item::{self, Stored};

type ItemsTable<'t> = Table<'t, (&'static str, Option<&'static str>), &'static [u8]>;

/// Milliseconds since the Unix epoch, for tombstones' deletion times.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn stored<T: ReadableTable<(&'static str, Option<&'static str>), &'static [u8]>>(
    table: &T,
    key: &Key,
) -> Result<Option<Stored>, StorageError> {
    let found = table.get(item::key_of(key)).map_err(error::not_applied)?;
    found.map(|bytes| item::decode(bytes.value())).transpose()
}

/// One key's record, from a read transaction (a snapshot of the last commit).
pub(crate) fn read(db: &Database, table: &str, key: &Key) -> Result<Option<Record>, StorageError> {
    let tx = db.begin_read().map_err(error::not_applied)?;
    let items = tx
        .open_table(item::table(table))
        .map_err(error::not_applied)?;
    Ok(stored(&items, key)?.map(|s| s.record))
}

/// Several keys' records, from one snapshot.
pub(crate) fn read_many(
    db: &Database,
    table: &str,
    keys: &[Key],
) -> Result<Vec<Option<Record>>, StorageError> {
    let tx = db.begin_read().map_err(error::not_applied)?;
    let items = tx
        .open_table(item::table(table))
        .map_err(error::not_applied)?;
    keys.iter()
        .map(|key| Ok(stored(&items, key)?.map(|s| s.record)))
        .collect()
}

/// Applies one judged write to the open table: what core's `decide` says, with the
/// write's token.
fn apply(
    items: &mut ItemsTable<'_>,
    write: &Write<'_>,
    tombstones: bool,
) -> Result<Outcome, StorageError> {
    let current = stored(items, write.key)?.map(|s| s.record);
    let previous = Held::of(current.as_ref());
    let key = item::key_of(write.key);
    match write.decide(previous) {
        Decision::Refuse => return Ok(Outcome::Refused { current }),
        Decision::Put(version) => {
            let value = write.value().cloned().unwrap_or_default();
            let bytes = item::encode_item(&value, version, write.token)?;
            items
                .insert(key, bytes.as_slice())
                .map_err(error::not_applied)?;
        }
        Decision::Delete => match previous.version() {
            Some(version) if tombstones => {
                let bytes = item::encode_tombstone(version, write.token, now_ms());
                items
                    .insert(key, bytes.as_slice())
                    .map_err(error::not_applied)?;
            }
            _ => {
                items.remove(key).map_err(error::not_applied)?;
            }
        },
        Decision::Keep => {}
    }
    Ok(Outcome::Applied { previous })
}

/// Ends a write transaction that wrote nothing worth keeping. A failed abort leaves
/// nothing either: redb rolls back what is not committed.
fn discard(tx: redb::WriteTransaction) {
    if let Err(err) = tx.abort() {
        tracing::debug!(error = %err, "redb: abort failed; the transaction is rolled back anyway");
    }
}

/// One conditional write, in its own write transaction, committed durably.
pub(crate) fn write(
    db: &Database,
    table: &str,
    write: &OwnedWrite,
    tombstones: bool,
) -> Result<Outcome, StorageError> {
    let tx = db.begin_write().map_err(error::not_applied)?;
    let outcome = {
        let mut items = tx
            .open_table(item::table(table))
            .map_err(error::not_applied)?;
        apply(&mut items, &write.write(), tombstones)?
    };
    match outcome {
        Outcome::Refused { .. } => discard(tx),
        Outcome::Applied { .. } => tx.commit().map_err(error::commit_failed)?,
    }
    Ok(outcome)
}

/// Every write or none, in one write transaction: all judged before any is applied.
pub(crate) fn commit(
    db: &Database,
    table: &str,
    writes: &[OwnedWrite],
    tombstones: bool,
) -> Result<CommitOutcome, StorageError> {
    let tx = db.begin_write().map_err(error::not_applied)?;
    let outcome = {
        let mut items = tx
            .open_table(item::table(table))
            .map_err(error::not_applied)?;
        let mut previous = Vec::with_capacity(writes.len());
        let mut refused = Vec::new();
        for (index, write) in writes.iter().map(OwnedWrite::write).enumerate() {
            let current = stored(&items, write.key)?.map(|s| s.record);
            let held = Held::of(current.as_ref());
            if write.decide(held) == Decision::Refuse {
                refused.push((index, current));
            }
            previous.push(held);
        }
        if refused.is_empty() {
            for write in writes {
                apply(&mut items, &write.write(), tombstones)?;
            }
            CommitOutcome::Applied { previous }
        } else {
            CommitOutcome::Refused { current: refused }
        }
    };
    match outcome {
        CommitOutcome::Refused { .. } => discard(tx),
        CommitOutcome::Applied { .. } => tx.commit().map_err(error::commit_failed)?,
    }
    Ok(outcome)
}

/// Removes the tombstones left more than `older_than` ago, in one write transaction.
pub(crate) fn purge(db: &Database, table: &str, older_than: Duration) -> Result<u64, StorageError> {
    let cutoff = now_ms().saturating_sub(u64::try_from(older_than.as_millis()).unwrap_or(u64::MAX));
    let tx = db.begin_write().map_err(error::not_applied)?;
    let removed = {
        let mut items = tx
            .open_table(item::table(table))
            .map_err(error::not_applied)?;
        let mut old = Vec::new();
        for entry in items.iter().map_err(error::not_applied)? {
            let (key, bytes) = entry.map_err(error::not_applied)?;
            let stored = item::decode(bytes.value())?;
            if stored.deleted_at_ms.is_some_and(|at| at < cutoff) {
                old.push(item::key_from(key.value()));
            }
        }
        for key in &old {
            items
                .remove(item::key_of(key))
                .map_err(error::not_applied)?;
        }
        old.len() as u64
    };
    if removed == 0 {
        discard(tx);
    } else {
        tx.commit().map_err(error::commit_failed)?;
    }
    Ok(removed)
}

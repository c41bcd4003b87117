//! `Storage::write`: the statement each precondition and change sends (one round trip),
//! and how its answer becomes [`Outcome::Applied`] with what the key held, or
//! [`Outcome::Refused`] with the record the statement locked.
//!
//! Every statement stores the write's token with what it leaves (an item, or a
//! tombstone in tombstone mode), so that after a lost answer the engine can read the
//! key and tell this write from another's (contract R14).

use optimist_core::{
    Applied, Change, Decision, ErrorKind, Expect, Held, Key, Outcome, StorageError, Version, Write,
};
use serde_json::Value;

use crate::error;
use crate::item::{
    Unreadable, expected_column, key_columns, token_text, value_text, version_from_column,
};
use crate::row::{column, no_row, record_at};
use crate::store::PostgresStore;

/// How often a put is sent again at once when its key was written by another client
/// after the statement's snapshot was taken (the statement then writes nothing). Each
/// new attempt has a newer snapshot, so only a key rewritten again and again between
/// two attempts gets this far; the engine then resends within its retry policy.
const PUT_ATTEMPTS: u32 = 4;

/// Sends `write` as the statement its precondition and change call for.
pub(crate) async fn write(
    store: &PostgresStore,
    write: &Write<'_>,
) -> Result<Outcome, StorageError> {
    let token = token_text(write.token);
    match (write.expect, write.change) {
        (Expect::Absent, Change::Put(value)) => insert(store, write.key, value, token).await,
        (Expect::At(expected), Change::Put(value)) => {
            let replace = Replace {
                expected,
                tombstone: false,
                value,
                token,
            };
            replace.send(store, write.key).await
        }
        (Expect::Tombstone(expected), Change::Put(value)) => {
            let replace = Replace {
                expected,
                tombstone: true,
                value,
                token,
            };
            replace.send(store, write.key).await
        }
        (Expect::Any, Change::Put(value)) => put(store, write.key, value, token).await,
        (Expect::At(expected), Change::Delete) => {
            delete(store, write.key, Some(expected), token).await
        }
        (Expect::Any, Change::Delete) => delete(store, write.key, None, token).await,
        // Every other pairing writes nothing whatever the key holds: a check (`Keep`),
        // or a delete where there is no item to delete.
        _ => judge(store, write).await,
    }
}

/// `Absent` + put: inserted at version 1, or refused with the record that is there (an
/// item or a tombstone).
async fn insert(
    store: &PostgresStore,
    key: &Key,
    value: &Value,
    token: String,
) -> Result<Outcome, StorageError> {
    let (p, s) = key_columns(key);
    let query = sqlx::query(&store.inner().sql.insert)
        .bind(p)
        .bind(s)
        .bind(value_text(value))
        .bind(token);
    let row = store
        .one_row(query, Applied::Maybe)
        .await?
        .ok_or_else(|| no_row(Applied::Maybe))?;
    if column::<bool>(&row, 0, Applied::Maybe)? {
        return Ok(Outcome::Applied {
            previous: Held::Nothing,
        });
    }
    // Refused: the statement changed nothing (it wrote the row's own version).
    Ok(Outcome::Refused {
        current: Some(record_at(&row, 1, Applied::No)?),
    })
}

/// A put on the record at `expected`: a live item (update) or, with `tombstone`, the
/// tombstone of a deleted one (an insert in tombstone mode).
struct Replace<'a> {
    expected: Version,
    tombstone: bool,
    value: &'a Value,
    token: String,
}

impl Replace<'_> {
    async fn send(self, store: &PostgresStore, key: &Key) -> Result<Outcome, StorageError> {
        let (p, s) = key_columns(key);
        let query = sqlx::query(&store.inner().sql.replace)
            .bind(p)
            .bind(s)
            .bind(expected_column(self.expected))
            .bind(value_text(self.value))
            .bind(self.token)
            .bind(self.tombstone);
        let Some(row) = store.one_row(query, Applied::Maybe).await? else {
            return Ok(Outcome::Refused { current: None });
        };
        let written: Option<i64> = column(&row, 0, Applied::Maybe)?;
        if written.is_none() {
            return Ok(Outcome::Refused {
                current: Some(record_at(&row, 1, Applied::No)?),
            });
        }
        let previous = locked_version(&row, 2)?;
        Ok(Outcome::Applied {
            previous: if self.tombstone {
                Held::Tombstone(previous)
            } else {
                Held::Item(previous)
            },
        })
    }
}

/// `At(expected)` + delete, or `Any` + delete (`expected: None`, a remove): the live
/// item removed, or in tombstone mode replaced by a tombstone at its version carrying
/// `token`. A tombstone or an empty key is left as it is: refused for `At`, applied
/// (with nothing written) for `Any`.
async fn delete(
    store: &PostgresStore,
    key: &Key,
    expected: Option<Version>,
    token: String,
) -> Result<Outcome, StorageError> {
    let (p, s) = key_columns(key);
    let mut query = sqlx::query(&store.inner().sql.delete)
        .bind(p)
        .bind(s)
        .bind(expected.map(expected_column));
    if store.inner().tombstones {
        query = query.bind(token);
    }
    let Some(row) = store.one_row(query, Applied::Maybe).await? else {
        return Ok(match expected {
            Some(_) => Outcome::Refused { current: None },
            None => Outcome::Applied {
                previous: Held::Nothing,
            },
        });
    };
    let deleted: Option<i64> = column(&row, 0, Applied::Maybe)?;
    if deleted.is_some() {
        return Ok(Outcome::Applied {
            previous: Held::Item(locked_version(&row, 2)?),
        });
    }
    let current = record_at(&row, 1, Applied::No)?;
    match expected {
        Some(_) => Ok(Outcome::Refused {
            current: Some(current),
        }),
        None if current.is_tombstone() => Ok(Outcome::Applied {
            previous: current.held(),
        }),
        None => Err(error::unreadable(
            Unreadable("a remove left the live item it locked in place".into()),
            Applied::No,
        )),
    }
}

/// `Any` + put: always applied; what the key held before.
async fn put(
    store: &PostgresStore,
    key: &Key,
    value: &Value,
    token: String,
) -> Result<Outcome, StorageError> {
    let (p, s) = key_columns(key);
    let value = value_text(value);
    for _ in 0..PUT_ATTEMPTS {
        let query = sqlx::query(&store.inner().sql.put)
            .bind(p)
            .bind(s)
            .bind(&value)
            .bind(&token);
        let row = store
            .one_row(query, Applied::Maybe)
            .await?
            .ok_or_else(|| no_row(Applied::Maybe))?;
        let updated: Option<i64> = column(&row, 0, Applied::Maybe)?;
        let inserted: Option<i64> = column(&row, 1, Applied::Maybe)?;
        let before: Option<i64> = column(&row, 2, Applied::Maybe)?;
        let dead: Option<bool> = column(&row, 3, Applied::Maybe)?;
        let previous = match (updated, inserted, before, dead) {
            (Some(_), None, Some(version), Some(dead)) => {
                let version = version_from_column(version)
                    .map_err(|e| error::unreadable(e, Applied::Maybe))?;
                if dead {
                    Held::Tombstone(version)
                } else {
                    Held::Item(version)
                }
            }
            (None, Some(_), None, None) => Held::Nothing,
            // The key was written after the snapshot: nothing was written, send again.
            (None, None, None, None) => continue,
            _ => {
                let problem = Unreadable("the put statement answered another shape".into());
                return Err(error::unreadable(problem, Applied::Maybe));
            }
        };
        return Ok(Outcome::Applied { previous });
    }
    Err(StorageError::not_applied(
        ErrorKind::Contention,
        "other clients kept writing the key while a put looked for it",
    ))
}

/// A write that changes nothing (a check, or a delete where there is no item): one
/// read, judged by core's `Write::decide`, as atomic as the read is.
async fn judge(store: &PostgresStore, write: &Write<'_>) -> Result<Outcome, StorageError> {
    let current = optimist_core::Storage::read(store, write.key).await?;
    let previous = Held::of(current.as_ref());
    match write.decide(previous) {
        Decision::Refuse => Ok(Outcome::Refused { current }),
        Decision::Keep => Ok(Outcome::Applied { previous }),
        // Only a pairing added to core after this backend was written gets here.
        Decision::Put(_) | Decision::Delete => Err(StorageError::not_applied(
            ErrorKind::Rejected,
            "this backend has no statement for this kind of write",
        )),
    }
}

/// The version of the row a write locked and changed.
fn locked_version(row: &sqlx::postgres::PgRow, index: usize) -> Result<Version, StorageError> {
    let version: i64 = column(row, index, Applied::Maybe)?;
    version_from_column(version).map_err(|e| error::unreadable(e, Applied::Maybe))
}

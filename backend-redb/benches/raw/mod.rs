//! The bare-redb side of the redb benches: the store's table and record layout, and its
//! transactions, written by hand: a read transaction per read; a write transaction per
//! update that reads the record, compares its version, and inserts the new record and
//! commits (durably, redb's default) or aborts; each run on tokio's blocking pool, as
//! the store runs its calls.

#![allow(dead_code)] // each bench uses its part

use std::path::Path;
use std::sync::Arc;

use optimist_core::WriteToken;
use redb::{Database, ReadableTable, TableDefinition};
use serde_json::Value;

/// The store's table: key `(partition, sort)`, record bytes.
type Items<'a> = TableDefinition<'a, (&'static str, Option<&'static str>), &'static [u8]>;

fn items(name: &str) -> Items<'_> {
    TableDefinition::new(name)
}

/// An item's bytes in the store's layout: layout 1, kind 0 (item), the version
/// (big-endian u64), 1 and the token (big-endian u128), then the value's JSON.
pub fn encode(value: &Value, version: u64, token: WriteToken) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(128);
    bytes.extend_from_slice(&[1, 0]);
    bytes.extend_from_slice(&version.to_be_bytes());
    bytes.push(1);
    bytes.extend_from_slice(&token.as_u128().to_be_bytes());
    let _ = serde_json::to_writer(&mut bytes, value);
    bytes
}

/// A record's version and, if it is an item, its value.
pub fn decode(bytes: &[u8]) -> Option<(Option<Value>, u64)> {
    let version = u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?);
    let body = match bytes.get(10)? {
        0 => 11,
        _ => 27,
    };
    let value = match bytes.get(1)? {
        0 => Some(serde_json::from_slice(bytes.get(body..)?).ok()?),
        _ => None,
    };
    Some((value, version))
}

/// Items `from..to` (partition `name(n)`, no sort part) at version 1 holding `value`,
/// in one write transaction.
pub fn fill(
    db: &Database,
    table: &str,
    from: u64,
    to: u64,
    name: fn(u64) -> String,
    value: &Value,
) -> Result<(), String> {
    let text = |err: redb::Error| err.to_string();
    let tx = db.begin_write().map_err(|e| text(e.into()))?;
    {
        let mut items = tx.open_table(items(table)).map_err(|e| text(e.into()))?;
        for n in from..to {
            let partition = name(n);
            let bytes = encode(value, 1, WriteToken::random());
            items
                .insert((partition.as_str(), None), bytes.as_slice())
                .map_err(|e| text(e.into()))?;
        }
    }
    tx.commit().map_err(|e| text(e.into()))?;
    Ok(())
}

/// The bare side: its own file, the store's layout and transactions.
pub struct Raw {
    db: Arc<Database>,
    table: String,
}

impl Raw {
    /// The file at `path`, created with the table.
    pub fn create(path: &Path, table: &str) -> Result<Self, String> {
        let text = |err: redb::Error| err.to_string();
        let db = Database::create(path).map_err(|e| text(e.into()))?;
        let tx = db.begin_write().map_err(|e| text(e.into()))?;
        tx.open_table(items(table)).map_err(|e| text(e.into()))?;
        tx.commit().map_err(|e| text(e.into()))?;
        Ok(Self {
            db: Arc::new(db),
            table: table.to_string(),
        })
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// One read transaction: the item's value and version.
    pub async fn get(&self, partition: String) -> Option<(Value, u64)> {
        let (db, table) = (Arc::clone(&self.db), self.table.clone());
        tokio::task::spawn_blocking(move || {
            let tx = db.begin_read().ok()?;
            let items = tx.open_table(items(&table)).ok()?;
            let found = items.get((partition.as_str(), None)).ok()??;
            let (value, version) = decode(found.value())?;
            Some((value?, version))
        })
        .await
        .ok()?
    }

    /// One write transaction: the record read, its version compared with `expected`,
    /// then the new record inserted and committed, or the transaction aborted.
    /// `Ok(new version)` or `Err(current version)`.
    pub async fn update(&self, partition: String, expected: u64, value: Value) -> Result<u64, u64> {
        let (db, table) = (Arc::clone(&self.db), self.table.clone());
        let done = tokio::task::spawn_blocking(move || {
            let tx = db.begin_write().map_err(|_| 0u64)?;
            let current = {
                let mut items = tx.open_table(items(&table)).map_err(|_| 0u64)?;
                let current = items
                    .get((partition.as_str(), None))
                    .map_err(|_| 0u64)?
                    .and_then(|found| decode(found.value()));
                match current {
                    Some((Some(_), version)) if version == expected => {
                        let bytes = encode(&value, expected + 1, WriteToken::random());
                        items
                            .insert((partition.as_str(), None), bytes.as_slice())
                            .map_err(|_| 0u64)?;
                        None
                    }
                    _ => Some(current.map_or(0, |(_, version)| version)),
                }
            };
            match current {
                None => {
                    tx.commit().map_err(|_| 0u64)?;
                    Ok(expected + 1)
                }
                Some(version) => {
                    let _ = tx.abort();
                    Err(version)
                }
            }
        })
        .await;
        done.unwrap_or(Err(0))
    }
}

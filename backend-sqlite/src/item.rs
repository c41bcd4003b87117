//! How records are stored in SQLite's columns: keys as three columns, values as JSON text
//! (NULL for a tombstone), versions as signed 64-bit integers, write tokens as 32 hex
//! digits, deletion times as milliseconds since the Unix epoch.

use std::time::{Duration, SystemTime};

use optimist_core::{
    ErrorKind, Held, Key, Record, StorageError, Value, Version, Write, WriteToken,
};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use crate::error;

/// A key as its three columns: partition, has-sort flag, sort part ('' when absent).
pub(crate) fn key_columns(key: &Key) -> (&str, i64, &str) {
    match key.parts() {
        (partition, Some(sort)) => (partition, 1, sort),
        (partition, None) => (partition, 0, ""),
    }
}

/// A write with its columns already encoded, so that no JSON is written while the
/// database's write lock is held.
#[derive(Clone, Debug)]
pub(crate) struct Encoded<'w> {
    /// The write.
    pub write: Write<'w>,
    /// The JSON text of the value a put stores; `None` for a delete or a check.
    pub text: Option<String>,
    /// The write's token, as stored with whatever the write leaves.
    pub token: String,
}

impl<'w> Encoded<'w> {
    /// Encodes the value and the token of `write`.
    pub(crate) fn new(write: &Write<'w>) -> Result<Self, StorageError> {
        Ok(Self {
            write: *write,
            text: write.value().map(encode_value).transpose()?,
            token: write.token.to_string(),
        })
    }

    /// The value's text; empty for a write without one (never bound then).
    pub(crate) fn text(&self) -> &str {
        self.text.as_deref().unwrap_or_default()
    }
}

/// A value as the JSON text stored in the `value` column. serde_json writes every
/// number so that reading it back gives the same i64, u64 or f64 (the workspace enables
/// `float_roundtrip`).
fn encode_value(value: &Value) -> Result<String, StorageError> {
    // A `Value` always serializes (its map keys are strings); the error is kept anyway
    // rather than unwrapped.
    serde_json::to_string(value).map_err(|e| StorageError::not_applied(ErrorKind::Other, e))
}

/// A stored row's columns, as read: the value's text (`None`: a tombstone), the
/// version and the token's text (`None`: written by another client).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Row {
    pub text: Option<String>,
    pub version: i64,
    pub token: Option<String>,
}

impl Row {
    /// The row of a `SELECT value, version, token`, kept beyond the row's life.
    pub(crate) fn read(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            text: row.try_get(0)?,
            version: row.try_get(1)?,
            token: row.try_get(2)?,
        })
    }

    /// The key's state under this row: an item, or a tombstone (NULL value).
    pub(crate) fn held(&self) -> Result<Held, StorageError> {
        let version = decode_version(self.version)?;
        Ok(match self.text {
            Some(_) => Held::Item(version),
            None => Held::Tombstone(version),
        })
    }

    /// The record the row holds.
    pub(crate) fn record(&self) -> Result<Record, StorageError> {
        record_of(self.text.as_deref(), self.version, self.token.as_deref())
    }
}

/// The record in columns `first..first + 3` (value, version, token) of a row, decoded
/// from the row's own text (no copy of it first, as a [`Row`] keeps).
pub(crate) fn record_at(row: &SqliteRow, first: usize) -> Result<Record, StorageError> {
    let text: Option<&str> = row.try_get(first).map_err(error::unapplied)?;
    let version: i64 = row.try_get(first + 1).map_err(error::unapplied)?;
    let token: Option<&str> = row.try_get(first + 2).map_err(error::unapplied)?;
    record_of(text, version, token)
}

/// The record of a row's columns: the value's text (`None`: a tombstone), the version,
/// the token's text (`None`: written by another client).
fn record_of(
    text: Option<&str>,
    version: i64,
    token: Option<&str>,
) -> Result<Record, StorageError> {
    let version = decode_version(version)?;
    let token = token.map(decode_token).transpose()?;
    let record = match text {
        Some(text) => Record::item(decode_value(text)?, version),
        None => Record::tombstone(version),
    };
    Ok(record.with_token(token))
}

/// A stored token back into a [`WriteToken`]. A row another client wrote has none
/// (NULL); text that is not a token is unreadable data, never taken for a token.
pub(crate) fn decode_token(text: &str) -> Result<WriteToken, StorageError> {
    text.parse()
        .map_err(|err| StorageError::corrupt(format!("the stored write token: {err}")))
}

/// A stored value's JSON text back into a value. Text another tool wrote that is not
/// JSON is unreadable data, never a conflict.
pub(crate) fn decode_value(text: &str) -> Result<Value, StorageError> {
    serde_json::from_str(text).map_err(StorageError::corrupt)
}

/// A stored version as a [`Version`]; the table's CHECK keeps it non-negative, but a
/// table made by another tool may not have one.
pub(crate) fn decode_version(version: i64) -> Result<Version, StorageError> {
    u64::try_from(version)
        .map(Version::new)
        .map_err(|_| StorageError::corrupt(format!("the stored version {version} is negative")))
}

/// An expected version as SQLite holds it: `None` for a version beyond SQLite's signed
/// 64-bit INTEGER, which no stored item can be at.
pub(crate) fn stored_version(version: Version) -> Option<i64> {
    i64::try_from(version.get()).ok()
}

/// A version to store. SQLite's counter ends at `i64::MAX`, below the engine's
/// `u64::MAX`: a write that would go past it is refused as exhausted, nothing written.
pub(crate) fn version_to_store(version: Version) -> Result<i64, StorageError> {
    stored_version(version).ok_or_else(exhausted)
}

/// A put on an item at `i64::MAX`, the end of SQLite's counter. The engine's own
/// end is `u64::MAX`, so the store reports this one itself; nothing is written.
pub(crate) fn exhausted() -> StorageError {
    StorageError::not_applied(
        ErrorKind::VersionExhausted,
        "the item's version is at the end of SQLite's counter (i64::MAX)",
    )
}

/// Now, as a tombstone's deletion time: milliseconds since the Unix epoch (0 for a
/// clock set before 1970).
pub(crate) fn now_millis() -> i64 {
    millis_since_epoch(SystemTime::now())
}

fn millis_since_epoch(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// The deletion time before which a tombstone was left more than `older_than` ago.
/// A bound longer than the clock's reading purges nothing.
pub(crate) fn purge_cutoff(now: i64, older_than: Duration) -> i64 {
    let older_than = i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX);
    now.saturating_sub(older_than)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_encoding_is_unambiguous() {
        assert_eq!(key_columns(&Key::new("a")), ("a", 0, ""));
        assert_eq!(key_columns(&Key::with_sort("a", "b")), ("a", 1, "b"));
    }

    #[test]
    fn versions_outside_i64_never_panic() {
        assert_eq!(stored_version(Version::new(u64::MAX)), None);
        assert_eq!(stored_version(Version::new(7)), Some(7));
        assert_eq!(
            decode_version(-1).map_err(|e| e.kind()),
            Err(ErrorKind::Corrupt)
        );
        assert_eq!(
            version_to_store(Version::new(i64::MAX as u64 + 1)).map_err(|e| e.kind()),
            Err(ErrorKind::VersionExhausted)
        );
        assert_eq!(
            version_to_store(Version::new(i64::MAX as u64)).ok(),
            Some(i64::MAX)
        );
    }

    #[test]
    fn unreadable_values_are_corrupt_not_conflicts() {
        assert_eq!(
            decode_value("not json").map_err(|e| e.kind()),
            Err(ErrorKind::Corrupt)
        );
        let row = |text: Option<&str>, token: Option<&str>| Row {
            text: text.map(str::to_string),
            version: 3,
            token: token.map(str::to_string),
        };
        assert_eq!(
            row(Some("{\"n\":1}"), None).record().ok(),
            Some(Record::item(serde_json::json!({"n": 1}), Version::new(3)))
        );
        assert_eq!(
            row(Some("not json"), None).record().map_err(|e| e.kind()),
            Err(ErrorKind::Corrupt)
        );
    }

    #[test]
    fn rows_keep_tombstones_and_tokens() {
        let token = WriteToken::from_u128(0xabc);
        let row = |text: Option<&str>, token: Option<String>| Row {
            text: text.map(str::to_string),
            version: 4,
            token,
        };
        assert_eq!(
            row(None, Some(token.to_string())).record().ok(),
            Some(Record::tombstone(Version::new(4)).with_token(Some(token)))
        );
        // JSON null is a value, not a tombstone.
        assert_eq!(
            row(Some("null"), None).record().ok(),
            Some(Record::item(Value::Null, Version::new(4)))
        );
        for bad in ["", "xyz", "ABC", &"0".repeat(33), &"A".repeat(32)] {
            assert_eq!(
                row(Some("1"), Some(bad.to_string()))
                    .record()
                    .map_err(|e| e.kind()),
                Err(ErrorKind::Corrupt),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn deletion_times_never_overflow() {
        assert_eq!(millis_since_epoch(SystemTime::UNIX_EPOCH), 0);
        let before_1970 = SystemTime::UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(millis_since_epoch(before_1970), 0);
        assert_eq!(purge_cutoff(10_000, Duration::from_secs(3)), 7_000);
        assert_eq!(purge_cutoff(10_000, Duration::MAX), 10_000 - i64::MAX);
        assert!(now_millis() > 1_600_000_000_000);
    }
}

//! How items are stored in SQLite's columns: keys as three columns, values as JSON text,
//! versions as signed 64-bit integers.

use optimist_core::{ErrorKind, Key, StorageError, Value, Version, Versioned, Write};

/// A key as its three columns: partition, has-sort flag, sort part ('' when absent).
pub(crate) fn key_columns(key: &Key) -> (&str, i64, &str) {
    match key.parts() {
        (partition, Some(sort)) => (partition, 1, sort),
        (partition, None) => (partition, 0, ""),
    }
}

/// A write with its value already encoded, so that no JSON is written while the
/// database's write lock is held.
#[derive(Clone, Debug)]
pub(crate) struct Encoded<'w> {
    /// The write.
    pub write: Write<'w>,
    /// The JSON text of the value a put stores; `None` for a delete or a check.
    pub text: Option<String>,
}

impl<'w> Encoded<'w> {
    /// Encodes the value of `write`, if it has one.
    pub(crate) fn new(write: &Write<'w>) -> Result<Self, StorageError> {
        Ok(Self {
            write: *write,
            text: write.value().map(encode_value).transpose()?,
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

/// A stored row back into an item.
pub(crate) fn decode_item(text: &str, version: i64) -> Result<Versioned<Value>, StorageError> {
    Ok(Versioned::new(
        decode_value(text)?,
        decode_version(version)?,
    ))
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
        assert_eq!(
            decode_item("{\"n\":1}", 3).ok(),
            Some(Versioned::new(serde_json::json!({"n": 1}), Version::new(3)))
        );
    }
}

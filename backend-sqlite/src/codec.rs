//! How keys, values and versions are stored in SQLite's columns.

use optimist_core::{Error, Key, Operation, Result, Value, Version, Versioned};

/// A key as its three columns: partition, has-sort flag, sort part ('' when absent).
pub(crate) fn key_columns(key: &Key) -> (&str, i64, &str) {
    match key.parts() {
        (partition, Some(sort)) => (partition, 1, sort),
        (partition, None) => (partition, 0, ""),
    }
}

/// A value as the JSON text stored in the `value` column. serde_json writes every
/// number so that reading it back gives the same i64, u64 or f64 (the workspace enables
/// `float_roundtrip`).
pub(crate) fn encode_value(operation: Operation, key: &Key, value: &Value) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::invalid(operation, Some(key), e.to_string()))
}

/// A stored row back into an item.
pub(crate) fn decode_item(
    operation: Operation,
    key: &Key,
    text: &str,
    version: i64,
) -> Result<Versioned<Value>> {
    Ok(Versioned::new(
        decode_value(operation, key, text)?,
        decode_version(operation, key, version)?,
    ))
}

/// A stored value's JSON text back into a value. Text another tool wrote that is not
/// JSON is a backend error, never a conflict.
pub(crate) fn decode_value(operation: Operation, key: &Key, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        Error::backend(
            operation,
            Some(key),
            false,
            format!("the stored value is not valid JSON: {e}"),
        )
    })
}

/// A stored version as a [`Version`]; the table's CHECK keeps it non-negative, but a
/// table made by another tool may not have one.
pub(crate) fn decode_version(operation: Operation, key: &Key, version: i64) -> Result<Version> {
    u64::try_from(version).map(Version::new).map_err(|_| {
        Error::backend(
            operation,
            Some(key),
            false,
            format!("the stored version {version} is negative"),
        )
    })
}

/// An expected version as a bind parameter: `None` (SQL NULL, which equals nothing) for
/// a version SQLite's signed INTEGER cannot hold, so no stored item can match it.
pub(crate) fn expected_param(expected: Version) -> Option<i64> {
    i64::try_from(expected.get()).ok()
}

/// The version a write gives an item at `previous` (`None`: absent), as stored.
pub(crate) fn next_version(
    operation: Operation,
    key: &Key,
    previous: Option<Version>,
) -> Result<i64> {
    previous
        .map_or(Some(1), |v| v.get().checked_add(1))
        .and_then(|next| i64::try_from(next).ok())
        .ok_or_else(|| exhausted(operation, key))
}

/// The error for an item whose version cannot advance any more.
pub(crate) fn exhausted(operation: Operation, key: &Key) -> Error {
    Error::backend(
        operation,
        Some(key),
        false,
        "the item's version counter is exhausted (SQLite stores versions as signed 64-bit integers)",
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
        let key = Key::new("k");
        assert_eq!(expected_param(Version::new(u64::MAX)), None);
        assert_eq!(expected_param(Version::new(7)), Some(7));
        assert!(decode_version(Operation::Get, &key, -1).is_err());
        assert_eq!(next_version(Operation::Put, &key, None).ok(), Some(1));
        assert_eq!(
            next_version(Operation::Put, &key, Some(Version::new(4))).ok(),
            Some(5)
        );
        assert!(next_version(Operation::Put, &key, Some(Version::new(i64::MAX as u64))).is_err());
        assert!(next_version(Operation::Put, &key, Some(Version::new(u64::MAX))).is_err());
    }
}

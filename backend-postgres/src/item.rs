//! Between the engine's records and the table's columns: keys as `(partition, sort)`,
//! versions as BIGINT, values as JSON text (SQL NULL for a tombstone), write tokens as
//! text.

use std::fmt;

use optimist_core::{Key, Record, Version, WriteToken};
use serde_json::Value;

/// The `(partition, sort)` columns of a key: `''` stands for "no sort part", which no
/// real sort part can be (the engine refuses empty key parts).
pub(crate) fn key_columns(key: &Key) -> (&str, &str) {
    let (partition, sort) = key.parts();
    (partition, sort.unwrap_or(""))
}

/// The key a `(partition, sort)` pair stands for.
pub(crate) fn key_from_columns(partition: &str, sort: &str) -> Key {
    if sort.is_empty() {
        Key::new(partition)
    } else {
        Key::with_sort(partition, sort)
    }
}

/// A version as the BIGINT column holds it; `None` above `i64::MAX`, which the column
/// cannot hold.
pub(crate) fn version_column(version: Version) -> Option<i64> {
    i64::try_from(version.get()).ok()
}

/// An expected version as the BIGINT to compare with. A version above `i64::MAX` was
/// never stored (the column is never negative), so it becomes -1, which matches no row.
pub(crate) fn expected_column(version: Version) -> i64 {
    version_column(version).unwrap_or(-1)
}

/// A stored version.
pub(crate) fn version_from_column(version: i64) -> Result<Version, Unreadable> {
    u64::try_from(version)
        .map(Version::new)
        .map_err(|_| Unreadable(format!("negative version {version}")))
}

/// A value as the JSON text sent to the server (compact, as the engine measured it).
/// serde_json's serializer writes the text directly; `Display` would route every piece
/// through `fmt`'s adapter (~1,800 instructions more per update). A `Value` always
/// serializes: the `Display` fallback only keeps this function total.
pub(crate) fn value_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| value.to_string())
}

/// A write token as the `token` column holds it.
pub(crate) fn token_text(token: WriteToken) -> String {
    token.to_string()
}

/// A stored record: its value (as `value::text`, `None` for a tombstone), version and
/// token (`None`: written by another client).
pub(crate) fn record_from_columns(
    value: Option<&str>,
    version: i64,
    token: Option<&str>,
) -> Result<Record, Unreadable> {
    let version = version_from_column(version)?;
    let token = token
        .map(|text| {
            text.parse::<WriteToken>()
                .map_err(|e| Unreadable(format!("stored write token {text:?}: {e}")))
        })
        .transpose()?;
    let record = match value {
        None => Record::tombstone(version),
        Some(text) => {
            let value = serde_json::from_str(text)
                .map_err(|e| Unreadable(format!("stored value is not readable JSON: {e}")))?;
            Record::item(value, version)
        }
    };
    Ok(record.with_token(token))
}

/// A row this store cannot read as an item: the table holds data it did not write.
#[derive(Debug)]
pub(crate) struct Unreadable(pub(crate) String);

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unexpected row in the table: {}", self.0)
    }
}

impl std::error::Error for Unreadable {}

#[cfg(test)]
#[allow(clippy::expect_used)] // tests fail by panicking
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_round_trip_through_columns() {
        for key in [
            Key::new("a"),
            Key::with_sort("a", "b"),
            Key::with_sort("a", " "),
        ] {
            let (p, s) = key_columns(&key);
            assert_eq!(key_from_columns(p, s), key);
        }
    }

    #[test]
    fn unstorable_versions_match_nothing() {
        assert_eq!(expected_column(Version::new(u64::MAX)), -1);
        assert_eq!(expected_column(Version::new(i64::MAX as u64 + 1)), -1);
        assert_eq!(expected_column(Version::new(7)), 7);
        assert_eq!(
            version_column(Version::new(i64::MAX as u64)),
            Some(i64::MAX)
        );
        assert!(version_from_column(-1).is_err());
    }

    #[test]
    fn records_are_read_or_refused() {
        let token = WriteToken::from_u128(0xabc);
        let item =
            record_from_columns(Some("{\"a\":[1e16]}"), 3, Some(&token_text(token))).expect("item");
        assert_eq!(
            item,
            Record::item(json!({"a": [1e16]}), Version::new(3)).with_token(Some(token))
        );
        assert!(item.value.as_ref().is_some_and(|v| v["a"][0].is_f64()));
        // JSON null is an item; SQL NULL is a tombstone.
        assert_eq!(
            record_from_columns(Some("null"), 1, None).expect("null"),
            Record::item(Value::Null, Version::FIRST)
        );
        assert_eq!(
            record_from_columns(None, 4, None).expect("tombstone"),
            Record::tombstone(Version::new(4))
        );
        let err = record_from_columns(Some("{"), 1, None).expect_err("not JSON");
        assert!(err.to_string().contains("not readable JSON"), "{err}");
        assert!(record_from_columns(Some("1"), -2, None).is_err());
        for bad in ["", "xyz", "ABC00000000000000000000000000000", "0"] {
            let err = record_from_columns(None, 1, Some(bad)).expect_err("bad token");
            assert!(err.to_string().contains("write token"), "{err}");
        }
    }
}

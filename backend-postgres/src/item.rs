//! Between the engine's items and the table's columns: keys as `(partition, sort)`,
//! versions as BIGINT, values as JSON text.

use std::fmt;

use optimist_core::{Key, Version, Versioned};
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
pub(crate) fn value_text(value: &Value) -> String {
    value.to_string()
}

/// A stored value (as `value::text`) and version.
pub(crate) fn item_from_columns(
    value: Option<String>,
    version: i64,
) -> Result<Versioned<Value>, Unreadable> {
    let version = version_from_column(version)?;
    let text = value.ok_or_else(|| Unreadable("the row's value was not returned".into()))?;
    let value = serde_json::from_str(&text)
        .map_err(|e| Unreadable(format!("stored value is not readable JSON: {e}")))?;
    Ok(Versioned::new(value, version))
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
    fn items_are_read_or_refused() {
        let item = item_from_columns(Some("{\"a\":[1e16]}".into()), 3).expect("item");
        assert_eq!(item, Versioned::new(json!({"a": [1e16]}), Version::new(3)));
        assert!(item.value["a"][0].is_f64());
        let err = item_from_columns(Some("{".into()), 1).expect_err("not JSON");
        assert!(err.to_string().contains("not readable JSON"), "{err}");
        assert!(item_from_columns(None, 1).is_err());
        assert!(item_from_columns(Some("1".into()), -2).is_err());
    }
}

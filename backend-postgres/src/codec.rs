//! Between the contract's types and the table's columns.

use optimist_core::{Error, Result, Version, Versioned};
use serde_json::Value;

use crate::error::{Context, bad_row};

/// The `(partition, sort)` columns of a key: `''` stands for "no sort part", which no
/// real sort part can be (contract R1 forbids empty parts).
pub(crate) fn key_columns(key: &optimist_core::Key) -> (&str, &str) {
    let (partition, sort) = key.parts();
    (partition, sort.unwrap_or(""))
}

/// The key a `(partition, sort)` pair stands for.
pub(crate) fn key_from_columns(partition: &str, sort: &str) -> optimist_core::Key {
    if sort.is_empty() {
        optimist_core::Key::new(partition)
    } else {
        optimist_core::Key::with_sort(partition, sort)
    }
}

/// An expected version as the BIGINT to compare with. Versions above `i64::MAX` were
/// never stored (the column is a BIGINT that is never negative), so they become -1,
/// which matches no row.
pub(crate) fn expected_column(version: Version) -> i64 {
    i64::try_from(version.get()).unwrap_or(-1)
}

/// A stored version.
pub(crate) fn version_from_column(ctx: Context<'_>, version: i64) -> Result<Version> {
    u64::try_from(version)
        .map(Version::new)
        .map_err(|_| bad_row(ctx, format!("negative version {version}")))
}

/// A value as the JSON text sent to the server.
pub(crate) fn value_text(ctx: Context<'_>, value: &Value) -> Result<String> {
    // Serializing a `Value` fails only for non-string map keys, which `Value` cannot hold.
    serde_json::to_string(value).map_err(|e| {
        Error::invalid(
            ctx.operation,
            ctx.key,
            format!("value cannot be encoded: {e}"),
        )
    })
}

/// A stored value and version.
pub(crate) fn item_from_columns(
    ctx: Context<'_>,
    value: Option<String>,
    version: i64,
) -> Result<Versioned<Value>> {
    let version = version_from_column(ctx, version)?;
    let text = value.ok_or_else(|| bad_row(ctx, "the row's value was not returned"))?;
    let value = serde_json::from_str(&text)
        .map_err(|e| bad_row(ctx, format!("stored value is not readable JSON: {e}")))?;
    Ok(Versioned::new(value, version))
}

/// The version after a write to an item at `previous`, or the error an exhausted
/// counter gives (the column is a BIGINT).
pub(crate) fn next_version(ctx: Context<'_>, previous: Version) -> Result<Version> {
    previous
        .next()
        .filter(|v| i64::try_from(v.get()).is_ok())
        .ok_or_else(|| {
            Error::backend(
                ctx.operation,
                ctx.key,
                false,
                "the item's version counter is exhausted (BIGINT)",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use optimist_core::{Key, Operation};

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
        assert_eq!(expected_column(Version::new(7)), 7);
        let ctx = Context::read(Operation::Get, None);
        assert!(version_from_column(ctx, -1).is_err());
        assert!(next_version(ctx, Version::new(i64::MAX as u64)).is_err());
    }
}

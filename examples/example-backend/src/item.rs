//! Mapping between optimist's items and the engine's rows: a row holds the value as JSON
//! text and the version as a number, under the key's partition part.

use optimist_core::{Key, StorageError, Value, Version, Versioned};

use crate::engine::Row;

/// The engine's key for an item: its partition part (the engine's capabilities declare
/// keys without a sort part, so the engine never hands this store one).
pub(crate) fn row_key(key: &Key) -> String {
    key.partition().to_string()
}

/// A row for `value` at `version`.
pub(crate) fn to_row(value: &Value, version: Version) -> Row {
    Row {
        json: value.to_string(),
        version: version.get(),
    }
}

/// The item a row holds.
pub(crate) fn from_row(row: &Row) -> Result<Versioned<Value>, StorageError> {
    let value = serde_json::from_str(&row.json).map_err(crate::error::corrupt_row)?;
    Ok(Versioned::new(value, Version::new(row.version)))
}

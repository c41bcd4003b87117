//! Mapping between optimist's records and the engine's rows: a row holds the value as
//! JSON text, the version as a number and the write token as text, under the key's
//! partition part.

use optimist_core::{Key, Record, StorageError, Value, Version, WriteToken};

use crate::engine::Row;

/// The engine's key for an item: its partition part (the engine's capabilities declare
/// keys without a sort part, so the engine never hands this store one).
pub(crate) fn row_key(key: &Key) -> String {
    key.partition().to_string()
}

/// A row for `value` at `version`, written by the write carrying `token`.
pub(crate) fn to_row(value: &Value, version: Version, token: WriteToken) -> Row {
    Row {
        json: value.to_string(),
        version: version.get(),
        token: token.to_string(),
    }
}

/// The record a row holds.
pub(crate) fn from_row(row: &Row) -> Result<Record, StorageError> {
    let value = serde_json::from_str(&row.json).map_err(crate::error::corrupt_row)?;
    let token = row
        .token
        .parse()
        .map_err(|err| StorageError::corrupt(format!("the row's write token: {err}")))?;
    Ok(Record::item(value, Version::new(row.version)).with_token(Some(token)))
}

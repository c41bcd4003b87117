//! Reading the rows the statements return: a column of the expected type, or a record
//! in the `(value::text, version, token)` layout every statement reports rows in.

use optimist_core::{Applied, Record, StorageError};
use sqlx::Row;
use sqlx::postgres::{PgRow, Postgres};

use crate::error;
use crate::item::{Unreadable, record_from_columns};

/// Column `index` of a returned row; a row of another shape is unreadable data.
/// `applied` says whether the statement that returned it may have written.
pub(crate) fn column<'r, T>(
    row: &'r PgRow,
    index: usize,
    applied: Applied,
) -> Result<T, StorageError>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(index).map_err(|e| error::sent(e, applied))
}

/// The record in columns `first..first + 3` of `row`.
pub(crate) fn record_at(
    row: &PgRow,
    first: usize,
    applied: Applied,
) -> Result<Record, StorageError> {
    // Read in place, not copied into `String`s first.
    let value: Option<&str> = column(row, first, applied)?;
    let version = column(row, first + 1, applied)?;
    let token: Option<&str> = column(row, first + 2, applied)?;
    record_from_columns(value, version, token).map_err(|e| error::unreadable(e, applied))
}

/// A statement that always returns a row returned none.
pub(crate) fn no_row(applied: Applied) -> StorageError {
    error::unreadable(Unreadable("the statement returned no row".into()), applied)
}

//! `Storage::purge_tombstones`: one DELETE of the tombstones left before a bound.
//!
//! The bound is the server's clock, which also stamped each tombstone (`deleted_at`), so
//! the clients' clocks never matter. The DELETE judges each row again once it holds the
//! row's lock, so a key written since the tombstone was left keeps its record. A
//! tombstone another client left without a `deleted_at` is never purged.

use std::time::Duration;

use optimist_core::{Applied, ErrorKind, StorageError};

use crate::row::{column, no_row};
use crate::store::PostgresStore;

/// The oldest bound asked of the server: no tombstone is 1,000 years old, and a much
/// larger interval takes `now() - older_than` out of the timestamp's range (4713 BC).
const OLDEST: Duration = Duration::from_secs(1_000 * 366 * 24 * 3600);

/// Removes the tombstones left more than `older_than` ago; how many.
pub(crate) async fn purge(
    store: &PostgresStore,
    older_than: Duration,
) -> Result<u64, StorageError> {
    if !store.inner().tombstones {
        return Err(StorageError::not_applied(
            ErrorKind::Rejected,
            "this store keeps no tombstones: build it with .tombstones(true) to purge them",
        ));
    }
    let micros = i64::try_from(older_than.min(OLDEST).as_micros()).unwrap_or(i64::MAX);
    let query = sqlx::query(&store.inner().sql.purge).bind(micros);
    // A lost answer may hide a purge that ran.
    let row = store
        .one_row(query, Applied::Maybe)
        .await?
        .ok_or_else(|| no_row(Applied::Maybe))?;
    let removed: i64 = column(&row, 0, Applied::Maybe)?;
    Ok(u64::try_from(removed).unwrap_or_default())
}

//! `purge_tombstones`: old tombstones removed in short batches, each one autocommit
//! statement that removes only rows that are still tombstones of that age.

use std::time::Duration;

use optimist_core::StorageError;
use optimist_core::retry::{RetryPolicy, retry_transient};

use crate::db::Db;
use crate::error;
use crate::item::{now_millis, purge_cutoff};
use crate::sql::{PURGE_BATCH, Sql};

/// Removes the tombstones left more than `older_than` ago, [`PURGE_BATCH`] per
/// statement, until a batch comes back short; answers how many went.
///
/// Each batch is one statement that takes the write lock before it reads, so a key
/// written since its tombstone was left (an item again, or a newer tombstone) is never
/// removed. Between batches other writers get the lock. A busy batch is sent again
/// within `policy` (removing old tombstones twice is the same as once). If a batch
/// fails after earlier ones removed tombstones, the error says it may have been
/// applied: some tombstones are gone.
pub(crate) async fn tombstones(
    db: &Db,
    sql: &Sql,
    policy: &RetryPolicy,
    older_than: Duration,
) -> Result<u64, StorageError> {
    // One cutoff for the whole purge: tombstones left while it runs stay.
    let cutoff = purge_cutoff(now_millis(), older_than);
    let mut removed = 0u64;
    loop {
        let batch = retry_transient(policy, || async {
            let mut conn = db.acquire().await.map_err(error::unapplied)?;
            sqlx::query(&sql.purge)
                .bind(cutoff)
                .bind(PURGE_BATCH)
                .execute(&mut *conn)
                .await
                .map(|done| done.rows_affected())
                .map_err(error::committing)
        })
        .await
        .result;
        match batch {
            Ok(count) => {
                removed += count;
                tracing::debug!(removed = count, "sqlite: purged a batch of tombstones");
                if count < PURGE_BATCH.unsigned_abs() {
                    return Ok(removed);
                }
            }
            Err(err) if removed > 0 => return Err(error::after_commit(err)),
            Err(err) => return Err(err),
        }
    }
}

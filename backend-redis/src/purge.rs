//! [`Storage::purge_tombstones`](optimist_core::Storage::purge_tombstones): a sweep
//! over the store's own keys. Other stores share the server, so the sweep walks only
//! this store's prefix (`SCAN MATCH {prefix}*`); each step's keys go to `purge.lua`,
//! which removes those that are, at that moment, tombstones older than the bound.

use std::time::Duration;

use optimist_core::{Applied, StorageError};

use crate::RedisStore;
use crate::error::from_redis;
use crate::reply;
use crate::scripts::scripts;

/// How many keys one `SCAN` step looks at (a hint to the server): small enough that
/// `purge.lua` on a step's keys never holds the server up for long.
const SCAN_COUNT: usize = 1000;

/// Walks the store's keys and removes its tombstones left more than `older_than` ago.
/// Two round trips per step (`SCAN`, then `purge.lua` when the step found hashes);
/// the server's clock judges the age, the same clock that stamped the tombstone.
pub(crate) async fn sweep(store: &RedisStore, older_than: Duration) -> Result<u64, StorageError> {
    let pattern = pattern(store.prefix());
    let bound = bound_ms(older_than);
    let mut conn = store.connection();
    let mut cursor: u64 = 0;
    let mut removed: u64 = 0;
    loop {
        // Only hashes: items and tombstones are hashes. (The script checks again: a key
        // can change between the step and the script.)
        let step: redis::RedisResult<(u64, Vec<Vec<u8>>)> = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern.as_slice())
            .arg("COUNT")
            .arg(SCAN_COUNT)
            .arg("TYPE")
            .arg("hash")
            .query_async(&mut conn)
            .await;
        let (next, keys) = step.map_err(|err| after(removed, from_redis(err, Applied::No)))?;
        if !keys.is_empty() {
            let reply = store
                .run(&scripts().purge, &keys, &[bound.as_bytes()])
                .await
                .map_err(|err| after(removed, from_redis(err, Applied::Maybe)))?;
            removed += reply::purged(reply).map_err(|err| after(removed, err))?;
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    tracing::debug!(removed, ?older_than, "purged tombstones");
    Ok(removed)
}

/// The `SCAN` pattern of every key of the store: its hash tag, then anything. A
/// prefix holds no glob character (see [`Prefix`](crate::Prefix)), and no other
/// store's key starts with this tag: the tag ends at the first `}`.
fn pattern(prefix: &str) -> Vec<u8> {
    format!("{{{prefix}}}*").into_bytes()
}

/// The bound in whole milliseconds, rounded up (the scripts' clock counts whole
/// milliseconds: rounding down could purge a tombstone younger than asked).
fn bound_ms(older_than: Duration) -> String {
    let nanos = older_than.as_nanos();
    let ms = nanos.div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX).to_string()
}

/// A failure after earlier steps removed tombstones has changed the store: it is
/// reported as maybe applied, whatever the failed step itself did.
fn after(removed: u64, err: StorageError) -> StorageError {
    if removed == 0 {
        return err;
    }
    let (kind, _, source) = err.into_parts();
    StorageError::maybe_applied(kind, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_rounds_up_to_whole_milliseconds() {
        assert_eq!(bound_ms(Duration::ZERO), "0");
        assert_eq!(bound_ms(Duration::from_micros(1)), "1");
        assert_eq!(bound_ms(Duration::from_millis(1500)), "1500");
        assert_eq!(bound_ms(Duration::from_nanos(1_500_000_001)), "1501");
        assert_eq!(bound_ms(Duration::MAX), u64::MAX.to_string());
    }

    #[test]
    fn the_pattern_is_the_hash_tag() {
        assert_eq!(pattern("orders:v1"), b"{orders:v1}*");
    }
}

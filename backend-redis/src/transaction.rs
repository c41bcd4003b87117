//! [`Storage::commit`](optimist_core::Storage::commit): a transaction's writes as one
//! `commit.lua` call, one round trip, all or nothing.

use optimist_core::{Applied, CommitOutcome, StorageError, Write};

use crate::RedisStore;
use crate::error::from_redis;
use crate::item::WriteArgs;
use crate::reply;
use crate::scripts::scripts;

/// Sends every write to `commit.lua`, which judges them all before it writes any
/// and, if it refuses one, answers every refused write with its current record. The
/// writes share one token, stored with what each leaves.
pub(crate) async fn commit(
    store: &RedisStore,
    writes: &[Write<'_>],
    tombstones: bool,
) -> Result<CommitOutcome, StorageError> {
    // The partitions set, then each write's key and its partition's index.
    let mut keys: Vec<Vec<u8>> = Vec::with_capacity(1 + 2 * writes.len());
    keys.push(store.key_prefix().partitions_key());
    for write in writes {
        keys.push(store.redis_key(write.key));
        keys.push(store.key_prefix().index_key(write.key.partition()));
    }
    let encoded = writes
        .iter()
        .map(|write| WriteArgs::new(write, tombstones))
        .collect::<Result<Vec<_>, _>>()?;
    let mut args = Vec::with_capacity(7 * writes.len());
    for write in &encoded {
        write.push_to(&mut args);
    }
    let reply = store
        .run(&scripts().commit, &keys, &args)
        .await
        .map_err(|err| from_redis(err, Applied::Maybe))?;
    reply::commit(reply, writes.len())
}

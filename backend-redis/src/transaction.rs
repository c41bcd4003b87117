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
    let keys: Vec<Vec<u8>> = writes.iter().map(|w| store.redis_key(w.key)).collect();
    let encoded = writes
        .iter()
        .map(|write| WriteArgs::new(write, tombstones))
        .collect::<Result<Vec<_>, _>>()?;
    let mut args = Vec::with_capacity(5 * writes.len());
    for write in &encoded {
        write.push_to(&mut args);
    }
    let reply = store
        .run(&scripts().commit, &keys, &args)
        .await
        .map_err(|err| from_redis(err, Applied::Maybe))?;
    reply::commit(reply, writes.len())
}

//! [`Storage::commit`](optimist_core::Storage::commit): a transaction's writes as one
//! `commit.lua` call, one round trip, all or nothing.

use optimist_core::{Applied, CommitOutcome, ErrorKind, StorageError, Write};

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
    let spell = store.keys();
    // One partitions set for all: on a cluster core's engine lets through only
    // transactions within one partition (Capabilities::transactions_span_partitions),
    // and this checks it again rather than send a script the cluster would refuse.
    let Some(first) = writes.first() else {
        return Err(StorageError::not_applied(
            ErrorKind::Rejected,
            "a transaction without writes",
        ));
    };
    let bucket = spell.bucket(first.key.partition());
    if writes
        .iter()
        .any(|write| spell.bucket(write.key.partition()) != bucket)
    {
        return Err(StorageError::not_applied(
            ErrorKind::Rejected,
            "a transaction across partitions of different hash slots, which a Redis \
             Cluster cannot run as one script",
        ));
    }
    // The partitions set, then each write's key and its partition's index.
    let mut keys: Vec<Vec<u8>> = Vec::with_capacity(1 + 2 * writes.len());
    keys.push(spell.bucket_partitions(bucket));
    for write in writes {
        keys.push(spell.item(write.key));
        keys.push(spell.index(write.key.partition()));
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

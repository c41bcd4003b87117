//! [`Storage::read_many`](optimist_core::Storage::read_many): `read_many.lua` on the
//! keys, once for one server, once per bucket on a cluster (a script reads one hash
//! slot), the buckets' scripts all sent at once.

use futures_util::future::try_join_all;
use optimist_core::{Applied, Key, Record, StorageError};

use crate::RedisStore;
use crate::error::from_redis;
use crate::reply;
use crate::scripts::scripts;

/// The records of `keys`, in order.
pub(crate) async fn read(
    store: &RedisStore,
    keys: &[Key],
) -> Result<Vec<Option<Record>>, StorageError> {
    let spell = store.keys();
    // The keys of each bucket, in order of first appearance, with their positions.
    let mut groups: Vec<(u16, Vec<usize>)> = Vec::new();
    for (at, key) in keys.iter().enumerate() {
        let bucket = spell.bucket(key.partition());
        match groups.iter_mut().find(|(b, _)| *b == bucket) {
            Some((_, positions)) => positions.push(at),
            None => groups.push((bucket, vec![at])),
        }
    }
    let reads = groups.iter().map(|(_, positions)| async move {
        let redis_keys: Vec<Vec<u8>> = positions
            .iter()
            .filter_map(|&at| keys.get(at))
            .map(|key| spell.item(key))
            .collect();
        let reply = store
            .run(&scripts().read_many, &redis_keys, &[])
            .await
            .map_err(|err| from_redis(err, Applied::No))?;
        reply::many(reply, redis_keys.len())
    });
    let answers = try_join_all(reads).await?;
    let mut records: Vec<Option<Record>> = vec![None; keys.len()];
    for ((_, positions), answer) in groups.iter().zip(answers) {
        for (&at, record) in positions.iter().zip(answer) {
            if let Some(slot) = records.get_mut(at) {
                *slot = record;
            }
        }
    }
    Ok(records)
}

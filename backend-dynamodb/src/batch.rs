//! `get_many`: the keys read with `BatchGetItem`, 100 keys a request (the service's
//! limit), each strongly consistent (`ConsistentRead`).
//!
//! The service answers the items of a batch in any order, so each is put back in its
//! key's place by the key attributes it holds. Keys it answers as `UnprocessedKeys`
//! are sent again after a backoff of the store's retry policy. DynamoDB leaves keys
//! unprocessed when the answer would pass 16 MB or 1 MB of one partition, or when part
//! of the batch is throttled: an answer that processed some keys is progress, and its
//! rest is sent again after the policy's first backoff. Only answers that processed
//! none count against the policy's attempts: when that many come in a row, the read
//! fails `Busy` with nothing applied (a read writes nothing), and the engine may send
//! the whole batch again within the same policy. (DynamoDB answers a batch it cannot
//! serve at all with `ProvisionedThroughputExceededException`, which the engine resends
//! as any throttled read.)

use std::collections::HashMap;

use aws_sdk_dynamodb::types::KeysAndAttributes;
use optimist_core::{Applied, ErrorKind, Key, Record, Storage, StorageError};

use crate::DynamoDbStore;
use crate::error::{DynamoDbError, from_sdk, unbuildable};
use crate::item::{Item, answered_key, decode, key_item};

/// The most keys one `BatchGetItem` takes.
pub(crate) const BATCH_GET_MAX_KEYS: usize = 100;

/// The records of `keys` (distinct), in the order asked; `None` where a key holds
/// nothing. One `BatchGetItem` per 100 keys when nothing is left unprocessed.
pub(crate) async fn read_many(
    store: &DynamoDbStore,
    keys: &[Key],
) -> Result<Vec<Option<Record>>, StorageError> {
    let mut records = vec![None; keys.len()];
    for (keys, records) in keys
        .chunks(BATCH_GET_MAX_KEYS)
        .zip(records.chunks_mut(BATCH_GET_MAX_KEYS))
    {
        read_batch(store, keys, records).await?;
    }
    Ok(records)
}

/// One batch of at most 100 keys into `records` (the same length), resending the
/// unprocessed keys within the retry policy.
async fn read_batch(
    store: &DynamoDbStore,
    keys: &[Key],
    records: &mut [Option<Record>],
) -> Result<(), StorageError> {
    let table = store.table_description();
    let places: HashMap<&Key, usize> = keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let mut pending: Vec<Item> = keys.iter().map(|key| key_item(table, key)).collect();
    let policy = store.retry_policy();
    let mut requests = 0;
    // Answers in a row that processed none of the keys sent.
    let mut stalled = 0;
    loop {
        requests += 1;
        let sent = pending.len();
        let answer = send(store, pending).await?;
        for item in answer.items {
            let key = answered_key(table, &item)?;
            let Some(&place) = places.get(&key) else {
                return Err(StorageError::corrupt(DynamoDbError::UnreadableItem(
                    format!("BatchGetItem answered {key}, which was not asked for"),
                )));
            };
            records[place] = Some(decode(table, &key, &item)?);
        }
        let unprocessed = answer.unprocessed.len();
        if unprocessed == 0 {
            return Ok(());
        }
        if unprocessed < sent {
            stalled = 0;
        } else {
            stalled += 1;
            if stalled >= policy.max_attempts() {
                let exhausted = DynamoDbError::UnprocessedKeys {
                    unprocessed,
                    requests,
                };
                return Err(StorageError::not_applied(ErrorKind::Busy, exhausted));
            }
        }
        let pause = policy.delay(stalled.max(1));
        tracing::debug!(
            unprocessed,
            requests,
            stalled,
            ?pause,
            "BatchGetItem left keys unprocessed; sending them again"
        );
        tokio::time::sleep(pause).await;
        pending = answer.unprocessed;
    }
}

/// What one `BatchGetItem` answered for the store's table.
struct Answer {
    items: Vec<Item>,
    unprocessed: Vec<Item>,
}

/// One consistent `BatchGetItem` of these keys (at most 100).
async fn send(store: &DynamoDbStore, keys: Vec<Item>) -> Result<Answer, StorageError> {
    let table = store.table_description();
    let request = KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .consistent_read(true)
        .build()
        .map_err(unbuildable)?;
    let output = store
        .requests()
        .batch_get_item()
        .request_items(table.name(), request)
        .send()
        .await
        .map_err(|e| from_sdk(e, Applied::No, table.name()))?;
    let items = output
        .responses
        .and_then(|mut tables| tables.remove(table.name()))
        .unwrap_or_default();
    let unprocessed = output
        .unprocessed_keys
        .and_then(|mut tables| tables.remove(table.name()))
        .map(|request| request.keys)
        .unwrap_or_default();
    Ok(Answer { items, unprocessed })
}

//! `purge_tombstones`: the sweep you call, next to DynamoDB's time to live.
//!
//! One strongly consistent `Scan` of the table (page by page) for records whose deleted
//! attribute is older than the cutoff, and for each one `DeleteItem` on condition that
//! it is still exactly that tombstone: same deletion time, version and token. A key
//! written since holds another record and keeps it. Throttled requests are sent again
//! within the store's retry policy (the engine does not resend a purge); a conditional
//! delete is never sent again after a lost answer, so the count stays exact.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use optimist_core::retry::retry_transient;
use optimist_core::{Applied, ErrorKind, Storage, StorageError};

use crate::DynamoDbStore;
use crate::error::{DynamoDbError, from_sdk};
use crate::item::Item;

/// Removes the tombstones left more than `older_than` ago; how many it removed.
pub(crate) async fn purge(
    store: &DynamoDbStore,
    older_than: Duration,
) -> Result<u64, StorageError> {
    if !store.tombstones() {
        return Err(StorageError::not_applied(
            ErrorKind::Rejected,
            "this DynamoDB store keeps no tombstones (the builder's tombstones(true) is off)",
        ));
    }
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let Some(cutoff) = since_epoch.checked_sub(older_than) else {
        // Older than the epoch: no tombstone can be.
        return Ok(0);
    };
    let cutoff = AttributeValue::N(cutoff.as_millis().to_string());
    let policy = store.retry_policy();
    let mut removed = 0;
    let mut start: Option<Item> = None;
    loop {
        let page = retry_transient(policy, || scan_page(store, &cutoff, start.clone()))
            .await
            .result
            .map_err(|err| interrupted(err, removed))?;
        for tombstone in &page.tombstones {
            let deleted = retry_transient(policy, || delete_if_unchanged(store, tombstone))
                .await
                .result
                .map_err(|err| interrupted(err, removed))?;
            removed += u64::from(deleted);
        }
        match page.next {
            Some(next) => start = Some(next),
            None => break,
        }
    }
    tracing::debug!(removed, ?older_than, "purged tombstones");
    Ok(removed)
}

/// One page of the scan: the tombstones on it, and where the next page starts.
struct Page {
    tombstones: Vec<Item>,
    next: Option<Item>,
}

/// One consistent `Scan` page of the tombstones deleted before `cutoff`, with the
/// attributes that identify each: key, version, token, deletion time.
async fn scan_page(
    store: &DynamoDbStore,
    cutoff: &AttributeValue,
    start: Option<Item>,
) -> Result<Page, StorageError> {
    let table = store.table_description();
    let mut names = HashMap::from([
        ("#pk".to_string(), table.partition_key().to_string()),
        ("#v".to_string(), table.version_attribute().to_string()),
        ("#t".to_string(), table.token_attribute().to_string()),
        ("#d".to_string(), table.deleted_attribute().to_string()),
    ]);
    let mut projection = "#pk, #v, #t, #d".to_string();
    if let Some(sort_key) = table.sort_key() {
        names.insert("#sk".to_string(), sort_key.to_string());
        projection.push_str(", #sk");
    }
    let output = store
        .requests()
        .scan()
        .table_name(table.name())
        .consistent_read(true)
        // A deleted attribute that is not a number compares false: never purged.
        .filter_expression("#d < :cutoff")
        .projection_expression(projection)
        .set_expression_attribute_names(Some(names))
        .expression_attribute_values(":cutoff", cutoff.clone())
        .set_exclusive_start_key(start)
        .send()
        .await
        .map_err(|e| from_sdk(e, Applied::No, table.name()))?;
    Ok(Page {
        tombstones: output.items.unwrap_or_default(),
        next: output.last_evaluated_key.filter(|key| !key.is_empty()),
    })
}

/// `DeleteItem` of `tombstone` (as the scan saw it) on condition that the key still
/// holds exactly it; whether it was deleted.
async fn delete_if_unchanged(
    store: &DynamoDbStore,
    tombstone: &Item,
) -> Result<bool, StorageError> {
    let table = store.table_description();
    let mut key = Item::new();
    for name in std::iter::once(table.partition_key()).chain(table.sort_key()) {
        if let Some(value) = tombstone.get(name) {
            key.insert(name.to_string(), value.clone());
        }
    }
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut parts = Vec::new();
    for (placeholder, attribute) in [
        ("d", table.deleted_attribute()),
        ("v", table.version_attribute()),
        ("t", table.token_attribute()),
    ] {
        names.insert(format!("#{placeholder}"), attribute.to_string());
        match tombstone.get(attribute) {
            Some(value) => {
                values.insert(format!(":{placeholder}"), value.clone());
                parts.push(format!("#{placeholder} = :{placeholder}"));
            }
            None => parts.push(format!("attribute_not_exists(#{placeholder})")),
        }
    }
    let result = store
        .requests()
        .delete_item()
        .table_name(table.name())
        .set_key(Some(key))
        .condition_expression(parts.join(" AND "))
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values).filter(|v| !v.is_empty()))
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(err) => match err.as_service_error() {
            // Written since: the key keeps its record.
            Some(DeleteItemError::ConditionalCheckFailedException(_)) => Ok(false),
            _ => Err(from_sdk(err, Applied::Maybe, table.name())),
        },
    }
}

/// A failure after `removed` tombstones were removed: those stay removed, so the
/// purge is no longer a failure that changed nothing.
fn interrupted(err: StorageError, removed: u64) -> StorageError {
    if removed == 0 {
        return err;
    }
    let (kind, _, source) = err.into_parts();
    StorageError::maybe_applied(kind, DynamoDbError::PurgeInterrupted { removed, source })
}

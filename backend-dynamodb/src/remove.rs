//! `remove` (a delete under [`Expect::Any`](optimist_core::Expect::Any)): delete the
//! item whatever its version; on a key holding nothing or a tombstone, write nothing.
//!
//! - Default mode: one `DeleteItem` on condition `attribute_not_exists(deleted)` (any
//!   live item, or nothing), returning the old item for its version. The condition
//!   only fails on a tombstone (left by a store in tombstone mode on the same table),
//!   which the failure returns: the remove then wrote nothing, as it must.
//! - Tombstone mode: the tombstone must keep the item's version, which a `PutItem`
//!   cannot compute, and `UpdateItem` cannot remove attributes it does not know of.
//!   So one consistent `GetItem` learns the record; on a live item at `v`, one
//!   `PutItem` of the tombstone at `v` on condition that the item is still at `v`; a
//!   refusal returns the record and the next round is conditioned on it, as in
//!   [`crate::put`]. Nothing or a tombstone: nothing to write, and the read (or the
//!   refusal) that showed it is the moment the remove took effect.
//!
//! In both modes a lost answer goes to core's engine; in the default mode the remove
//! leaves no record to carry its token, so it ends as `Indeterminate`.

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use optimist_core::{Applied, Decision, ErrorKind, Held, Outcome, StorageError, Write};

use crate::DynamoDbStore;
use crate::condition::{Condition, Requirement};
use crate::error::{from_sdk, unreadable};
use crate::item::{key_item, version_of};
use crate::put::{WRITE_ROUNDS, contention};

/// `remove` in the store's mode.
pub(crate) async fn remove(
    store: &DynamoDbStore,
    write: &Write<'_>,
) -> Result<Outcome, StorageError> {
    if store.tombstones() {
        bury(store, write).await
    } else {
        delete(store, write).await
    }
}

/// Default mode: `DeleteItem` of anything but a tombstone.
async fn delete(store: &DynamoDbStore, write: &Write<'_>) -> Result<Outcome, StorageError> {
    let table = store.table_description();
    let key = write.key;
    let requirement = Requirement::NoTombstone;
    for _ in 0..WRITE_ROUNDS {
        let condition = Condition::new(table, requirement);
        let result = store
            .requests()
            .delete_item()
            .table_name(table.name())
            .set_key(Some(key_item(table, key)))
            .condition_expression(condition.expression)
            .set_expression_attribute_names(Some(condition.names))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let failed = match result {
            Ok(output) => {
                let previous = match output.attributes.filter(|item| !item.is_empty()) {
                    None => Held::Nothing,
                    Some(item) => Held::Item(version_of(table, &item).map_err(|reason| {
                        // The item is gone: the error must not say that nothing was written.
                        let (kind, _, source) = unreadable(key, reason).into_parts();
                        StorageError::maybe_applied(kind, source)
                    })?),
                };
                return Ok(Outcome::Applied { previous });
            }
            Err(err) => match err.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(failed)) => {
                    failed.item().cloned()
                }
                _ => return Err(from_sdk(err, Applied::Maybe, table.name())),
            },
        };
        let current = store.refused_record(key, requirement, failed).await?;
        match Held::of(current.as_ref()) {
            // A tombstone (or, read after the failure, nothing): nothing to delete.
            held @ (Held::Tombstone(_) | Held::Nothing) => {
                return Ok(Outcome::Applied { previous: held });
            }
            // The tombstone was replaced by an item between the failure and the read.
            Held::Item(_) => continue,
        }
    }
    Err(contention())
}

/// Tombstone mode: replace a live item by its tombstone.
async fn bury(store: &DynamoDbStore, write: &Write<'_>) -> Result<Outcome, StorageError> {
    let mut current = store.get_record(write.key).await?;
    for _ in 0..WRITE_ROUNDS {
        let held = Held::of(current.as_ref());
        let version = match (write.decide(held), held) {
            (Decision::Delete, Held::Item(version)) => version,
            // Nothing or a tombstone: the remove writes nothing.
            (Decision::Keep, _) => return Ok(Outcome::Applied { previous: held }),
            (Decision::Refuse, _) => return Ok(Outcome::Refused { current }),
            _ => {
                return Err(StorageError::not_applied(
                    ErrorKind::Other,
                    "a remove was judged to be something else",
                ));
            }
        };
        let tombstone = store.tombstone(write, version);
        match store.put_item(write.key, tombstone, held).await? {
            Outcome::Refused { current: now } => current = now,
            applied @ Outcome::Applied { .. } => return Ok(applied),
        }
    }
    Err(contention())
}

//! [`Storage::commit`](optimist_core::Storage::commit) as one `TransactWriteItems`.
//!
//! Puts are `Put` items (the whole item), deletes `Delete` items, checks
//! `ConditionCheck`s. Every conditional item asks for the current item on failure, and
//! `CancellationReasons` come back one per item in request order, so every refused
//! write is listed with its item. A put under `Expect::Any` guesses the item's state as
//! [`crate::put`] does: when only such guesses fail, the returned items give the real
//! versions and the transaction is sent again with them (each round with its own
//! `ClientRequestToken`).

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, Get, Put, ReturnValuesOnConditionCheckFailure, TransactGetItem,
    TransactWriteItem,
};
use optimist_core::{
    Applied, Change, CommitOutcome, Decision, Expect, StorageError, Value, Version, Versioned,
    Write,
};

use crate::condition::{Condition, Requirement};
use crate::error::{DynamoDbError, cancelled, from_sdk, unbuildable};
use crate::item::{Item, decode, full_item, key_item};
use crate::put::{WRITE_ROUNDS, contention};
use crate::size::item_size;
use crate::store::once;
use crate::{ConflictItems, DynamoDbStore};

/// DynamoDB's limit on the total size of one transaction.
const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

/// What one round learned about the items of puts under `Expect::Any`: per write, the
/// item as it was last seen (`None`: absent, or not such a put).
type Guesses = Vec<Option<Versioned<Value>>>;

pub(crate) async fn commit(
    store: &DynamoDbStore,
    writes: &[Write<'_>],
) -> Result<CommitOutcome, StorageError> {
    let table = store.table_description();
    let mut guesses: Guesses = vec![None; writes.len()];
    for _ in 0..WRITE_ROUNDS {
        let items = request_items(store, writes, &guesses)?;
        // One token per round: each round is a different request.
        let result = store
            .client()
            .transact_write_items()
            .set_transact_items(Some(items))
            .client_request_token(format!("{:032x}", rand::random::<u128>()))
            .customize()
            .config_override(once())
            .send()
            .await;
        let err = match result {
            Ok(_) => {
                let previous = writes
                    .iter()
                    .zip(&guesses)
                    .map(|(write, guess)| previous(write, guess))
                    .collect();
                return Ok(CommitOutcome::Applied { previous });
            }
            Err(err) => err,
        };
        let reasons = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                e.cancellation_reasons().to_vec()
            }
            _ => return Err(from_sdk(err, Applied::Maybe, table.name())),
        };
        let failed: Vec<(usize, Option<Item>)> = reasons
            .iter()
            .enumerate()
            .filter(|(index, r)| {
                *index < writes.len() && r.code() == Some("ConditionalCheckFailed")
            })
            .map(|(index, r)| (index, r.item().cloned().filter(|i| !i.is_empty())))
            .collect();
        if failed.is_empty() {
            return Err(cancelled(err, &reasons, table.name()));
        }
        let refused = match states(store, writes, failed).await? {
            States::Returned(states) => {
                let mut refused = Vec::new();
                for (index, state) in states {
                    if is_guess(&writes[index]) {
                        guesses[index] = state;
                        refused.extend(exhausted(&writes[index], index, &guesses[index]));
                    } else {
                        // Core judges it; an item that meets the precondition means it
                        // changed meanwhile, and core sends the transaction again.
                        refused.push((index, state));
                    }
                }
                refused
            }
            States::Snapshot(states) => {
                let mut refused = Vec::new();
                for (index, (write, state)) in writes.iter().zip(states).enumerate() {
                    if is_guess(write) {
                        guesses[index] = state;
                        refused.extend(exhausted(write, index, &guesses[index]));
                    } else if write.decide(state.as_ref().map(|item| item.version))
                        == Decision::Refuse
                    {
                        refused.push((index, state));
                    }
                }
                refused
            }
        };
        if !refused.is_empty() {
            return Ok(CommitOutcome::Refused { current: refused });
        }
        // Only guesses failed, or every failed condition holds in the snapshot (the
        // items moved on): go round.
    }
    Err(contention())
}

/// The items of the failed conditions.
enum States {
    /// Each failed write's item as it came with its failure (or `None`, trusted to
    /// mean absent).
    Returned(Vec<(usize, Option<Versioned<Value>>)>),
    /// Every write's item, read at one instant after a failure came without its item.
    Snapshot(Vec<Option<Versioned<Value>>>),
}

/// The state of each failed write when its condition failed. Where the service
/// returned no item and is not trusted to mean "absent", every write is judged instead
/// against one consistent snapshot of all the keys, so the refusals reported all hold
/// at one instant (contract R13): reading only the failed key later would mix two
/// instants.
async fn states(
    store: &DynamoDbStore,
    writes: &[Write<'_>],
    failed: Vec<(usize, Option<Item>)>,
) -> Result<States, StorageError> {
    let trust = store.conflict_items() == ConflictItems::Returned;
    if !trust && failed.iter().any(|(_, item)| item.is_none()) {
        return snapshot(store, writes).await.map(States::Snapshot);
    }
    let table = store.table_description();
    let mut states = Vec::with_capacity(failed.len());
    for (index, item) in failed {
        let state = match item {
            Some(item) => Some(decode(table, writes[index].key, &item)?),
            None => None,
        };
        states.push((index, state));
    }
    Ok(States::Returned(states))
}

/// Every write's item at one instant: one `TransactGetItems`.
async fn snapshot(
    store: &DynamoDbStore,
    writes: &[Write<'_>],
) -> Result<Vec<Option<Versioned<Value>>>, StorageError> {
    let table = store.table_description();
    let mut gets = Vec::with_capacity(writes.len());
    for write in writes {
        let get = Get::builder()
            .table_name(table.name())
            .set_key(Some(key_item(table, write.key)))
            .build()
            .map_err(unbuildable)?;
        gets.push(TransactGetItem::builder().get(get).build());
    }
    tracing::debug!(
        writes = writes.len(),
        "a failed condition came without its item; reading every key at once"
    );
    let output = store
        .client()
        .transact_get_items()
        .set_transact_items(Some(gets))
        .customize()
        .config_override(once())
        .send()
        .await
        .map_err(|e| from_sdk(e, Applied::No, table.name()))?;
    let responses = output.responses.unwrap_or_default();
    let mut items = Vec::with_capacity(writes.len());
    for (index, write) in writes.iter().enumerate() {
        let item = responses
            .get(index)
            .and_then(|r| r.item.as_ref())
            .filter(|i| !i.is_empty());
        items.push(match item {
            Some(item) => Some(decode(table, write.key, item)?),
            None => None,
        });
    }
    Ok(items)
}

/// Whether the write is a put under `Expect::Any`, whose condition is a guess.
fn is_guess(write: &Write<'_>) -> bool {
    matches!((write.change, write.expect), (Change::Put(_), Expect::Any))
}

/// A guessing put whose item is at `u64::MAX`: no put can follow it, a refusal.
fn exhausted(
    write: &Write<'_>,
    index: usize,
    current: &Option<Versioned<Value>>,
) -> Option<(usize, Option<Versioned<Value>>)> {
    let version = current.as_ref().map(|item| item.version);
    (write.decide(version) == Decision::Refuse).then(|| (index, current.clone()))
}

/// The version a write's item had before an applied round: the one its condition
/// required. An unconditional delete does not learn it (`TransactWriteItems` returns
/// no old items) and reports `None`; core does not use it, as a transaction's
/// remove returns no version.
fn previous(write: &Write<'_>, guess: &Option<Versioned<Value>>) -> Option<Version> {
    match write.expect {
        Expect::Absent => None,
        Expect::At(version) => Some(version),
        Expect::Any => guess.as_ref().map(|item| item.version),
    }
}

/// The request's items for this round, checked against DynamoDB's size limits.
fn request_items(
    store: &DynamoDbStore,
    writes: &[Write<'_>],
    guesses: &Guesses,
) -> Result<Vec<TransactWriteItem>, StorageError> {
    let table = store.table_description();
    let mut items = Vec::with_capacity(writes.len());
    let mut total = 0;
    for (write, guess) in writes.iter().zip(guesses) {
        let key = write.key;
        // The state the write requires, and the version it stores.
        let put = match (write.change, write.expect) {
            (Change::Put(value), Expect::Any) => {
                let state = guess.as_ref().map(|item| item.version);
                match write.decide(state) {
                    Decision::Put(version) => Some((value, Requirement::state(state), version)),
                    _ => None,
                }
            }
            (Change::Put(value), expect) => write
                .new_version()
                .map(|version| (value, Requirement::of(expect), version)),
            _ => None,
        };
        let on_failure = ReturnValuesOnConditionCheckFailure::AllOld;
        let item = match (write.change, put) {
            (Change::Put(value), Some((_, requirement, version))) => {
                let item = full_item(table, key, value, version);
                total += store.check_item_size(key, &item)?;
                let c = Condition::new(table, requirement);
                Put::builder()
                    .table_name(table.name())
                    .set_item(Some(item))
                    .condition_expression(c.expression)
                    .set_expression_attribute_names(Some(c.names))
                    .set_expression_attribute_values(c.values)
                    .return_values_on_condition_check_failure(on_failure)
                    .build()
                    .map(|put| TransactWriteItem::builder().put(put).build())
            }
            (Change::Delete, _) => {
                let k = key_item(table, key);
                total += item_size(&k);
                let delete = Delete::builder().table_name(table.name()).set_key(Some(k));
                let delete = match write.expect {
                    // remove: unconditional.
                    Expect::Any => delete,
                    expect => {
                        let c = Condition::new(table, Requirement::of(expect));
                        delete
                            .condition_expression(c.expression)
                            .set_expression_attribute_names(Some(c.names))
                            .set_expression_attribute_values(c.values)
                            .return_values_on_condition_check_failure(on_failure)
                    }
                };
                delete
                    .build()
                    .map(|delete| TransactWriteItem::builder().delete(delete).build())
            }
            // A check; or a put no version can follow (at u64::MAX), sent as a check
            // that always fails, so its item comes back and every other condition is
            // still judged.
            (change, _) => {
                let requirement = match change {
                    Change::Keep => Requirement::of(write.expect),
                    Change::Put(_) | Change::Delete => Requirement::Never,
                };
                let k = key_item(table, key);
                total += item_size(&k);
                let c = Condition::new(table, requirement);
                ConditionCheck::builder()
                    .table_name(table.name())
                    .set_key(Some(k))
                    .condition_expression(c.expression)
                    .set_expression_attribute_names(Some(c.names))
                    .set_expression_attribute_values(c.values)
                    .return_values_on_condition_check_failure(on_failure)
                    .build()
                    .map(|check| TransactWriteItem::builder().condition_check(check).build())
            }
        };
        items.push(item.map_err(unbuildable)?);
    }
    if total > MAX_TRANSACTION_BYTES {
        let too_large = DynamoDbError::TransactionTooLarge {
            size: total,
            limit: MAX_TRANSACTION_BYTES,
        };
        return Err(StorageError::invalid_input(too_large));
    }
    Ok(items)
}

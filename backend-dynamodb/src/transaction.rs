//! [`Storage::commit`](optimist_core::Storage::commit) as one `TransactWriteItems`.
//!
//! Puts are `Put` items (the whole item, with the transaction's token), deletes
//! `Delete` items (in tombstone mode a `Put` of the tombstone), checks
//! `ConditionCheck`s. Every item asks for the current item on failure, and
//! `CancellationReasons` come back one per item in request order, so every refused
//! write is listed with its record. A write under `Expect::Any` guesses the key's state
//! as [`crate::put`] and [`crate::remove`] do: when only such guesses fail, the
//! returned records give the real states and the transaction is sent again with them
//! (each round with its own `ClientRequestToken`).

use std::time::SystemTime;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, Get, Put, ReturnValuesOnConditionCheckFailure, TransactGetItem,
    TransactWriteItem,
};
use optimist_core::{
    Applied, Change, CommitOutcome, Decision, Expect, Held, Record, StorageError, Value, Version,
    Write,
};

use crate::condition::{Condition, Requirement};
use crate::error::{DynamoDbError, cancelled, from_sdk, unbuildable};
use crate::item::{Item, decode, full_item, key_item, tombstone_item};
use crate::put::{WRITE_ROUNDS, contention};
use crate::size::item_size;
use crate::{ConflictItems, DynamoDbStore};

/// DynamoDB's limit on the total size of one transaction.
const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

/// What the rounds learned about the keys of writes under `Expect::Any`: per write, the
/// record as it was last seen (`None`: nothing, or not such a write).
type Seen = Vec<Option<Record>>;

/// What one write sends in one round.
#[derive(Clone, Copy, Debug)]
struct Plan<'a> {
    action: Action<'a>,
    requirement: Requirement,
    /// What the key holds before the round, if it applies. For a remove in the default
    /// mode it is a guess: `TransactWriteItems` returns no old items, and core uses no
    /// previous state of a transaction's delete.
    previous: Held,
}

#[derive(Clone, Copy, Debug)]
enum Action<'a> {
    /// `Put` of the document at this version.
    Document(&'a Value, Version),
    /// `Put` of the tombstone of the item at this version.
    Tombstone(Version),
    /// `Delete` of the item.
    Delete,
    /// `ConditionCheck`: nothing written.
    Check,
}

pub(crate) async fn commit(
    store: &DynamoDbStore,
    writes: &[Write<'_>],
) -> Result<CommitOutcome, StorageError> {
    let table = store.table_description();
    let mut seen: Seen = vec![None; writes.len()];
    // Each guessing write's guess: first the state the store last saw (as a put's,
    // see `crate::put`), else nothing; then the record a refusal returned.
    let mut guesses: Vec<Held> = writes
        .iter()
        .map(|write| first_guess(store, write))
        .collect();
    for _ in 0..WRITE_ROUNDS {
        let plans: Vec<Plan<'_>> = writes
            .iter()
            .zip(&guesses)
            .map(|(write, guess)| plan(store, write, *guess))
            .collect();
        let items = request_items(store, writes, &plans)?;
        // One token per round: each round is a different request.
        let result = store
            .requests()
            .transact_write_items()
            .set_transact_items(Some(items))
            .client_request_token(format!("{:032x}", rand::random::<u128>()))
            .send()
            .await;
        let err = match result {
            Ok(_) => {
                let previous = plans.iter().map(|plan| plan.previous).collect();
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
        let refused = match states(store, writes, &plans, failed).await? {
            States::Returned(states) => {
                let mut refused = Vec::new();
                for (index, state) in states {
                    if is_guess(&writes[index]) {
                        guesses[index] = Held::of(state.as_ref());
                        seen[index] = state;
                        refused.extend(exhausted(&writes[index], index, &seen[index]));
                    } else {
                        // Core judges it; a record that meets the precondition means it
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
                        guesses[index] = Held::of(state.as_ref());
                        seen[index] = state;
                        refused.extend(exhausted(write, index, &seen[index]));
                    } else if write.decide(Held::of(state.as_ref())) == Decision::Refuse {
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
        // records moved on): go round.
    }
    Err(contention())
}

/// What `write` sends when its key is (guessed to be) in state `held`.
fn plan<'a>(store: &DynamoDbStore, write: &Write<'a>, held: Held) -> Plan<'a> {
    let check = |requirement: Requirement, previous: Held| Plan {
        action: Action::Check,
        requirement,
        previous,
    };
    // A put no version can follow (at u64::MAX): a check that always fails, so its
    // record comes back and every other condition is still judged.
    let never = check(Requirement::Never, held);
    match (write.change, write.expect) {
        (Change::Put(value), Expect::Any) => match write.decide(held) {
            Decision::Put(version) => Plan {
                action: Action::Document(value, version),
                requirement: Requirement::held(held),
                previous: held,
            },
            _ => never,
        },
        (Change::Put(value), expect) => {
            match (write.new_version(), Requirement::of(expect).state()) {
                (Some(version), Some(expected)) => Plan {
                    action: Action::Document(value, version),
                    requirement: Requirement::held(expected),
                    previous: expected,
                },
                _ => never,
            }
        }
        (Change::Delete, Expect::Any) => match held {
            // A tombstone: nothing to write, as long as it is still there.
            Held::Tombstone(_) => check(Requirement::held(held), held),
            Held::Item(version) if store.tombstones() => Plan {
                action: Action::Tombstone(version),
                requirement: Requirement::held(held),
                previous: held,
            },
            Held::Nothing if store.tombstones() => check(Requirement::Absent, held),
            // Default mode: delete whatever item is there, but never a tombstone.
            _ => Plan {
                action: Action::Delete,
                requirement: Requirement::NoTombstone,
                previous: held,
            },
        },
        (Change::Delete, Expect::At(version)) => Plan {
            action: if store.tombstones() {
                Action::Tombstone(version)
            } else {
                Action::Delete
            },
            requirement: Requirement::Item(version),
            previous: Held::Item(version),
        },
        // A check, or a delete expecting nothing or a tombstone (nothing to write when
        // its precondition holds).
        (_, expect) => {
            let requirement = Requirement::of(expect);
            check(requirement, requirement.state().unwrap_or(held))
        }
    }
}

/// The records of the failed conditions.
enum States {
    /// Each failed write's record as it came with its failure (or `None`, trusted to
    /// mean nothing).
    Returned(Vec<(usize, Option<Record>)>),
    /// Every write's record, read at one instant after a failure came without its
    /// record.
    Snapshot(Vec<Option<Record>>),
}

/// The state of each failed write when its condition failed. Where the service
/// returned no item and is not trusted to mean "nothing", every write is judged instead
/// against one consistent snapshot of all the keys, so the refusals reported all hold
/// at one instant (contract R13): reading only the failed key later would mix two
/// instants.
async fn states(
    store: &DynamoDbStore,
    writes: &[Write<'_>],
    plans: &[Plan<'_>],
    failed: Vec<(usize, Option<Item>)>,
) -> Result<States, StorageError> {
    let trust = store.conflict_items() == ConflictItems::Returned;
    // A condition that a key holding nothing meets cannot fail on nothing: no item
    // back is then the server's omission, whatever the setting.
    let untrusted = |index: usize| !trust || plans[index].requirement.admits_nothing();
    if failed
        .iter()
        .any(|(index, item)| item.is_none() && untrusted(*index))
    {
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

/// Every write's record at one instant: one `TransactGetItems`.
async fn snapshot(
    store: &DynamoDbStore,
    writes: &[Write<'_>],
) -> Result<Vec<Option<Record>>, StorageError> {
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
        .requests()
        .transact_get_items()
        .set_transact_items(Some(gets))
        .send()
        .await
        .map_err(|e| from_sdk(e, Applied::No, table.name()))?;
    let responses = output.responses.unwrap_or_default();
    let mut records = Vec::with_capacity(writes.len());
    for (index, write) in writes.iter().enumerate() {
        let item = responses
            .get(index)
            .and_then(|r| r.item.as_ref())
            .filter(|i| !i.is_empty());
        records.push(match item {
            Some(item) => Some(decode(table, write.key, item)?),
            None => None,
        });
    }
    Ok(records)
}

/// A guessing write's first guess: what the store last saw the key hold, unless it is
/// unknown or no put can follow it (a refusal then needs the record); else nothing.
fn first_guess(store: &DynamoDbStore, write: &Write<'_>) -> Held {
    if !is_guess(write) {
        return Held::Nothing;
    }
    store
        .last_seen(write.key)
        .filter(|seen| write.decide(*seen) != Decision::Refuse)
        .unwrap_or(Held::Nothing)
}

/// Whether the write is a put or a remove under `Expect::Any`, whose condition is a
/// guess.
fn is_guess(write: &Write<'_>) -> bool {
    write.expect == Expect::Any && write.change != Change::Keep
}

/// A guessing put whose key's counter is at `u64::MAX`: no put can follow it, a
/// refusal.
fn exhausted(
    write: &Write<'_>,
    index: usize,
    current: &Option<Record>,
) -> Option<(usize, Option<Record>)> {
    (write.decide(Held::of(current.as_ref())) == Decision::Refuse).then(|| (index, current.clone()))
}

/// The request's items for this round, checked against DynamoDB's size limits.
fn request_items(
    store: &DynamoDbStore,
    writes: &[Write<'_>],
    plans: &[Plan<'_>],
) -> Result<Vec<TransactWriteItem>, StorageError> {
    let table = store.table_description();
    let now = SystemTime::now();
    let mut items = Vec::with_capacity(writes.len());
    let mut total = 0;
    for (write, plan) in writes.iter().zip(plans) {
        let key = write.key;
        let c = Condition::new(table, plan.requirement);
        let on_failure = ReturnValuesOnConditionCheckFailure::AllOld;
        let put = |item: Item| {
            Put::builder()
                .table_name(table.name())
                .set_item(Some(item))
                .condition_expression(c.expression.clone())
                .set_expression_attribute_names(Some(c.names.clone()))
                .set_expression_attribute_values(c.values.clone())
                .return_values_on_condition_check_failure(on_failure.clone())
                .build()
                .map(|put| TransactWriteItem::builder().put(put).build())
        };
        let item = match plan.action {
            Action::Document(value, version) => {
                let item = full_item(table, key, value, version, write.token);
                total += store.check_item_size(key, &item)?;
                put(item)
            }
            Action::Tombstone(version) => {
                let retention = store.tombstone_retention();
                let item = tombstone_item(table, key, version, write.token, now, retention);
                total += store.check_item_size(key, &item)?;
                put(item)
            }
            Action::Delete => {
                let k = key_item(table, key);
                total += item_size(&k);
                Delete::builder()
                    .table_name(table.name())
                    .set_key(Some(k))
                    .condition_expression(c.expression)
                    .set_expression_attribute_names(Some(c.names))
                    .set_expression_attribute_values(c.values)
                    .return_values_on_condition_check_failure(on_failure)
                    .build()
                    .map(|delete| TransactWriteItem::builder().delete(delete).build())
            }
            Action::Check => {
                let k = key_item(table, key);
                total += item_size(&k);
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

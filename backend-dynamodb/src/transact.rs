//! `transact` as one `TransactWriteItems`.
//!
//! Insert, Update and Put are `Put` items (the whole item), Delete and Remove are
//! `Delete` items, Check is a `ConditionCheck`. Every conditional item asks for the
//! current item on failure, and `CancellationReasons` come back one per item in
//! request order, so each failing op gets its conflict. Put guesses the key is new;
//! when only Put guesses fail, the returned items give the real versions and the
//! transaction is sent again with them (each send has its own `ClientRequestToken`).

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, Get, Put, ReturnValuesOnConditionCheckFailure, TransactGetItem,
    TransactWriteItem,
};
use optimist_core::{
    Error, OpFailure, Operation, Result, TxAction, TxOp, Value, Version, Versioned, validate,
};

use crate::error::{DynamoDbError, cancelled, map_sdk_error, transaction_not_applied, unreadable};
use crate::expr::{Expect, condition};
use crate::item::{from_item, full_item, key_item};
use crate::resend::send_write;
use crate::size::item_size;
use crate::store::{WRITE_ROUNDS, changed_meanwhile, contention, exhausted, judge, next_version};
use crate::{ConflictItems, DynamoDbStore};

/// DynamoDB's limit on the total size of one transaction.
const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

impl DynamoDbStore {
    pub(crate) async fn transact_ops(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        let operation = Operation::Transact;
        validate::transaction(&ops, self.capabilities_ref())?;
        let mut guesses = vec![Expect::Absent; ops.len()];
        for _ in 0..WRITE_ROUNDS {
            let (items, versions) = self.build(&ops, &guesses)?;
            // One token per round: a resend after a refusal that applied nothing is the
            // same request; the next round is a different one.
            let request = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .client_request_token(format!("{:032x}", rand::random::<u128>()));
            let result = send_write(&self.client, transaction_not_applied, |once| {
                request.clone().customize().config_override(once).send()
            })
            .await;
            let err = match result {
                Ok(_) => return Ok(versions),
                Err(err) => err,
            };
            let reasons = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                    e.cancellation_reasons().to_vec()
                }
                _ => return Err(map_sdk_error(err, operation, None, self.table.name(), true)),
            };
            let failed: Vec<(usize, Option<crate::item::Item>)> = reasons
                .iter()
                .enumerate()
                .filter(|(index, r)| {
                    *index < ops.len() && r.code() == Some("ConditionalCheckFailed")
                })
                .map(|(index, r)| (index, r.item().cloned().filter(|i| !i.is_empty())))
                .collect();
            if failed.is_empty() {
                return Err(cancelled(&reasons, self.table.name()));
            }
            // The state of each failed op when its condition failed. Where the service
            // returned no item and is not trusted to mean "absent", every op is judged
            // instead against one consistent snapshot of all the keys, so the reported
            // conflicts all hold at one instant (SPEC R13).
            let trust = self.conflict_items == ConflictItems::Returned;
            let snapshot = !trust && failed.iter().any(|(_, item)| item.is_none());
            let mut states: Vec<(usize, Option<Versioned<Value>>)> = Vec::new();
            if snapshot {
                let all = self.snapshot(&ops).await?;
                states.extend(
                    all.into_iter()
                        .enumerate()
                        .filter(|(index, _)| !matches!(ops[*index].action(), TxAction::Remove)),
                );
            } else {
                for (index, item) in failed {
                    let key = ops[index].key();
                    let state = match item {
                        Some(item) => Some(
                            from_item(&self.table, &item)
                                .map_err(|reason| unreadable(operation, key, reason))?,
                        ),
                        None => None,
                    };
                    states.push((index, state));
                }
            }
            let mut failures = Vec::new();
            let mut exhausted_at = None;
            for (index, state) in states {
                let op = &ops[index];
                let key = op.key();
                let expect = expectation(op.action(), guesses[index]);
                let overflow = next_version(operation, key, expect).is_err();
                if matches!(op.action(), TxAction::Put(_)) {
                    // A guess: learn the item's state for the next round.
                    let actual = state.map_or(Expect::Absent, |item| Expect::At(item.version));
                    if overflow && actual == guesses[index] {
                        exhausted_at = Some(index);
                    }
                    guesses[index] = actual;
                    continue;
                }
                match judge(expect, state) {
                    Some(conflict) => failures.push(OpFailure {
                        index,
                        key: key.clone(),
                        conflict,
                    }),
                    None if overflow => exhausted_at = Some(index),
                    // Its condition holds in the snapshot: the state moved on; go round.
                    None if snapshot => {}
                    None => return Err(changed_meanwhile(operation, key)),
                }
            }
            if !failures.is_empty() {
                return Err(Error::TransactionConflict { failures });
            }
            if let Some(index) = exhausted_at {
                return Err(exhausted(operation, ops[index].key()));
            }
        }
        Err(contention(operation, None))
    }

    /// Every op's item at one instant: one `TransactGetItems`.
    async fn snapshot(&self, ops: &[TxOp]) -> Result<Vec<Option<Versioned<Value>>>> {
        let operation = Operation::Transact;
        let table = &*self.table;
        let mut gets = Vec::with_capacity(ops.len());
        for op in ops {
            let get = Get::builder()
                .table_name(table.name())
                .set_key(Some(key_item(table, op.key())))
                .build()
                .map_err(|e| {
                    Error::backend(
                        operation,
                        Some(op.key()),
                        false,
                        DynamoDbError::Request(e.to_string()),
                    )
                })?;
            gets.push(TransactGetItem::builder().get(get).build());
        }
        tracing::debug!(
            ops = ops.len(),
            "a failed condition came without its item; reading every key at once"
        );
        let output = self
            .client
            .transact_get_items()
            .set_transact_items(Some(gets))
            .send()
            .await
            .map_err(|e| map_sdk_error(e, operation, None, table.name(), false))?;
        let responses = output.responses.unwrap_or_default();
        let mut items = Vec::with_capacity(ops.len());
        for (index, op) in ops.iter().enumerate() {
            let item = responses
                .get(index)
                .and_then(|r| r.item.as_ref())
                .filter(|i| !i.is_empty());
            items.push(match item {
                Some(item) => Some(
                    from_item(table, item)
                        .map_err(|reason| unreadable(operation, op.key(), reason))?,
                ),
                None => None,
            });
        }
        Ok(items)
    }

    /// The request's items and each op's version afterwards.
    fn build(
        &self,
        ops: &[TxOp],
        guesses: &[Expect],
    ) -> Result<(Vec<TransactWriteItem>, Vec<Option<Version>>)> {
        let operation = Operation::Transact;
        let table = &*self.table;
        let mut items = Vec::with_capacity(ops.len());
        let mut versions = Vec::with_capacity(ops.len());
        let mut total = 0;
        for (index, op) in ops.iter().enumerate() {
            let key = op.key();
            let on_failure = ReturnValuesOnConditionCheckFailure::AllOld;
            let expect = expectation(op.action(), guesses[index]);
            let writes = op.action().value().is_some();
            let built = match op.action() {
                // No version can follow the expected one: the op cannot be applied, but
                // its condition must still be judged. A check that always fails returns
                // the item, and the transaction reports the conflict or the exhaustion.
                _ if writes && next_version(operation, key, expect).is_err() => {
                    versions.push(None);
                    let mut c = condition(table, Expect::Absent);
                    c.expression =
                        "attribute_exists(#pk) AND attribute_not_exists(#pk)".to_string();
                    ConditionCheck::builder()
                        .table_name(table.name())
                        .set_key(Some(key_item(table, key)))
                        .condition_expression(c.expression)
                        .set_expression_attribute_names(Some(c.names))
                        .return_values_on_condition_check_failure(
                            ReturnValuesOnConditionCheckFailure::AllOld,
                        )
                        .build()
                        .map(|check| TransactWriteItem::builder().condition_check(check).build())
                }
                TxAction::Insert(value) | TxAction::Update { value, .. } | TxAction::Put(value) => {
                    let version = next_version(operation, key, expect)?;
                    let item = full_item(table, key, value, version);
                    self.check_item_size(operation, key, &item)
                        .map_err(|e| in_op(e, index, op))?;
                    total += item_size(&item);
                    versions.push(Some(version));
                    let c = condition(table, expect);
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
                TxAction::Delete { .. } => {
                    versions.push(None);
                    let c = condition(table, expect);
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
                TxAction::Remove => {
                    versions.push(None);
                    let k = key_item(table, key);
                    total += item_size(&k);
                    Delete::builder()
                        .table_name(table.name())
                        .set_key(Some(k))
                        .build()
                        .map(|delete| TransactWriteItem::builder().delete(delete).build())
                }
                TxAction::Check { expected } => {
                    versions.push(Some(*expected));
                    let c = condition(table, expect);
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
            items.push(built.map_err(|e| {
                Error::backend(
                    operation,
                    Some(key),
                    false,
                    DynamoDbError::Request(e.to_string()),
                )
            })?);
        }
        if total > MAX_TRANSACTION_BYTES {
            return Err(Error::invalid(
                operation,
                None,
                format!(
                    "transaction is {total} bytes as DynamoDB counts them, over its limit of {MAX_TRANSACTION_BYTES}"
                ),
            ));
        }
        Ok((items, versions))
    }
}

/// What an op's condition requires; Put's is the current guess.
fn expectation(action: &TxAction, guess: Expect) -> Expect {
    match action {
        TxAction::Insert(_) => Expect::Absent,
        TxAction::Update { expected, .. }
        | TxAction::Delete { expected }
        | TxAction::Check { expected } => Expect::At(*expected),
        TxAction::Put(_) | TxAction::Remove => guess,
    }
}

/// Names the op in an input error, as the shared transaction checks do.
fn in_op(err: Error, index: usize, op: &TxOp) -> Error {
    match err {
        Error::InvalidInput { key, reason, .. } => Error::InvalidInput {
            operation: Operation::Transact,
            key,
            reason: format!("op {index} ({}): {reason}", op.action().operation()),
        },
        other => other,
    }
}

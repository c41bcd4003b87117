//! The requests behind single reads and writes: one consistent `GetItem`, one
//! conditional `PutItem` (of an item or of a tombstone), one conditional `DeleteItem`,
//! a check; and the record a failed condition reports.

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use optimist_core::{
    Applied, Decision, ErrorKind, Held, Key, Outcome, Record, StorageError, Version, Write,
};

use crate::condition::{Condition, Requirement};
use crate::error::from_sdk;
use crate::item::{Item, decode, key_item};
use crate::{ConflictItems, DynamoDbStore};

impl DynamoDbStore {
    /// One strongly consistent `GetItem`: the key's record (item or tombstone) with its
    /// token. It writes nothing, so any failure is `not_applied` and may be sent again.
    pub(crate) async fn get_record(&self, key: &Key) -> Result<Option<Record>, StorageError> {
        let table = self.table_description();
        let output = self
            .requests()
            .get_item()
            .table_name(table.name())
            .set_key(Some(key_item(table, key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| from_sdk(e, Applied::No, table.name()))?;
        match output.item.filter(|item| !item.is_empty()) {
            None => Ok(None),
            Some(item) => decode(table, key, &item).map(Some),
        }
    }

    /// One `PutItem` of `item` (a whole item or a tombstone, carrying the write's
    /// token), on condition that the key is in state `expected`.
    pub(crate) async fn put_item(
        &self,
        key: &Key,
        item: Item,
        expected: Held,
    ) -> Result<Outcome, StorageError> {
        let table = self.table_description();
        let requirement = Requirement::held(expected);
        let condition = Condition::new(table, requirement);
        let result = self
            .requests()
            .put_item()
            .table_name(table.name())
            .set_item(Some(item))
            .condition_expression(condition.expression)
            .set_expression_attribute_names(Some(condition.names))
            .set_expression_attribute_values(condition.values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Outcome::Applied { previous: expected }),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let returned = failed.item().cloned();
                    let current = self.refused_record(key, requirement, returned).await?;
                    Ok(Outcome::Refused { current })
                }
                _ => Err(from_sdk(err, Applied::Maybe, table.name())),
            },
        }
    }

    /// One `DeleteItem` on condition that the key holds a live item at `version`
    /// (`delete` in the default mode).
    pub(crate) async fn delete_item(
        &self,
        key: &Key,
        version: Version,
    ) -> Result<Outcome, StorageError> {
        let table = self.table_description();
        let requirement = Requirement::Item(version);
        let condition = Condition::new(table, requirement);
        let result = self
            .requests()
            .delete_item()
            .table_name(table.name())
            .set_key(Some(key_item(table, key)))
            .condition_expression(condition.expression)
            .set_expression_attribute_names(Some(condition.names))
            .set_expression_attribute_values(condition.values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Outcome::Applied {
                previous: Held::Item(version),
            }),
            Err(err) => match err.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(failed)) => {
                    let returned = failed.item().cloned();
                    let current = self.refused_record(key, requirement, returned).await?;
                    Ok(Outcome::Refused { current })
                }
                _ => Err(from_sdk(err, Applied::Maybe, table.name())),
            },
        }
    }

    /// A write that changes nothing when its precondition holds (a check, a delete
    /// expecting nothing or a tombstone), or a put that no version can follow: one
    /// consistent read, judged by core. Nothing is written, so the read is the moment
    /// the precondition held or failed.
    pub(crate) async fn check(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        let current = self.get_record(write.key).await?;
        let held = Held::of(current.as_ref());
        match write.decide(held) {
            Decision::Refuse => Ok(Outcome::Refused { current }),
            Decision::Keep => Ok(Outcome::Applied { previous: held }),
            Decision::Put(_) | Decision::Delete => Err(StorageError::not_applied(
                ErrorKind::Other,
                "a write that changes the item was sent as a check",
            )),
        }
    }

    /// The record as it was when the condition `requirement` failed: the item the
    /// service returned with the failure or, where it returned none, one consistent
    /// read (see [`ConflictItems`]).
    pub(crate) async fn refused_record(
        &self,
        key: &Key,
        requirement: Requirement,
        returned: Option<Item>,
    ) -> Result<Option<Record>, StorageError> {
        match returned.filter(|item| !item.is_empty()) {
            Some(item) => decode(self.table_description(), key, &item).map(Some),
            // Only a record meets this condition: no item back is trusted to mean none.
            None if !requirement.admits_nothing()
                && self.conflict_items() == ConflictItems::Returned =>
            {
                Ok(None)
            }
            None => {
                tracing::debug!(%key, "no item came with the failed condition; reading it");
                self.get_record(key).await
            }
        }
    }
}

//! The bare-SDK side of the DynamoDB benches: the requests the store sends, built by
//! hand with aws-sdk-dynamodb on the same client (one consistent `GetItem` per read;
//! one `PutItem` of the whole item per update, on the store's condition, asking for the
//! old item when it fails; `BatchWriteItem` to fill), items decoded into JSON as a
//! caller needs them. Shared by `dynamodb.rs` and `report.rs`.

#![allow(dead_code)] // each bench uses its part

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Config, Credentials, Region};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, PutRequest, ReturnValuesOnConditionCheckFailure, WriteRequest,
};
use optimist_core::WriteToken;
use optimist_dynamodb::TableDescription;
use serde_json::{Map, Number, Value};

pub type Item = HashMap<String, AttributeValue>;

/// A client of the local server at `endpoint`: one attempt per request, bounded as the
/// store bounds its own (`DynamoDbStore::DEFAULT_RESPONSE_TIMEOUT`), so that both sides
/// send and wait alike.
pub fn client(endpoint: &str) -> Client {
    let bound = Duration::from_secs(10);
    let config = Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "AKIDBENCH",
            "bench-secret",
            None,
            None,
            "bench",
        ))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(bound)
                .operation_timeout(bound)
                .build(),
        )
        .build();
    Client::from_conf(config)
}

/// Writes `items` 25 a `BatchWriteItem`, sending unprocessed ones again.
pub async fn batch_write(client: &Client, table: &str, items: Vec<Item>) {
    for chunk in items.chunks(25) {
        let mut writes: Vec<WriteRequest> = chunk
            .iter()
            .filter_map(|item| {
                let put = PutRequest::builder().set_item(Some(item.clone())).build();
                Some(WriteRequest::builder().put_request(put.ok()?).build())
            })
            .collect();
        while !writes.is_empty() {
            let output = match client
                .batch_write_item()
                .request_items(table, writes)
                .send()
                .await
            {
                Ok(output) => output,
                Err(err) => {
                    eprintln!("filling {table}: {err}");
                    return;
                }
            };
            writes = output
                .unprocessed_items
                .and_then(|mut tables| tables.remove(table))
                .unwrap_or_default();
        }
    }
}

/// The store's requests on items without a sort part, sent with the bare SDK.
pub struct Raw {
    pub client: Client,
    pub table: TableDescription,
}

impl Raw {
    fn key(&self, partition: &str) -> Item {
        HashMap::from([(
            self.table.partition_key().to_string(),
            AttributeValue::S(partition.to_string()),
        )])
    }

    /// The whole item the store writes: key, the document's fields, version, and the
    /// token attribute (`token@version`).
    pub fn item(&self, partition: &str, document: &Value, version: u64) -> Item {
        let mut item = self.key(partition);
        if let Value::Object(fields) = document {
            item.extend(fields.iter().map(|(k, v)| (k.clone(), attribute(v))));
        }
        item.insert(
            self.table.version_attribute().to_string(),
            AttributeValue::N(version.to_string()),
        );
        item.insert(
            self.table.token_attribute().to_string(),
            AttributeValue::S(format!("{}@{version}", WriteToken::random())),
        );
        item
    }

    /// An item's document and version, as a caller reads them.
    pub fn decode(&self, item: &Item) -> Option<(Value, u64)> {
        let version = match item.get(self.table.version_attribute()) {
            Some(AttributeValue::N(n)) => n.parse().ok()?,
            _ => 0,
        };
        let reserved = [
            self.table.partition_key(),
            self.table.version_attribute(),
            self.table.token_attribute(),
            self.table.deleted_attribute(),
        ];
        let document = item
            .iter()
            .filter(|(name, _)| !reserved.contains(&name.as_str()))
            .map(|(name, value)| Some((name.clone(), json(value)?)))
            .collect::<Option<Map<_, _>>>()?;
        Some((Value::Object(document), version))
    }

    /// One consistent `GetItem`, decoded.
    pub async fn get(&self, partition: &str) -> Option<(Value, u64)> {
        let output = self
            .client
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(self.key(partition)))
            .consistent_read(true)
            .send()
            .await
            .ok()?;
        self.decode(&output.item.filter(|item| !item.is_empty())?)
    }

    /// The store's update: one `PutItem` of the whole item at `expected + 1` on
    /// condition that a live item is at `expected`, the old item asked for if it fails
    /// (read with one consistent `GetItem` when the server sends none, as the store
    /// does). `Ok(new version)` or `Err(current version)`.
    pub async fn update(
        &self,
        partition: &str,
        expected: u64,
        document: &Value,
    ) -> Result<u64, u64> {
        let item = self.item(partition, document, expected + 1);
        let sent = self
            .client
            .put_item()
            .table_name(self.table.name())
            .set_item(Some(item))
            .condition_expression("#v = :expected AND attribute_not_exists(#d)")
            .expression_attribute_names("#v", self.table.version_attribute())
            .expression_attribute_names("#d", self.table.deleted_attribute())
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(expected + 1),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let current = match failed.item().filter(|item| !item.is_empty()) {
                        Some(item) => self.decode(item),
                        None => self.get(partition).await,
                    };
                    Err(current.map_or(0, |(_, version)| version))
                }
                _ => Err(0),
            },
        }
    }
}

/// A JSON value as an attribute value, as the store writes it.
pub fn attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(attribute).collect()),
        Value::Object(fields) => AttributeValue::M(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), attribute(v)))
                .collect(),
        ),
    }
}

/// An attribute value as JSON (the types [`attribute`] writes).
pub fn json(value: &AttributeValue) -> Option<Value> {
    Some(match value {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => Value::Number(match n.parse::<i64>() {
            Ok(i) => Number::from(i),
            Err(_) => Number::from_f64(n.parse().ok()?)?,
        }),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::L(items) => Value::Array(items.iter().map(json).collect::<Option<_>>()?),
        AttributeValue::M(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| Some((k.clone(), json(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

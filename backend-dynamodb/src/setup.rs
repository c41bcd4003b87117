//! Creating, checking and deleting tables, for tests and development.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata as _;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification,
};
use optimist_core::{Error, ErrorKind, Operation, Result};

use crate::TableDescription;
use crate::error::{BACKEND, UNKNOWN_OPERATION, configuration, setup};

/// How long [`create_table`] waits for a table to become ACTIVE.
const ACTIVE_WITHIN: Duration = Duration::from_secs(120);

/// Creates `table` (on-demand billing, string keys as described), waits until it is
/// ACTIVE, and enables time to live on the description's
/// [TTL attribute](TableDescription::ttl_attribute), so that DynamoDB purges the
/// tombstones of a store in tombstone mode after their retention (an attribute no
/// item carries otherwise). A table that already exists is waited for, not changed.
/// On a DynamoDB-compatible server without time to live (`UpdateTimeToLive` answered
/// `UnknownOperationException`, as dynalite does) the table is made without it, said
/// in a warning: tombstones then stay until `purge_tombstones` removes them.
/// For tests and development: production tables belong to infrastructure code. Names
/// that cannot be a table's are [`Error::Configuration`].
///
/// ```no_run
/// # async fn example(client: aws_sdk_dynamodb::Client) -> optimist_core::Result<()> {
/// use optimist_dynamodb::{create_table, TableDescription};
/// let table = TableDescription::new("orders", "pk").with_sort_key("sk");
/// create_table(&client, &table).await?;
/// # Ok(()) }
/// ```
pub async fn create_table(client: &Client, table: &TableDescription) -> Result<()> {
    table.check().map_err(configuration)?;
    let mut keys = vec![(table.partition_key(), KeyType::Hash)];
    keys.extend(table.sort_key().map(|sk| (sk, KeyType::Range)));
    let mut request = client
        .create_table()
        .table_name(table.name())
        .billing_mode(BillingMode::PayPerRequest);
    for (name, key_type) in keys {
        let element = KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build();
        let definition = AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build();
        let (element, definition) = element
            .and_then(|e| definition.map(|d| (e, d)))
            .map_err(|e| Error::backend(BACKEND, Operation::Setup, None, ErrorKind::Other, e))?;
        request = request
            .key_schema(element)
            .attribute_definitions(definition);
    }
    let created = match request.send().await {
        Ok(_) => true,
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            false
        }
        Err(err) => return Err(setup(err, table.name())),
    };
    wait_until_active(client, table.name()).await?;
    if created {
        enable_ttl(client, table).await?;
    }
    Ok(())
}

/// Turns on time to live on the TTL attribute: one `UpdateTimeToLive`.
async fn enable_ttl(client: &Client, table: &TableDescription) -> Result<()> {
    let specification = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(table.ttl_attribute())
        .build()
        .map_err(|e| Error::backend(BACKEND, Operation::Setup, None, ErrorKind::Other, e))?;
    let enabled = client
        .update_time_to_live()
        .table_name(table.name())
        .time_to_live_specification(specification)
        .send()
        .await;
    match enabled {
        Ok(_) => Ok(()),
        Err(err) if err.code() == Some(UNKNOWN_OPERATION) => {
            tracing::warn!(
                table = table.name(),
                "the server does not implement UpdateTimeToLive: the table has no time to live, and tombstones stay until purge_tombstones removes them"
            );
            Ok(())
        }
        Err(err) => Err(setup(err, table.name())),
    }
}

/// Waits until the table is ACTIVE, polling `DescribeTable`.
async fn wait_until_active(client: &Client, name: &str) -> Result<()> {
    let deadline = tokio::time::Instant::now() + ACTIVE_WITHIN;
    let mut pause = Duration::from_millis(20);
    loop {
        let output = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| setup(e, name))?;
        let status = output.table().and_then(|t| t.table_status());
        if status == Some(&TableStatus::Active) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::backend(
                BACKEND,
                Operation::Setup,
                None,
                ErrorKind::Timeout,
                format!("table {name:?} is not ACTIVE after {ACTIVE_WITHIN:?} (status {status:?})"),
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// Deletes a table; one that does not exist is fine.
///
/// ```no_run
/// # async fn example(client: aws_sdk_dynamodb::Client) -> optimist_core::Result<()> {
/// optimist_dynamodb::delete_table(&client, "orders").await?;
/// # Ok(()) }
/// ```
pub async fn delete_table(client: &Client, name: &str) -> Result<()> {
    match client.delete_table().table_name(name).send().await {
        Ok(_) => Ok(()),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
        Err(err) => Err(setup(err, name)),
    }
}

/// Checks that the table exists and is keyed as described (string keys, same names):
/// a missing table or another key schema is [`Error::Configuration`].
pub(crate) async fn verify_table(client: &Client, table: &TableDescription) -> Result<()> {
    let name = table.name();
    let output = match client.describe_table().table_name(name).send().await {
        Ok(output) => output,
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Err(configuration(format!(
                "table {name:?} does not exist (or these credentials cannot see it)"
            )));
        }
        Err(err) => return Err(setup(err, name)),
    };
    let mismatch = |reason: String| {
        configuration(format!(
            "table {name:?} does not match its description: {reason}"
        ))
    };
    let Some(described) = output.table() else {
        return Err(mismatch("DescribeTable returned no table".to_string()));
    };
    let key_of = |key_type: KeyType| {
        described
            .key_schema()
            .iter()
            .find(|k| k.key_type() == &key_type)
            .map(|k| k.attribute_name().to_string())
    };
    let (hash, range) = (key_of(KeyType::Hash), key_of(KeyType::Range));
    if hash.as_deref() != Some(table.partition_key()) {
        return Err(mismatch(format!(
            "its partition key is {hash:?}, the description says {:?}",
            table.partition_key()
        )));
    }
    if range.as_deref() != table.sort_key() {
        return Err(mismatch(format!(
            "its sort key is {range:?}, the description says {:?}",
            table.sort_key()
        )));
    }
    for name in table.sort_key().into_iter().chain([table.partition_key()]) {
        let kind = described
            .attribute_definitions()
            .iter()
            .find(|d| d.attribute_name() == name)
            .map(|d| d.attribute_type().clone());
        if kind != Some(ScalarAttributeType::S) {
            return Err(mismatch(format!(
                "key attribute {name:?} is of type {kind:?}, not S (string)"
            )));
        }
    }
    Ok(())
}

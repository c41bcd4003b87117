//! The store, and its [`Storage`] reads and single writes: one request each, except
//! `put` on an existing item (see [`crate::put`]).

use std::fmt;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Builder as ConfigOverride;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use optimist_core::retry::RetryPolicy;
use optimist_core::{
    Applied, Capabilities, Change, CommitOutcome, Decision, ErrorKind, Expect, Key, KeyShape,
    NumberSupport, Outcome, Result, Storage, StorageError, Value, Version, Versioned, Write,
    async_trait,
};

use crate::condition::{Condition, Requirement};
use crate::error::{BACKEND, DynamoDbError, from_sdk, unreadable};
use crate::item::{Item, decode, full_item, key_item, version_of};
use crate::size::{DYNAMODB_MAX_NESTING, item_size};
use crate::{ConflictItems, DynamoDbStoreBuilder, TableDescription};

/// A [`VersionedStore`](optimist_core::VersionedStore) on one DynamoDB table, with
/// native items: a document's fields are the item's attributes, readable by the
/// console and any other client. Clones share the client and settings.
///
/// It implements core's [`Storage`]; core's engine makes it a `VersionedStore` (input
/// checks, versions, conflicts, resending transient failures).
///
/// Requests per operation: `get` one `GetItem` (`ConsistentRead`); `insert`,
/// `update` one conditional `PutItem`; `delete` one conditional `DeleteItem`; `remove`
/// one `DeleteItem` returning the old item; `transact` one `TransactWriteItems`.
/// `put` is one conditional `PutItem` on a new key and two on an existing one (see
/// the crate's README). Conflicts carry the item returned with the failed condition.
///
/// ```no_run
/// use optimist_core::{Key, VersionedStore};
/// use optimist_dynamodb::{DynamoDbStore, TableDescription};
/// use serde_json::json;
///
/// # async fn example(client: aws_sdk_dynamodb::Client) -> optimist_core::Result<()> {
/// let table = TableDescription::new("ProductCatalog", "Id").with_version_attribute("VersionNumber");
/// let store = DynamoDbStore::builder(client, table).connect().await?;
/// let v1 = store.insert(&Key::new("book-1"), json!({"Title": "Dune"})).await?;
/// store.update(&Key::new("book-1"), v1, json!({"Title": "Dune Messiah"})).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DynamoDbStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    table: TableDescription,
    capabilities: Capabilities,
    conflict_items: ConflictItems,
    /// The largest item as DynamoDB counts it.
    item_limit: usize,
    retry_policy: RetryPolicy,
}

impl fmt::Debug for DynamoDbStore {
    // The client holds the credentials provider: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbStore")
            .field("table", &self.inner.table)
            .field("conflict_items", &self.inner.conflict_items)
            .field("item_limit", &self.inner.item_limit)
            .field("retry_policy", &self.inner.retry_policy)
            .finish_non_exhaustive()
    }
}

impl DynamoDbStore {
    /// A builder for a store on `table` through `client`.
    ///
    /// ```
    /// use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// let client = aws_sdk_dynamodb::Client::new(&config);
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "pk")).build()?;
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn builder(client: Client, table: TableDescription) -> DynamoDbStoreBuilder {
        DynamoDbStoreBuilder::new(client, table)
    }

    /// A store with the default settings, after checking the table with one
    /// `DescribeTable`: `DynamoDbStore::builder(client, table).connect()`.
    ///
    /// ```no_run
    /// # async fn example(client: aws_sdk_dynamodb::Client) -> optimist_core::Result<()> {
    /// use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// let store = DynamoDbStore::connect(client, TableDescription::new("orders", "pk")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(client: Client, table: TableDescription) -> Result<Self> {
        Self::builder(client, table).connect().await
    }

    pub(crate) fn from_parts(
        client: Client,
        table: TableDescription,
        item_limit: usize,
        retry_policy: RetryPolicy,
        conflict_items: ConflictItems,
    ) -> Self {
        let capabilities = capabilities(&table, item_limit);
        Self {
            inner: Arc::new(Inner {
                client,
                table,
                capabilities,
                conflict_items,
                item_limit,
                retry_policy,
            }),
        }
    }

    /// The table's name.
    ///
    /// ```
    /// # use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// # let client = aws_sdk_dynamodb::Client::new(&config);
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "Id")).build()?;
    /// assert_eq!(store.table(), "orders");
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn table(&self) -> &str {
        self.inner.table.name()
    }

    /// The table description: name, key attributes, version attribute.
    ///
    /// ```
    /// # use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// # let client = aws_sdk_dynamodb::Client::new(&config);
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "Id")).build()?;
    /// assert_eq!(store.table_description().partition_key(), "Id");
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn table_description(&self) -> &TableDescription {
        &self.inner.table
    }

    /// The SDK client.
    ///
    /// ```
    /// # use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// # let client = aws_sdk_dynamodb::Client::new(&config);
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "Id")).build()?;
    /// let _client: &aws_sdk_dynamodb::Client = store.client();
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Where a conflict's item comes from when the service returns none.
    ///
    /// ```
    /// # use optimist_dynamodb::{ConflictItems, DynamoDbStore, TableDescription};
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// # let client = aws_sdk_dynamodb::Client::new(&config);
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "Id")).build()?;
    /// assert_eq!(store.conflict_items(), ConflictItems::ReadWhenMissing);
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn conflict_items(&self) -> ConflictItems {
        self.inner.conflict_items
    }

    /// DynamoDB's own size rule for one item; nothing is sent when it fails.
    pub(crate) fn check_item_size(&self, key: &Key, item: &Item) -> Result<usize, StorageError> {
        let size = item_size(item);
        let limit = self.inner.item_limit;
        if size > limit {
            let too_large = DynamoDbError::ItemTooLarge {
                key: key.clone(),
                size,
                limit,
            };
            return Err(StorageError::invalid_input(too_large));
        }
        Ok(size)
    }

    /// One strongly consistent `GetItem`. It writes nothing, so any failure is
    /// `not_applied` and may be sent again.
    pub(crate) async fn get_item(
        &self,
        key: &Key,
    ) -> Result<Option<Versioned<Value>>, StorageError> {
        let table = &self.inner.table;
        let output = self
            .client()
            .get_item()
            .table_name(table.name())
            .set_key(Some(key_item(table, key)))
            .consistent_read(true)
            .customize()
            .config_override(once())
            .send()
            .await
            .map_err(|e| from_sdk(e, Applied::No, table.name()))?;
        match output.item.filter(|item| !item.is_empty()) {
            None => Ok(None),
            Some(item) => decode(table, key, &item).map(Some),
        }
    }

    /// One `PutItem` of the whole item at `version`, on condition that the item is in
    /// `state` (`None`: absent).
    pub(crate) async fn put_item(
        &self,
        key: &Key,
        document: &Value,
        state: Option<Version>,
        version: Version,
    ) -> Result<Outcome, StorageError> {
        let table = &self.inner.table;
        let item = full_item(table, key, document, version);
        self.check_item_size(key, &item)?;
        let condition = Condition::new(table, Requirement::state(state));
        let result = self
            .client()
            .put_item()
            .table_name(table.name())
            .set_item(Some(item))
            .condition_expression(condition.expression)
            .set_expression_attribute_names(Some(condition.names))
            .set_expression_attribute_values(condition.values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .customize()
            .config_override(once())
            .send()
            .await;
        match result {
            Ok(_) => Ok(Outcome::Applied { previous: state }),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let returned = failed.item().cloned();
                    self.refused(key, state, returned).await
                }
                _ => Err(from_sdk(err, Applied::Maybe, table.name())),
            },
        }
    }

    /// One `DeleteItem` on condition that the item is in `state`.
    async fn delete_item(
        &self,
        key: &Key,
        state: Option<Version>,
    ) -> Result<Outcome, StorageError> {
        let table = &self.inner.table;
        let condition = Condition::new(table, Requirement::state(state));
        let result = self
            .client()
            .delete_item()
            .table_name(table.name())
            .set_key(Some(key_item(table, key)))
            .condition_expression(condition.expression)
            .set_expression_attribute_names(Some(condition.names))
            .set_expression_attribute_values(condition.values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .customize()
            .config_override(once())
            .send()
            .await;
        match result {
            Ok(_) => Ok(Outcome::Applied { previous: state }),
            Err(err) => match err.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(failed)) => {
                    let returned = failed.item().cloned();
                    self.refused(key, state, returned).await
                }
                _ => Err(from_sdk(err, Applied::Maybe, table.name())),
            },
        }
    }

    /// `remove`: one unconditional `DeleteItem` returning the old item.
    async fn remove_item(&self, key: &Key) -> Result<Outcome, StorageError> {
        let table = &self.inner.table;
        let output = self
            .client()
            .delete_item()
            .table_name(table.name())
            .set_key(Some(key_item(table, key)))
            .return_values(ReturnValue::AllOld)
            .customize()
            .config_override(once())
            .send()
            .await
            .map_err(|e| from_sdk(e, Applied::Maybe, table.name()))?;
        let previous = match output.attributes.filter(|item| !item.is_empty()) {
            None => None,
            Some(item) => Some(version_of(table, &item).map_err(|reason| {
                // The item is gone: the error must not say that nothing was written.
                let (kind, _, source) = unreadable(key, reason).into_parts();
                StorageError::maybe_applied(kind, source)
            })?),
        };
        Ok(Outcome::Applied { previous })
    }

    /// A write that changes nothing (a check), or a put that no version can follow:
    /// one consistent read, judged by core. Nothing is written, so the read is the
    /// moment the precondition held or failed.
    async fn check(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        let current = self.get_item(write.key).await?;
        let previous = current.as_ref().map(|item| item.version);
        match write.decide(previous) {
            Decision::Refuse => Ok(Outcome::Refused { current }),
            Decision::Keep => Ok(Outcome::Applied { previous }),
            Decision::Put(_) | Decision::Delete => Err(StorageError::not_applied(
                ErrorKind::Other,
                "a write that changes the item was sent as a check",
            )),
        }
    }

    /// The answer to a failed condition that the item be in `state`: the item the
    /// service returned with it or, where it returned none, one consistent read (see
    /// [`ConflictItems`]).
    pub(crate) async fn refused(
        &self,
        key: &Key,
        state: Option<Version>,
        returned: Option<Item>,
    ) -> Result<Outcome, StorageError> {
        let current = match returned.filter(|item| !item.is_empty()) {
            Some(item) => Some(decode(&self.inner.table, key, &item)?),
            // An item was expected and none came back: trusted to mean absent.
            None if state.is_some() && self.inner.conflict_items == ConflictItems::Returned => None,
            None => {
                tracing::debug!(%key, "no item came with the failed condition; reading it");
                self.get_item(key).await?
            }
        };
        Ok(Outcome::Refused { current })
    }
}

/// The override every request of the store goes out with: one attempt, no resend by
/// the SDK. Its retry classifiers resend after a timeout, an I/O error or a 5xx, none
/// of which says whether the first attempt reached DynamoDB; an attempt timeout even
/// resends while the first attempt is still travelling, so it can land after the call
/// returned. The engine in core resends instead, only what [`crate::error`] judges
/// provably not applied, within the store's retry policy. (Per request: the client
/// itself is untouched.)
pub(crate) fn once() -> ConfigOverride {
    ConfigOverride::new().retry_config(RetryConfig::disabled())
}

/// The state a precondition other than [`Expect::Any`] asks for: `None` absent,
/// `Some(version)` present at that version.
fn expected_state(expect: Expect) -> Option<Version> {
    match expect {
        Expect::At(version) => Some(version),
        Expect::Absent | Expect::Any => None,
    }
}

/// The capabilities of a store on `table` whose items may be `item_limit` bytes as
/// DynamoDB counts them. `max_item_bytes` (the key plus the compact JSON) leaves room
/// for the key and version attributes' names and the version number, so a document
/// within it fits DynamoDB's own count as long as it is mostly strings; the store also
/// checks DynamoDB's own count, which is larger than the JSON for long arrays of small
/// numbers or booleans.
fn capabilities(table: &TableDescription, item_limit: usize) -> Capabilities {
    let names: usize = table.reserved_attributes().iter().map(|n| n.len()).sum();
    // 22: the largest number DynamoDB counts (a u64 version); 16: map and key overhead.
    let overhead = names + 22 + 16;
    Capabilities::new()
        .with_max_item_bytes(item_limit.saturating_sub(overhead))
        .with_max_transaction_ops(100)
        .with_max_depth(DYNAMODB_MAX_NESTING)
        .with_numbers(NumberSupport::DYNAMODB)
        .with_object_values_only(true)
        .with_reserved_fields(table.reserved_attributes())
        .with_key_shape(if table.sort_key().is_some() {
            KeyShape::PartitionAndSort
        } else {
            KeyShape::PartitionOnly
        })
        .with_nul_in_keys(true)
        .with_nul_in_values(true)
        // Attribute names and map keys must be non-empty; moto even drops empty map
        // keys silently, so refuse them before sending.
        .with_empty_field_names(false)
        .with_transactions(true)
}

#[async_trait]
impl Storage for DynamoDbStore {
    fn backend_name(&self) -> &'static str {
        BACKEND
    }

    fn capabilities(&self) -> &Capabilities {
        &self.inner.capabilities
    }

    fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry_policy
    }

    /// One consistent `GetItem`.
    async fn read(&self, key: &Key) -> Result<Option<Versioned<Value>>, StorageError> {
        self.get_item(key).await
    }

    /// insert and update: one conditional `PutItem`; delete: one conditional
    /// `DeleteItem`; remove: one `DeleteItem` returning the old item; put: conditional
    /// `PutItem`s that learn the item's version from each refusal (one on a new key,
    /// two on an existing one). A failed condition answers with the item returned
    /// with it.
    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        match (write.change, write.expect) {
            (Change::Put(value), Expect::Any) => crate::put::put(self, write, value).await,
            (Change::Delete, Expect::Any) => self.remove_item(write.key).await,
            (Change::Put(value), expect) => match write.new_version() {
                Some(version) => {
                    let state = expected_state(expect);
                    self.put_item(write.key, value, state, version).await
                }
                // Nothing follows u64::MAX (core sends a check instead; kept for safety).
                None => self.check(write).await,
            },
            (Change::Delete, expect) => self.delete_item(write.key, expected_state(expect)).await,
            (Change::Keep, _) => self.check(write).await,
        }
    }

    async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
        crate::transaction::commit(self, writes).await
    }
}

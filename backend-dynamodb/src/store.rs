//! The store: one DynamoDB request per operation.

use std::fmt;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use optimist_core::{
    Capabilities, Conflict, Error, Key, KeyShape, NumberSupport, Operation, Result, TxOp, Value,
    Version, Versioned, VersionedStore, async_trait, validate,
};

use crate::TableDescription;
use crate::error::{DynamoDbError, map_sdk_error, not_applied, unreadable};
use crate::expr::{Expect, condition};
use crate::item::{Item, from_item, full_item, key_item, version_of};
use crate::resend::send_write;
use crate::size::{DYNAMODB_MAX_ITEM_BYTES, DYNAMODB_MAX_NESTING, item_size};

/// Where the item of a conflict comes from when the service returns none with a failed
/// condition.
///
/// DynamoDB returns the current item with every failed condition
/// (`ReturnValuesOnConditionCheckFailure = ALL_OLD`), and returns none exactly when
/// there is no item. Some DynamoDB-compatible servers return none at all; for them
/// the store reads the item with one strongly consistent `GetItem`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConflictItems {
    /// When the service returns no item, read it with one consistent `GetItem` (two
    /// requests for such a conflict). Right on every server; the default.
    #[default]
    ReadWhenMissing,
    /// Trust the service: no item returned means no item (`NotFound` in one request).
    /// Right on DynamoDB and moto; wrong on servers that never return the item.
    Returned,
}

/// How many conditional writes an unconditional `put` (or a transaction holding one)
/// makes before it reports contention.
pub(crate) const WRITE_ROUNDS: usize = 8;

/// A [`VersionedStore`] on one DynamoDB table, with native items: a document's fields
/// are the item's attributes, readable by the console and any other client.
///
/// Requests per operation: `get` one `GetItem` (`ConsistentRead`); `insert`,
/// `update` one conditional `PutItem`; `delete` one conditional `DeleteItem`; `remove`
/// one `DeleteItem` returning the old item; `transact` one `TransactWriteItems`.
/// `put` is one conditional `PutItem` on a new key and two on an existing one (see
/// the crate docs). Conflicts carry the item returned with the failed condition.
///
/// ```no_run
/// use optimist_core::{Key, VersionedStore};
/// use optimist_dynamodb::{DynamoDbStore, TableDescription};
/// use serde_json::json;
///
/// # async fn example(client: aws_sdk_dynamodb::Client) -> optimist_core::Result<()> {
/// let table = TableDescription::new("ProductCatalog", "Id").with_version_attribute("VersionNumber");
/// let store = DynamoDbStore::connect(client, table).await?;
/// let v1 = store.insert(&Key::new("book-1"), json!({"Title": "Dune"})).await?;
/// store.update(&Key::new("book-1"), v1, json!({"Title": "Dune Messiah"})).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DynamoDbStore {
    pub(crate) client: Client,
    pub(crate) table: Arc<TableDescription>,
    capabilities: Capabilities,
    pub(crate) conflict_items: ConflictItems,
    item_limit: usize,
}

impl fmt::Debug for DynamoDbStore {
    // The client holds the credentials provider: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbStore")
            .field("table", &self.table)
            .field("conflict_items", &self.conflict_items)
            .field("item_limit", &self.item_limit)
            .finish_non_exhaustive()
    }
}

impl DynamoDbStore {
    /// A store on `table` through `client`, without contacting the service. The table
    /// must exist with the described key schema; [`connect`](Self::connect) checks it.
    /// Names that cannot be a table's are `InvalidInput`.
    ///
    /// ```
    /// use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// use aws_sdk_dynamodb::config::{BehaviorVersion, Config, Region};
    ///
    /// let config = Config::builder()
    ///     .behavior_version(BehaviorVersion::latest())
    ///     .region(Region::new("us-east-1"))
    ///     .build();
    /// let client = aws_sdk_dynamodb::Client::from_conf(config);
    /// let store = DynamoDbStore::new(client, TableDescription::new("orders", "pk"))?;
    /// assert_eq!(store.table().name(), "orders");
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn new(client: Client, table: TableDescription) -> Result<Self> {
        table
            .check()
            .map_err(|reason| Error::invalid(Operation::Setup, None, reason))?;
        let mut store = Self {
            client,
            table: Arc::new(table),
            capabilities: Capabilities::new(),
            conflict_items: ConflictItems::default(),
            item_limit: DYNAMODB_MAX_ITEM_BYTES,
        };
        store.capabilities = store.describe_capabilities();
        Ok(store)
    }

    /// A store from a shared AWS configuration (`aws_config::load_from_env().await`).
    ///
    /// ```
    /// use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// let config = aws_types::SdkConfig::builder()
    ///     .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
    ///     .build();
    /// let store = DynamoDbStore::from_sdk_config(&config, TableDescription::new("orders", "pk"))?;
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn from_sdk_config(config: &aws_types::SdkConfig, table: TableDescription) -> Result<Self> {
        Self::new(Client::new(config), table)
    }

    /// Like [`new`](Self::new), then checks with one `DescribeTable` that the table
    /// exists and that its key schema is the description's (string keys, same names).
    ///
    /// ```no_run
    /// # async fn example(client: aws_sdk_dynamodb::Client) -> optimist_core::Result<()> {
    /// use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// let store = DynamoDbStore::connect(client, TableDescription::new("orders", "pk")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(client: Client, table: TableDescription) -> Result<Self> {
        let store = Self::new(client, table)?;
        crate::setup::verify_table(&store.client, &store.table).await?;
        Ok(store)
    }

    /// Chooses where a conflict's item comes from when the service returns none.
    ///
    /// ```
    /// # use optimist_dynamodb::{ConflictItems, DynamoDbStore, TableDescription};
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// let store = DynamoDbStore::from_sdk_config(&config, TableDescription::new("orders", "pk"))?
    ///     .with_conflict_items(ConflictItems::Returned);
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn with_conflict_items(mut self, conflict_items: ConflictItems) -> Self {
        self.conflict_items = conflict_items;
        self
    }

    /// Sets the largest item, counted as DynamoDB counts it (default 400 KB, DynamoDB's
    /// limit). For servers with a lower limit: moto refuses items over 405,000 bytes.
    ///
    /// ```
    /// # use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # use optimist_core::VersionedStore;
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// let store = DynamoDbStore::from_sdk_config(&config, TableDescription::new("orders", "pk"))?
    ///     .with_item_size_limit(405_000);
    /// assert!(store.capabilities().max_item_bytes < 405_000);
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn with_item_size_limit(mut self, bytes: usize) -> Self {
        self.item_limit = bytes.min(DYNAMODB_MAX_ITEM_BYTES);
        self.capabilities = self.describe_capabilities();
        self
    }

    /// The table description.
    ///
    /// ```
    /// # use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// let store = DynamoDbStore::from_sdk_config(&config, TableDescription::new("orders", "Id"))?;
    /// assert_eq!(store.table().partition_key(), "Id");
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn table(&self) -> &TableDescription {
        &self.table
    }

    /// The SDK client.
    ///
    /// ```
    /// # use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// let store = DynamoDbStore::from_sdk_config(&config, TableDescription::new("orders", "Id"))?;
    /// let _client: &aws_sdk_dynamodb::Client = store.client();
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The capabilities. `max_item_bytes` (the key plus the compact JSON) leaves room
    /// for the key and version attributes' names and the version number, so a document
    /// within it fits DynamoDB's own count as long as it is mostly strings; the store
    /// also checks DynamoDB's own count, which is larger than the JSON for long arrays
    /// of small numbers or booleans.
    fn describe_capabilities(&self) -> Capabilities {
        let names: usize = self
            .table
            .reserved_attributes()
            .iter()
            .map(|n| n.len())
            .sum();
        let overhead = names + 22 + 16;
        Capabilities::new()
            .with_max_item_bytes(self.item_limit.saturating_sub(overhead))
            .with_max_transaction_ops(100)
            .with_max_depth(DYNAMODB_MAX_NESTING)
            .with_numbers(NumberSupport::DYNAMODB)
            .with_object_values_only(true)
            .with_reserved_fields(self.table.reserved_attributes())
            .with_key_shape(if self.table.sort_key().is_some() {
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

    pub(crate) fn capabilities_ref(&self) -> &Capabilities {
        &self.capabilities
    }

    /// DynamoDB's own size rule for one item.
    pub(crate) fn check_item_size(
        &self,
        operation: Operation,
        key: &Key,
        item: &Item,
    ) -> Result<()> {
        let size = item_size(item);
        if size > self.item_limit {
            return Err(Error::invalid(
                operation,
                Some(key),
                format!(
                    "item is {size} bytes as DynamoDB counts them (attribute names and values), over the limit of {}",
                    self.item_limit
                ),
            ));
        }
        Ok(())
    }

    /// One strongly consistent `GetItem`.
    pub(crate) async fn read(
        &self,
        operation: Operation,
        key: &Key,
    ) -> Result<Option<Versioned<Value>>> {
        let output = self
            .client
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key_item(&self.table, key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| map_sdk_error(e, operation, Some(key), self.table.name(), false))?;
        match output.item.filter(|item| !item.is_empty()) {
            None => Ok(None),
            Some(item) => from_item(&self.table, &item)
                .map(Some)
                .map_err(|reason| unreadable(operation, key, reason)),
        }
    }

    /// One `PutItem` of the whole item at `version`, on condition `expect`.
    async fn put_item(
        &self,
        operation: Operation,
        key: &Key,
        document: &Value,
        expect: Expect,
        version: Version,
    ) -> Result<Outcome> {
        let item = full_item(&self.table, key, document, version);
        self.check_item_size(operation, key, &item)?;
        let condition = condition(&self.table, expect);
        let request = self
            .client
            .put_item()
            .table_name(self.table.name())
            .set_item(Some(item))
            .condition_expression(condition.expression)
            .set_expression_attribute_names(Some(condition.names))
            .set_expression_attribute_values(condition.values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let result = send_write(&self.client, not_applied, |once| {
            request.clone().customize().config_override(once).send()
        })
        .await;
        match result {
            Ok(_) => Ok(Outcome::Written),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    Ok(refusal(failed.item().cloned()))
                }
                _ => Err(map_sdk_error(
                    err,
                    operation,
                    Some(key),
                    self.table.name(),
                    true,
                )),
            },
        }
    }

    /// One `DeleteItem` on condition `expect`.
    async fn delete_item(
        &self,
        operation: Operation,
        key: &Key,
        expect: Expect,
    ) -> Result<Outcome> {
        let condition = condition(&self.table, expect);
        let request = self
            .client
            .delete_item()
            .table_name(self.table.name())
            .set_key(Some(key_item(&self.table, key)))
            .condition_expression(condition.expression)
            .set_expression_attribute_names(Some(condition.names))
            .set_expression_attribute_values(condition.values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let result = send_write(&self.client, not_applied, |once| {
            request.clone().customize().config_override(once).send()
        })
        .await;
        match result {
            Ok(_) => Ok(Outcome::Written),
            Err(err) => match err.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(failed)) => {
                    Ok(refusal(failed.item().cloned()))
                }
                _ => Err(map_sdk_error(
                    err,
                    operation,
                    Some(key),
                    self.table.name(),
                    true,
                )),
            },
        }
    }

    /// The item after a failed condition `expect`: the one the service returned or,
    /// where it returned none, one consistent read (see [`ConflictItems`]).
    pub(crate) async fn current_after_refusal(
        &self,
        operation: Operation,
        key: &Key,
        expect: Expect,
        returned: Option<Item>,
    ) -> Result<Option<Versioned<Value>>> {
        match returned {
            Some(item) => from_item(&self.table, &item)
                .map(Some)
                .map_err(|r| unreadable(operation, key, r)),
            None if matches!(expect, Expect::At(_))
                && self.conflict_items == ConflictItems::Returned =>
            {
                Ok(None)
            }
            None => {
                tracing::debug!(%key, %operation, "no item came with the failed condition; reading it");
                self.read(operation, key).await
            }
        }
    }

    /// The conflict of a failed condition `expect`.
    pub(crate) async fn conflict(
        &self,
        operation: Operation,
        key: &Key,
        expect: Expect,
        returned: Option<Item>,
    ) -> Result<Conflict> {
        let current = self
            .current_after_refusal(operation, key, expect, returned)
            .await?;
        judge(expect, current).ok_or_else(|| changed_meanwhile(operation, key))
    }

    /// What the item is at, from a refused guess: the returned item, or a read.
    pub(crate) async fn actual_state(
        &self,
        operation: Operation,
        key: &Key,
        guess: Expect,
        returned: Option<Item>,
    ) -> Result<Expect> {
        let current = match returned {
            Some(item) => {
                Some(version_of(&self.table, &item).map_err(|r| unreadable(operation, key, r))?)
            }
            None if matches!(guess, Expect::At(_))
                && self.conflict_items == ConflictItems::Returned =>
            {
                None
            }
            None => self.read(operation, key).await?.map(|item| item.version),
        };
        Ok(current.map_or(Expect::Absent, Expect::At))
    }

    /// A checked single write: insert (`expect` absent) or update.
    async fn checked_write(
        &self,
        operation: Operation,
        key: &Key,
        expect: Expect,
        value: Value,
    ) -> Result<Version> {
        validate::write(operation, key, &value, &self.capabilities)?;
        let Ok(version) = next_version(operation, key, expect) else {
            // No version can follow `expected`, so the write cannot happen; the caller
            // still learns whether its condition held, from one consistent read.
            let current = self.read(operation, key).await?;
            return Err(match judge(expect, current) {
                Some(conflict) => Error::conflict(operation, key.clone(), conflict),
                None => exhausted(operation, key),
            });
        };
        match self
            .put_item(operation, key, &value, expect, version)
            .await?
        {
            Outcome::Written => Ok(version),
            Outcome::Refused(item) => {
                let conflict = self.conflict(operation, key, expect, item).await?;
                Err(Error::conflict(operation, key.clone(), conflict))
            }
        }
    }
}

/// What a conditional write did.
enum Outcome {
    Written,
    /// The condition failed; the item the service returned with it, if any.
    Refused(Option<Item>),
}

/// The version a write on an item in state `expect` gives.
pub(crate) fn next_version(operation: Operation, key: &Key, expect: Expect) -> Result<Version> {
    match expect {
        Expect::Absent => Ok(Version::FIRST),
        Expect::At(version) => version.next().ok_or_else(|| exhausted(operation, key)),
    }
}

/// A write on an item at the last version.
pub(crate) fn exhausted(operation: Operation, key: &Key) -> Error {
    Error::backend(
        operation,
        Some(key),
        false,
        "the item's version counter is exhausted",
    )
}

/// The conflict of condition `expect` on an item in state `current`; `None` when the
/// condition holds.
pub(crate) fn judge(expect: Expect, current: Option<Versioned<Value>>) -> Option<Conflict> {
    match (expect, current) {
        (Expect::Absent, Some(current)) => Some(Conflict::AlreadyExists { current }),
        (Expect::At(_), None) => Some(Conflict::NotFound),
        (Expect::At(expected), Some(current)) if current.version != expected => {
            Some(Conflict::VersionMismatch { expected, current })
        }
        _ => None,
    }
}

/// A condition failed, but the item read afterwards meets it: the item changed between
/// the write and the read. Nothing was written; the caller may retry.
pub(crate) fn changed_meanwhile(operation: Operation, key: &Key) -> Error {
    Error::backend(
        operation,
        Some(key),
        true,
        DynamoDbError::Contention(
            "the item changed while the conflict was being read; try again".to_string(),
        ),
    )
}

/// A failed condition. The request was sent once, or again only after an answer that
/// proved the earlier attempt was not applied (see `crate::resend`), so the condition
/// failed on someone else's write, never on the caller's own (SPEC R14).
fn refusal(item: Option<Item>) -> Outcome {
    Outcome::Refused(item.filter(|i| !i.is_empty()))
}

#[async_trait]
impl VersionedStore for DynamoDbStore {
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn get(&self, key: &Key) -> Result<Option<Versioned<Value>>> {
        validate::key(Operation::Get, key, &self.capabilities)?;
        self.read(Operation::Get, key).await
    }

    async fn insert(&self, key: &Key, value: Value) -> Result<Version> {
        self.checked_write(Operation::Insert, key, Expect::Absent, value)
            .await
    }

    async fn update(&self, key: &Key, expected: Version, value: Value) -> Result<Version> {
        self.checked_write(Operation::Update, key, Expect::At(expected), value)
            .await
    }

    async fn delete(&self, key: &Key, expected: Version) -> Result<()> {
        let operation = Operation::Delete;
        validate::key(operation, key, &self.capabilities)?;
        let expect = Expect::At(expected);
        match self.delete_item(operation, key, expect).await? {
            Outcome::Written => Ok(()),
            Outcome::Refused(item) => {
                let conflict = self.conflict(operation, key, expect, item).await?;
                Err(Error::conflict(operation, key.clone(), conflict))
            }
        }
    }

    /// A conditional `PutItem` that guesses the key is new; if it holds an item, the
    /// refusal returns it, and a second `PutItem` conditioned on that item's version
    /// replaces it. Each write is conditional, so a racing writer makes it go round
    /// again (up to a bound, then a retryable error), never lose an update.
    async fn put(&self, key: &Key, value: Value) -> Result<Version> {
        let operation = Operation::Put;
        validate::write(operation, key, &value, &self.capabilities)?;
        let mut expect = Expect::Absent;
        for _ in 0..WRITE_ROUNDS {
            let version = next_version(operation, key, expect)?;
            match self
                .put_item(operation, key, &value, expect, version)
                .await?
            {
                Outcome::Written => return Ok(version),
                Outcome::Refused(item) => {
                    expect = self.actual_state(operation, key, expect, item).await?;
                }
            }
        }
        Err(contention(operation, Some(key)))
    }

    async fn remove(&self, key: &Key) -> Result<Option<Version>> {
        let operation = Operation::Remove;
        validate::key(operation, key, &self.capabilities)?;
        let request = self
            .client
            .delete_item()
            .table_name(self.table.name())
            .set_key(Some(key_item(&self.table, key)))
            .return_values(ReturnValue::AllOld);
        let output = send_write(&self.client, not_applied, |once| {
            request.clone().customize().config_override(once).send()
        })
        .await
        .map_err(|e| map_sdk_error(e, operation, Some(key), self.table.name(), true))?;
        // Any earlier attempt was provably not applied, so "nothing there" is true.
        match output.attributes.filter(|item| !item.is_empty()) {
            Some(item) => version_of(&self.table, &item)
                .map(Some)
                .map_err(|reason| unreadable(operation, key, reason)),
            None => Ok(None),
        }
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        self.transact_ops(ops).await
    }
}

/// Writers kept winning the race against a `put`.
pub(crate) fn contention(operation: Operation, key: Option<&Key>) -> Error {
    Error::backend(
        operation,
        key,
        true,
        DynamoDbError::Contention(format!(
            "other writers changed the item {WRITE_ROUNDS} times during the write; nothing was written"
        )),
    )
}

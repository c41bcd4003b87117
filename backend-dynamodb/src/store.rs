//! The store: its settings, capabilities, and the [`Storage`] implementation that
//! sends each write to the requests that do it (see [`crate::single`], [`crate::put`],
//! [`crate::remove`], [`crate::transaction`], [`crate::purge`]).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::Client;
use optimist_core::retry::RetryPolicy;
use optimist_core::{
    Capabilities, Change, CommitOutcome, Decision, Expect, Held, Key, KeyShape, NumberSupport,
    Outcome, RangePage, RangeRequest, Record, Result, Storage, StorageError, Version, Write,
    async_trait,
};

use crate::condition::Requirement;
use crate::error::{BACKEND, DynamoDbError};
use crate::item::{Item, full_item, tombstone_item};
use crate::last_seen::LastSeen;
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
/// `update` one conditional `PutItem`; `delete` one conditional `DeleteItem` (in
/// tombstone mode a conditional `PutItem` of the tombstone); `remove` one `DeleteItem`
/// returning the old item (in tombstone mode a `GetItem`, then a conditional `PutItem`
/// of the tombstone when there is an item); `transact` one `TransactWriteItems`.
/// `put` is one conditional `PutItem` on a new key and on a key this store read or
/// wrote last (its first guess is the state the store last saw), two on an existing
/// key it has not seen or another client wrote since (see the crate's README). `get_many` is one consistent `BatchGetItem` (up to 100 keys);
/// a `query` page one consistent `Query` (tables with a sort key), a `scan` page one
/// consistent `Scan`. Conflicts carry the item returned with the failed condition.
/// Every item and tombstone carries the token of the write that left it, so core's
/// engine settles a write whose answer was lost by reading the item.
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
    /// The client's copy every request goes out on (see [`crate::requests`]).
    requests: Client,
    table: TableDescription,
    capabilities: Capabilities,
    conflict_items: ConflictItems,
    /// The largest item as DynamoDB counts it.
    item_limit: usize,
    retry_policy: RetryPolicy,
    tombstones: bool,
    tombstone_retention: Option<Duration>,
    response_timeout: Duration,
    /// What each recently used key was last seen holding: a put's first guess.
    last_seen: LastSeen,
}

/// Everything a store is built from (the builder's settings, resolved).
pub(crate) struct Parts {
    pub(crate) client: Client,
    pub(crate) requests: Client,
    pub(crate) table: TableDescription,
    pub(crate) item_limit: usize,
    pub(crate) retry_policy: RetryPolicy,
    pub(crate) conflict_items: ConflictItems,
    pub(crate) tombstones: bool,
    pub(crate) tombstone_retention: Option<Duration>,
    pub(crate) response_timeout: Duration,
}

impl fmt::Debug for DynamoDbStore {
    // The client holds the credentials provider: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbStore")
            .field("table", &self.inner.table)
            .field("conflict_items", &self.inner.conflict_items)
            .field("item_limit", &self.inner.item_limit)
            .field("retry_policy", &self.inner.retry_policy)
            .field("tombstones", &self.inner.tombstones)
            .field("tombstone_retention", &self.inner.tombstone_retention)
            .field("response_timeout", &self.inner.response_timeout)
            .finish_non_exhaustive()
    }
}

impl DynamoDbStore {
    /// How long a tombstone is kept, by default, before DynamoDB's time to live may
    /// delete it: 30 days (see
    /// [`tombstone_retention`](DynamoDbStoreBuilder::tombstone_retention)).
    pub const DEFAULT_TOMBSTONE_RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

    /// How long a request waits for its answer when neither the builder nor the
    /// client's timeout config says: 10 seconds.
    pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

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

    pub(crate) fn from_parts(parts: Parts) -> Self {
        let capabilities = capabilities(&parts.table, parts.item_limit, parts.tombstones);
        Self {
            inner: Arc::new(Inner {
                client: parts.client,
                requests: parts.requests,
                table: parts.table,
                capabilities,
                conflict_items: parts.conflict_items,
                item_limit: parts.item_limit,
                retry_policy: parts.retry_policy,
                tombstones: parts.tombstones,
                tombstone_retention: parts.tombstone_retention,
                response_timeout: parts.response_timeout,
                last_seen: LastSeen::default(),
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

    /// The SDK client the store was built with. The store's own requests go out on a
    /// copy of it that never resends a request and bounds each by the store's
    /// [`response_timeout`](Self::response_timeout); this one keeps your settings.
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

    /// Whether the store is in tombstone mode (see the builder's
    /// [`tombstones`](DynamoDbStoreBuilder::tombstones)).
    ///
    /// ```
    /// # use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// # let client = aws_sdk_dynamodb::Client::new(&config);
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "Id")).build()?;
    /// assert!(!store.tombstones());
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn tombstones(&self) -> bool {
        self.inner.tombstones
    }

    /// How long a tombstone is kept before DynamoDB's time to live may delete it: the
    /// TTL attribute a tombstone carries is its deletion time plus this. `None`: no TTL
    /// attribute, tombstones stay until
    /// [`purge_tombstones`](optimist_core::VersionedStore::purge_tombstones).
    ///
    /// ```
    /// # use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// # let client = aws_sdk_dynamodb::Client::new(&config);
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "Id")).build()?;
    /// assert_eq!(store.tombstone_retention(), Some(DynamoDbStore::DEFAULT_TOMBSTONE_RETENTION));
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn tombstone_retention(&self) -> Option<Duration> {
        self.inner.tombstone_retention
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

    /// The tombstone `write` leaves on the item at `version`, deleted now.
    pub(crate) fn tombstone(&self, write: &Write<'_>, version: Version) -> Item {
        tombstone_item(
            self.table_description(),
            write.key,
            version,
            write.token,
            SystemTime::now(),
            self.inner.tombstone_retention,
        )
    }
}

impl DynamoDbStore {
    /// The client every request of the store goes out on: the caller's, built once
    /// more to send each request once, bounded by the store's response timeout (see
    /// [`crate::requests`]).
    pub(crate) fn requests(&self) -> &Client {
        &self.inner.requests
    }

    /// How long any request waits for its answer (see
    /// [`response_timeout`](DynamoDbStoreBuilder::response_timeout)).
    ///
    /// ```
    /// use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// let client = aws_sdk_dynamodb::Client::new(&config);
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "pk")).build()?;
    /// assert_eq!(store.response_timeout(), DynamoDbStore::DEFAULT_RESPONSE_TIMEOUT);
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn response_timeout(&self) -> Duration {
        self.inner.response_timeout
    }
}

/// The most items a `query` or `scan` page may ask for. A page is one request of at
/// most 1 MB of items either way; this keeps a page's records in memory bounded.
const MAX_PAGE_SIZE: usize = 1000;

/// The capabilities of a store on `table` whose items may be `item_limit` bytes as
/// DynamoDB counts them. `max_item_bytes` (the key plus the compact JSON) leaves room
/// for the key and version attributes' names and the version number, so a document
/// within it fits DynamoDB's own count as long as it is mostly strings; the store also
/// checks DynamoDB's own count, which is larger than the JSON for long arrays of small
/// numbers or booleans.
fn capabilities(table: &TableDescription, item_limit: usize, tombstones: bool) -> Capabilities {
    let names: usize = table.reserved_attributes().iter().map(|n| n.len()).sum();
    // 22: the largest number DynamoDB counts (a u64 version); 53: the token attribute's
    // text (32 hex digits, `@`, up to 20 digits of version); 16: map and key overhead.
    let overhead = names + 22 + 53 + 16;
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
        .with_tombstones(tombstones)
        // One BatchGetItem takes 100 keys.
        .with_max_get_many(crate::batch::BATCH_GET_MAX_KEYS)
        .with_max_page_size(MAX_PAGE_SIZE)
        .with_range_reads(true)
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
    async fn read(&self, key: &Key) -> Result<Option<Record>, StorageError> {
        let record = self.get_record(key).await?;
        self.saw(key, Held::of(record.as_ref()));
        Ok(record)
    }

    /// insert and update: one conditional `PutItem`; delete: one conditional
    /// `DeleteItem`, or in tombstone mode one conditional `PutItem` of the tombstone;
    /// put and remove: see `src/put.rs` and `src/remove.rs`. A failed condition
    /// answers with the item returned with it. Every item and tombstone written
    /// carries the write's token.
    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        let outcome = self.send_write(write).await;
        match &outcome {
            Ok(Outcome::Applied { previous }) => self.saw_written(write, *previous),
            Ok(Outcome::Refused { current }) => self.saw(write.key, Held::of(current.as_ref())),
            // Lost, or an answer of another kind: nothing is known any more.
            _ => self.inner.last_seen.forget(write.key),
        }
        outcome
    }

    async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
        let outcome = crate::transaction::commit(self, writes).await;
        match &outcome {
            Ok(CommitOutcome::Applied { previous }) => {
                for (write, previous) in writes.iter().zip(previous) {
                    self.saw_written(write, *previous);
                }
            }
            Ok(CommitOutcome::Refused { current }) => {
                for (index, current) in current {
                    if let Some(write) = writes.get(*index) {
                        self.saw(write.key, Held::of(current.as_ref()));
                    }
                }
            }
            _ => {
                for write in writes {
                    self.inner.last_seen.forget(write.key);
                }
            }
        }
        outcome
    }

    /// The table's name and the client's region (see `src/identity.rs`).
    fn identity(&self) -> String {
        self.data_identity()
    }

    /// One consistent `BatchGetItem` per 100 keys, unprocessed keys sent again within
    /// the retry policy (see `src/batch.rs`).
    async fn read_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        let records = crate::batch::read_many(self, keys).await?;
        for (key, record) in keys.iter().zip(&records) {
            self.saw(key, Held::of(record.as_ref()));
        }
        Ok(records)
    }

    /// One consistent `Query` (a partition) or `Scan` (the table) per page (see
    /// `src/range.rs`).
    async fn read_range(&self, request: &RangeRequest<'_>) -> Result<RangePage, StorageError> {
        crate::range::read_range(self, request).await
    }

    /// One consistent `Scan` for tombstones left before the cutoff, and one
    /// conditional `DeleteItem` per tombstone (see `src/purge.rs`).
    async fn purge_tombstones(&self, older_than: Duration) -> Result<u64, StorageError> {
        crate::purge::purge(self, older_than).await
    }
}

impl DynamoDbStore {
    /// What `key` was last seen holding by this store, if it remembers (see
    /// [`crate::last_seen`]).
    pub(crate) fn last_seen(&self, key: &Key) -> Option<Held> {
        self.inner.last_seen.get(key)
    }

    fn saw(&self, key: &Key, held: Held) {
        self.inner.last_seen.saw(key, held);
    }

    /// `write` applied on a key that held `previous`: what the key holds now.
    fn saw_written(&self, write: &Write<'_>, previous: Held) {
        let now = match write.decide(previous) {
            Decision::Put(version) => Some(Held::Item(version)),
            Decision::Delete if self.tombstones() => previous.version().map(Held::Tombstone),
            Decision::Delete => Some(Held::Nothing),
            Decision::Keep => Some(previous),
            _ => None,
        };
        match now {
            Some(now) => self.saw(write.key, now),
            None => self.inner.last_seen.forget(write.key),
        }
    }

    /// insert and update: one conditional `PutItem`; delete: one conditional
    /// `DeleteItem`, or in tombstone mode one conditional `PutItem` of the tombstone;
    /// put and remove: see `src/put.rs` and `src/remove.rs`.
    async fn send_write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        let table = self.table_description();
        match (write.change, write.expect) {
            (Change::Put(value), Expect::Any) => crate::put::put(self, write, value).await,
            (Change::Delete, Expect::Any) => crate::remove::remove(self, write).await,
            (Change::Put(value), expect) => {
                match (write.new_version(), Requirement::of(expect).state()) {
                    (Some(version), Some(expected)) => {
                        let item = full_item(table, write.key, value, version, write.token);
                        self.check_item_size(write.key, &item)?;
                        self.put_item(write.key, item, expected).await
                    }
                    // Nothing follows u64::MAX (core sends a check instead; kept for safety).
                    _ => self.check(write).await,
                }
            }
            (Change::Delete, Expect::At(version)) if self.tombstones() => {
                let tombstone = self.tombstone(write, version);
                self.put_item(write.key, tombstone, Held::Item(version))
                    .await
            }
            (Change::Delete, Expect::At(version)) => self.delete_item(write.key, version).await,
            // A check, and a delete that expects nothing or a tombstone (it writes
            // nothing when its precondition holds).
            _ => self.check(write).await,
        }
    }
}

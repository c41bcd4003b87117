//! Building a [`DynamoDbStore`]: which client and table, the item size limit, where a
//! conflict's item comes from, how often a request is sent again, and whether deletes
//! leave tombstones.

use std::fmt;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use optimist_core::Result;
use optimist_core::retry::RetryPolicy;

use crate::error::configuration;
use crate::size::DYNAMODB_MAX_ITEM_BYTES;
use crate::store::Parts;
use crate::{DynamoDbStore, TableDescription};

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

/// Builds a [`DynamoDbStore`] from an SDK client and a [`TableDescription`].
///
/// [`build`](Self::build) checks the names and sends nothing;
/// [`connect`](Self::connect) also checks with one `DescribeTable` that the table
/// exists and is keyed as described.
///
/// ```no_run
/// use optimist_core::retry::RetryPolicy;
/// use optimist_dynamodb::{ConflictItems, DynamoDbStore, TableDescription};
///
/// # async fn example(config: aws_types::SdkConfig) -> optimist_core::Result<()> {
/// // `config` from `aws_config::load_from_env().await`, for example.
/// let client = aws_sdk_dynamodb::Client::new(&config);
/// let table = TableDescription::new("ProductCatalog", "Id").with_version_attribute("VersionNumber");
/// let store = DynamoDbStore::builder(client, table)
///     .conflict_items(ConflictItems::Returned)
///     .retry_policy(RetryPolicy::transient_default().clone())
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
pub struct DynamoDbStoreBuilder {
    client: Client,
    table: TableDescription,
    max_item_bytes: usize,
    retry_policy: Option<RetryPolicy>,
    conflict_items: ConflictItems,
    tombstones: bool,
    tombstone_retention: Option<Duration>,
    response_timeout: Option<Duration>,
}

// Hand-written: the client holds the credentials provider, never print it.
impl fmt::Debug for DynamoDbStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbStoreBuilder")
            .field("table", &self.table)
            .field("max_item_bytes", &self.max_item_bytes)
            .field("retry_policy", &self.retry_policy)
            .field("conflict_items", &self.conflict_items)
            .field("tombstones", &self.tombstones)
            .field("tombstone_retention", &self.tombstone_retention)
            .field("response_timeout", &self.response_timeout)
            .finish_non_exhaustive()
    }
}

impl DynamoDbStoreBuilder {
    pub(crate) fn new(client: Client, table: TableDescription) -> Self {
        Self {
            client,
            table,
            max_item_bytes: DYNAMODB_MAX_ITEM_BYTES,
            retry_policy: None,
            conflict_items: ConflictItems::default(),
            tombstones: false,
            tombstone_retention: Some(DynamoDbStore::DEFAULT_TOMBSTONE_RETENTION),
            response_timeout: None,
        }
    }

    /// The largest item, counted as DynamoDB counts it (attribute names and values);
    /// default and most 400 KB, DynamoDB's limit. For servers with a lower limit: moto
    /// refuses items over 405,000 bytes. The store's
    /// [`Capabilities::max_item_bytes`](optimist_core::Capabilities::max_item_bytes)
    /// (key plus compact JSON, the measure every backend shares) is this less room for
    /// the key and version attributes.
    ///
    /// ```
    /// # use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # use optimist_core::VersionedStore;
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// # let client = aws_sdk_dynamodb::Client::new(&config);
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "pk"))
    ///     .max_item_bytes(405_000)
    ///     .build()?;
    /// assert!(store.capabilities().max_item_bytes < 405_000);
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn max_item_bytes(mut self, bytes: usize) -> Self {
        self.max_item_bytes = bytes.min(DYNAMODB_MAX_ITEM_BYTES);
        self
    }

    /// How often a request that provably applied nothing (throttled, a transaction
    /// conflict, a connection refused; any read) is sent again, and how long to wait in
    /// between; core's engine does the resending.
    ///
    /// Without it, the client's own retry config decides, read when the store is
    /// built: its `max_attempts`, `initial_backoff` and `max_backoff` (`aws_config`'s
    /// default, standard mode, gives 3 attempts; a client built without a retry config
    /// gets 1, as the SDK itself would). The SDK itself never resends a request of the
    /// store: it cannot tell whether a write that timed out was applied.
    ///
    /// ```
    /// # use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # use optimist_core::{retry::RetryPolicy, Storage};
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// # let client = aws_sdk_dynamodb::Client::new(&config);
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "pk"))
    ///     .retry_policy(RetryPolicy::no_retry())
    ///     .build()?;
    /// assert_eq!(store.retry_policy().max_attempts(), 1);
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// Where a conflict's item comes from when the service returns none
    /// ([`ConflictItems::ReadWhenMissing`] by default).
    ///
    /// ```
    /// # use optimist_dynamodb::{ConflictItems, DynamoDbStore, TableDescription};
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// # let client = aws_sdk_dynamodb::Client::new(&config);
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "pk"))
    ///     .conflict_items(ConflictItems::Returned)
    ///     .build()?;
    /// assert_eq!(store.conflict_items(), ConflictItems::Returned);
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn conflict_items(mut self, conflict_items: ConflictItems) -> Self {
        self.conflict_items = conflict_items;
        self
    }

    /// Tombstone mode (contract R15), off by default. On, `delete` and `remove` replace
    /// the item by a tombstone that keeps its version (and the delete's token), so an
    /// insert on the key continues at the next version: a version is never reused for
    /// a key, and an insert still travelling from before the delete cannot bring the
    /// item back. Reads do not show tombstones. They are purged by DynamoDB's time to
    /// live (see [`tombstone_retention`](Self::tombstone_retention)) or by
    /// [`purge_tombstones`](optimist_core::VersionedStore::purge_tombstones).
    ///
    /// Off by default because it is the contract's default (a key deleted and inserted
    /// again restarts at version 1), because other clients of the table see tombstones
    /// as items unless they skip the deleted attribute, and because `remove` then costs
    /// two requests on an existing item (a `GetItem` for the version, then the
    /// tombstone's `PutItem`).
    ///
    /// ```
    /// # use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # use optimist_core::VersionedStore;
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// # let client = aws_sdk_dynamodb::Client::new(&config);
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "pk"))
    ///     .tombstones(true)
    ///     .build()?;
    /// assert!(store.capabilities().tombstones);
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn tombstones(mut self, on: bool) -> Self {
        self.tombstones = on;
        self
    }

    /// How long a tombstone is kept at least: each tombstone carries the
    /// [TTL attribute](TableDescription::ttl_attribute), its deletion time plus this in
    /// seconds since the epoch, so a table with time to live enabled on that attribute
    /// has DynamoDB delete it some time after (usually within days, free of write
    /// capacity; a key written since holds an item without the TTL attribute, which
    /// TTL does not select). Default
    /// [`DEFAULT_TOMBSTONE_RETENTION`](DynamoDbStore::DEFAULT_TOMBSTONE_RETENTION), 30
    /// days; `None` writes no TTL attribute (tombstones stay until `purge_tombstones`).
    /// Keep it well above the longest time a request can spend in flight.
    ///
    /// ```
    /// # use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # use std::time::Duration;
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// # let client = aws_sdk_dynamodb::Client::new(&config);
    /// let week = Duration::from_secs(7 * 24 * 3600);
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "pk"))
    ///     .tombstones(true)
    ///     .tombstone_retention(Some(week))
    ///     .build()?;
    /// assert_eq!(store.tombstone_retention(), Some(week));
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn tombstone_retention(mut self, retention: Option<Duration>) -> Self {
        self.tombstone_retention = retention;
        self
    }

    /// How long any request waits for its answer before it counts as lost (contract
    /// R12): a write past it is settled by the engine from its write token, or
    /// `Indeterminate`; a read is sent again within the retry policy. Default: the
    /// client's own attempt (or operation) timeout if its config sets one, else
    /// [`DEFAULT_RESPONSE_TIMEOUT`](DynamoDbStore::DEFAULT_RESPONSE_TIMEOUT), 10 s: a
    /// server that never answers cannot hang a caller. Zero is
    /// [`Error::Configuration`](optimist_core::Error::Configuration) from `build`.
    ///
    /// ```
    /// # use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// # use std::time::Duration;
    /// # let config = aws_types::SdkConfig::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build();
    /// # let client = aws_sdk_dynamodb::Client::new(&config);
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "pk"))
    ///     .response_timeout(Duration::from_secs(2))
    ///     .build()?;
    /// assert_eq!(store.response_timeout(), Duration::from_secs(2));
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = Some(timeout);
        self
    }

    /// The store, without contacting the service. The table must exist with the
    /// described key schema; [`connect`](Self::connect) checks it. Names that cannot be
    /// a table's are [`Error::Configuration`](optimist_core::Error::Configuration), and
    /// so is a client with no async sleep implementation (it could not bound a request
    /// by the response timeout). The store's requests go out on a copy of the client
    /// built here, once: the same credentials, region, endpoint and HTTP client, no
    /// resend by the SDK, each request bounded by the response timeout; the client you
    /// gave is not changed.
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
    /// let store = DynamoDbStore::builder(client.clone(), TableDescription::new("orders", "pk")).build()?;
    /// assert_eq!(store.table(), "orders");
    /// let err = DynamoDbStore::builder(client, TableDescription::new("a b", "pk")).build().unwrap_err();
    /// assert!(matches!(err, optimist_core::Error::Configuration { .. }));
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn build(self) -> Result<DynamoDbStore> {
        self.table.check().map_err(configuration)?;
        let retry_policy = self
            .retry_policy
            .unwrap_or_else(|| policy_of_client(&self.client));
        let response_timeout = self
            .response_timeout
            .or_else(|| timeout_of_client(&self.client))
            .unwrap_or(DynamoDbStore::DEFAULT_RESPONSE_TIMEOUT);
        if response_timeout.is_zero() {
            return Err(configuration("the response timeout must be above zero"));
        }
        let requests = crate::requests::once_client(&self.client, response_timeout)?;
        Ok(DynamoDbStore::from_parts(Parts {
            client: self.client,
            requests,
            table: self.table,
            item_limit: self.max_item_bytes,
            retry_policy,
            conflict_items: self.conflict_items,
            tombstones: self.tombstones,
            tombstone_retention: self.tombstone_retention,
            response_timeout,
        }))
    }

    /// Like [`build`](Self::build), then checks with one `DescribeTable` that the
    /// table exists and that its key schema is the description's (string keys, same
    /// names). A missing table or another key schema is
    /// [`Error::Configuration`](optimist_core::Error::Configuration); a failed request
    /// is [`Error::Backend`](optimist_core::Error::Backend).
    ///
    /// ```no_run
    /// # async fn example(client: aws_sdk_dynamodb::Client) -> optimist_core::Result<()> {
    /// use optimist_dynamodb::{DynamoDbStore, TableDescription};
    /// let store = DynamoDbStore::builder(client, TableDescription::new("orders", "pk"))
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(self) -> Result<DynamoDbStore> {
        let store = self.build()?;
        crate::setup::verify_table(store.client(), store.table_description()).await?;
        Ok(store)
    }
}

/// The client's own bound on one request, if its timeout config sets one.
fn timeout_of_client(client: &Client) -> Option<Duration> {
    let timeouts = client.config().timeout_config()?;
    timeouts
        .operation_attempt_timeout()
        .or_else(|| timeouts.operation_timeout())
}

/// The resends the client's retry config allows: its attempts and backoff. A client
/// built without one does not retry (the SDK's own default).
fn policy_of_client(client: &Client) -> RetryPolicy {
    let retry = client
        .config()
        .retry_config()
        .cloned()
        .unwrap_or_else(RetryConfig::disabled);
    RetryPolicy::new(
        retry.max_attempts(),
        retry.initial_backoff(),
        retry.max_backoff(),
    )
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used)] // tests fail by panicking
mod tests {
    use super::*;
    use std::time::Duration;

    use aws_sdk_dynamodb::config::{BehaviorVersion, Config, Region};
    use optimist_core::Storage;

    fn client(retry: Option<RetryConfig>) -> Client {
        let mut config = Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"));
        if let Some(retry) = retry {
            config = config.retry_config(retry);
        }
        Client::from_conf(config.build())
    }

    fn build(client: Client) -> DynamoDbStore {
        DynamoDbStore::builder(client, TableDescription::new("orders", "pk"))
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_retry_policy_comes_from_the_clients_retry_config() {
        let retry = RetryConfig::standard()
            .with_max_attempts(5)
            .with_initial_backoff(Duration::from_millis(7))
            .with_max_backoff(Duration::from_millis(70));
        let store = build(client(Some(retry)));
        assert_eq!(
            store.retry_policy(),
            &RetryPolicy::new(5, Duration::from_millis(7), Duration::from_millis(70))
        );
        // No retry config: the SDK would not retry, neither does the store.
        assert_eq!(build(client(None)).retry_policy().max_attempts(), 1);
    }

    #[test]
    fn a_given_retry_policy_wins() {
        let store = DynamoDbStore::builder(
            client(Some(RetryConfig::standard())),
            TableDescription::new("orders", "pk"),
        )
        .retry_policy(RetryPolicy::default())
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.retry_policy(), &RetryPolicy::default());
    }

    #[test]
    fn bad_names_are_configuration_errors() {
        for table in [
            TableDescription::new("ab", "pk"),
            TableDescription::new("orders", ""),
            TableDescription::new("orders", "pk").with_version_attribute("pk"),
            TableDescription::new("orders", "pk").with_token_attribute("version"),
            TableDescription::new("orders", "pk").with_deleted_attribute(""),
            TableDescription::new("orders", "pk")
                .with_ttl_attribute("t")
                .with_deleted_attribute("t"),
        ] {
            let err = DynamoDbStore::builder(client(None), table.clone())
                .build()
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    optimist_core::Error::Configuration {
                        backend: "dynamodb",
                        ..
                    }
                ),
                "{table:?}: {err}"
            );
        }
    }
}

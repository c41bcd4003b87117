//! [`DynamoDbConfig`]: a store's settings as data, from a `dynamodb://` URL or from a
//! service's own config file.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Config, Credentials, Region};
use optimist_core::Result;
use optimist_core::url_options::read_options;
use serde::Deserialize;

use crate::error::configuration;
use crate::{ConflictItems, DynamoDbStore, DynamoDbStoreBuilder, TableDescription, create_table};

/// The settings of a [`DynamoDbStore`]: read from a URL with
/// [`from_url`](Self::from_url) or deserialized from a service's config file (unknown
/// fields are refused, naming them).
///
/// It holds no credentials: [`client`](Self::client) reads them from the standard
/// variables `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`. A
/// service that uses profiles, SSO or instance roles builds its client with
/// `aws-config` and gives it to [`builder_with`](Self::builder_with).
///
/// ```
/// use optimist_dynamodb::DynamoDbConfig;
///
/// let config = DynamoDbConfig::from_url(
///     "dynamodb://ProductCatalog?region=eu-west-1&partition_key=Id&version_attribute=VersionNumber",
/// )?;
/// assert_eq!(config.table, "ProductCatalog");
/// assert_eq!(config.description().version_attribute(), "VersionNumber");
///
/// let from_json: DynamoDbConfig = serde_json::from_str(
///     r#"{"table": "orders", "region": "us-east-1", "sort_key": "sk"}"#,
/// ).unwrap();
/// assert_eq!(from_json.partition_key, "pk");
/// # Ok::<(), optimist_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamoDbConfig {
    /// The table's name.
    pub table: String,
    /// The AWS region; `AWS_REGION` or `AWS_DEFAULT_REGION` when `None`.
    #[serde(default)]
    pub region: Option<String>,
    /// Another endpoint (DynamoDB Local, LocalStack, ScyllaDB Alternator, moto);
    /// `AWS_ENDPOINT_URL_DYNAMODB` or `AWS_ENDPOINT_URL` when `None`, else AWS's.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The partition-key attribute; `pk` unless given.
    #[serde(default = "default_partition_key")]
    pub partition_key: String,
    /// The sort-key attribute, for a table that has one.
    #[serde(default)]
    pub sort_key: Option<String>,
    /// [`TableDescription::with_version_attribute`].
    #[serde(default)]
    pub version_attribute: Option<String>,
    /// [`TableDescription::with_token_attribute`].
    #[serde(default)]
    pub token_attribute: Option<String>,
    /// [`TableDescription::with_deleted_attribute`].
    #[serde(default)]
    pub deleted_attribute: Option<String>,
    /// [`TableDescription::with_ttl_attribute`].
    #[serde(default)]
    pub ttl_attribute: Option<String>,
    /// Tombstone mode ([`DynamoDbStoreBuilder::tombstones`]); off by default.
    #[serde(default)]
    pub tombstones: bool,
    /// [`DynamoDbStoreBuilder::tombstone_retention`] in seconds; 0 keeps tombstones
    /// until purged.
    #[serde(default)]
    pub tombstone_retention_secs: Option<u64>,
    /// [`DynamoDbStoreBuilder::response_timeout`] in milliseconds.
    #[serde(default)]
    pub response_timeout_ms: Option<u64>,
    /// [`DynamoDbStoreBuilder::max_item_bytes`].
    #[serde(default)]
    pub max_item_bytes: Option<usize>,
    /// [`DynamoDbStoreBuilder::conflict_items`]: `read_when_missing` (the default) or
    /// `returned`.
    #[serde(default)]
    pub conflict_items: Option<ConflictItemsSetting>,
    /// Whether [`connect`](Self::connect) creates the table when it is missing (with
    /// [`create_table`]): for development; off by default.
    #[serde(default)]
    pub create_table: bool,
}

/// [`ConflictItems`] as a config file or URL spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictItemsSetting {
    /// [`ConflictItems::ReadWhenMissing`].
    ReadWhenMissing,
    /// [`ConflictItems::Returned`].
    Returned,
}

fn default_partition_key() -> String {
    "pk".to_string()
}

impl DynamoDbConfig {
    /// Reads `dynamodb://TABLE?region=…&endpoint=…`, with the options `region`,
    /// `endpoint`, `partition_key` (default `pk`), `sort_key`, `version_attribute`,
    /// `token_attribute`, `deleted_attribute`, `ttl_attribute`, `tombstones`,
    /// `tombstone_retention_secs`, `response_timeout_ms`, `max_item_bytes`,
    /// `conflict_items` (`read_when_missing` or `returned`) and `create_table`.
    ///
    /// Errors, all `Error::Configuration` naming the problem: another scheme, no table,
    /// a path after it, an unknown option (credentials among them: they come from the
    /// environment), a value of the wrong type, names DynamoDB would refuse.
    ///
    /// ```
    /// use optimist_dynamodb::DynamoDbConfig;
    /// let err = DynamoDbConfig::from_url("dynamodb://?region=eu-west-1").unwrap_err();
    /// assert!(err.to_string().contains("no table"), "{err}");
    /// let err = DynamoDbConfig::from_url("dynamodb://tbl?regoin=x").unwrap_err();
    /// assert!(err.to_string().contains("unknown field `regoin`"), "{err}");
    /// ```
    pub fn from_url(url: &str) -> Result<Self> {
        let Some(rest) = url.strip_prefix("dynamodb://") else {
            return Err(configuration(
                "a DynamoDB URL starts with dynamodb:// (dynamodb://TABLE?region=…)",
            ));
        };
        let (table, query) = rest.split_once('?').unwrap_or((rest, ""));
        if table.is_empty() {
            return Err(configuration(
                "no table: write dynamodb://TABLE?region=… with the table's name",
            ));
        }
        if table.contains(['/', '#', '@', ':']) {
            // Not quoted: it may hold credentials written where they do not belong.
            return Err(configuration(
                "what follows dynamodb:// is not a table name: dynamodb://TABLE takes no \
                 path, port or credentials (these come from AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY)",
            ));
        }
        let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        let table_pair = format!("table={table}");
        pairs.push(&table_pair);
        let config: Self = read_options(&pairs, "&table=any")
            .map_err(|why| configuration(format!("invalid option in the DynamoDB URL: {why}")))?;
        config.description().check().map_err(configuration)?;
        Ok(config)
    }

    /// The table's description: its name and attribute names.
    ///
    /// ```
    /// let config = optimist_dynamodb::DynamoDbConfig::from_url("dynamodb://tbl?sort_key=sk")?;
    /// assert_eq!(config.description().sort_key(), Some("sk"));
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn description(&self) -> TableDescription {
        let mut table = TableDescription::new(self.table.clone(), self.partition_key.clone());
        if let Some(sort_key) = &self.sort_key {
            table = table.with_sort_key(sort_key.clone());
        }
        if let Some(name) = &self.version_attribute {
            table = table.with_version_attribute(name.clone());
        }
        if let Some(name) = &self.token_attribute {
            table = table.with_token_attribute(name.clone());
        }
        if let Some(name) = &self.deleted_attribute {
            table = table.with_deleted_attribute(name.clone());
        }
        if let Some(name) = &self.ttl_attribute {
            table = table.with_ttl_attribute(name.clone());
        }
        table
    }

    /// An SDK client for the region and endpoint, with the credentials of the
    /// environment and the SDK's standard retry config (3 attempts, from which the
    /// store takes its retry policy). No region, or no credentials, is
    /// `Error::Configuration` naming the variables to set.
    ///
    /// ```no_run
    /// let client = optimist_dynamodb::DynamoDbConfig::from_url("dynamodb://tbl?region=eu-west-1")?.client()?;
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn client(&self) -> Result<Client> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let region = self
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .ok_or_else(|| {
                configuration("no region: add ?region=… to the URL or set AWS_REGION")
            })?;
        let (Some(key_id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err(configuration(
                "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and \
                 AWS_SESSION_TOKEN for temporary ones)",
            ));
        };
        let credentials = Credentials::new(
            key_id,
            secret,
            env("AWS_SESSION_TOKEN"),
            None,
            "optimist-environment",
        );
        let mut config = Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard())
            .region(Region::new(region))
            .credentials_provider(credentials);
        let endpoint = self
            .endpoint
            .clone()
            .or_else(|| env("AWS_ENDPOINT_URL_DYNAMODB"))
            .or_else(|| env("AWS_ENDPOINT_URL"));
        if let Some(endpoint) = endpoint {
            config = config.endpoint_url(endpoint);
        }
        Ok(Client::from_conf(config.build()))
    }

    /// A builder with these settings on `client`, for a client of the service's own
    /// and settings a URL cannot hold (a retry policy).
    ///
    /// ```no_run
    /// # fn demo(client: aws_sdk_dynamodb::Client) -> optimist_core::Result<()> {
    /// let config = optimist_dynamodb::DynamoDbConfig::from_url("dynamodb://orders")?;
    /// let store = config.builder_with(client).build()?;
    /// # Ok(()) }
    /// ```
    pub fn builder_with(&self, client: Client) -> DynamoDbStoreBuilder {
        let mut builder =
            DynamoDbStore::builder(client, self.description()).tombstones(self.tombstones);
        if let Some(secs) = self.tombstone_retention_secs {
            builder = builder.tombstone_retention((secs > 0).then(|| Duration::from_secs(secs)));
        }
        if let Some(ms) = self.response_timeout_ms {
            builder = builder.response_timeout(Duration::from_millis(ms));
        }
        if let Some(bytes) = self.max_item_bytes {
            builder = builder.max_item_bytes(bytes);
        }
        if let Some(setting) = self.conflict_items {
            builder = builder.conflict_items(match setting {
                ConflictItemsSetting::ReadWhenMissing => ConflictItems::ReadWhenMissing,
                ConflictItemsSetting::Returned => ConflictItems::Returned,
            });
        }
        builder
    }

    /// Connects: a [`client`](Self::client) from the environment, the table created
    /// first when [`create_table`](Self::create_table) is set, then
    /// [`DynamoDbStoreBuilder::connect`], which checks the table with one
    /// `DescribeTable` (a missing table is `Error::Configuration`).
    ///
    /// ```no_run
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let config = optimist_dynamodb::DynamoDbConfig::from_url("dynamodb://orders?region=eu-west-1")?;
    /// let store = config.connect().await?;
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn connect(&self) -> Result<DynamoDbStore> {
        let client = self.client()?;
        if self.create_table {
            create_table(&client, &self.description()).await?;
        }
        self.builder_with(client).connect().await
    }
}

#[cfg(test)]
#[allow(clippy::panic)] // tests fail by panicking
mod tests {
    use super::*;
    use optimist_core::Error;

    #[test]
    fn every_option_is_read() {
        let config = DynamoDbConfig::from_url(
            "dynamodb://t-1?region=r&endpoint=http%3A%2F%2F127.0.0.1%3A8000&partition_key=Id&sort_key=S\
             &version_attribute=V&token_attribute=T&deleted_attribute=D&ttl_attribute=X&tombstones=true\
             &tombstone_retention_secs=0&response_timeout_ms=7&max_item_bytes=1000&conflict_items=returned\
             &create_table=true",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.endpoint.as_deref(), Some("http://127.0.0.1:8000"));
        let table = config.description();
        assert_eq!(
            (table.name(), table.partition_key(), table.sort_key()),
            ("t-1", "Id", Some("S"))
        );
        assert_eq!(
            (
                table.version_attribute(),
                table.token_attribute(),
                table.deleted_attribute(),
                table.ttl_attribute()
            ),
            ("V", "T", "D", "X")
        );
        assert!(config.tombstones && config.create_table);
        assert_eq!(config.tombstone_retention_secs, Some(0));
        assert_eq!(config.conflict_items, Some(ConflictItemsSetting::Returned));
    }

    #[test]
    fn refusals_name_the_problem() {
        for (url, says) in [
            ("dynamodb://", "no table"),
            ("dynamodb://a/b", "not a table name"),
            ("dynamodb://key:hunter22@tbl", "not a table name"),
            ("dynamodb://tbl?access_key=x", "unknown field `access_key`"),
            ("dynamodb://tbl?conflict_items=never", "conflict_items"),
            ("dynamodb://tbl?version_attribute=pk", "pk"),
            ("dynamo://t", "starts with dynamodb://"),
        ] {
            match DynamoDbConfig::from_url(url) {
                Err(Error::Configuration { reason, .. }) => {
                    assert!(reason.contains(says), "{url}: {reason}");
                    assert!(!reason.contains("hunter22"), "{url}: {reason}");
                }
                other => panic!("{url}: expected a configuration error, got {other:?}"),
            }
        }
    }
}

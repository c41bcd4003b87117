//! [`StoreConfig`]: the settings of a store of any enabled backend, from a URL or a
//! config file.

use std::sync::Arc;

use optimist_core::{Result, VersionedStore};
use serde::Deserialize;

use crate::scheme::Backend;

/// The settings of a store of any enabled backend: one variant per backend, holding
/// that backend's own config type. Read from a URL with [`from_url`](Self::from_url),
/// or deserialized from a service's config file with the backend named in `backend`
/// (unknown fields are refused, naming them). Its `Debug` output hides passwords.
///
/// ```
/// use optimist::StoreConfig;
///
/// let config = StoreConfig::from_url("sqlite::memory:?table=orders")?;
/// assert_eq!(config.backend(), optimist::Backend::Sqlite);
///
/// let from_json: StoreConfig = serde_json::from_str(r#"{"backend": "memory", "tombstones": true}"#).unwrap();
/// assert_eq!(from_json.backend(), optimist::Backend::Memory);
/// # Ok::<(), optimist::Error>(())
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
#[non_exhaustive]
pub enum StoreConfig {
    /// `memory://`: see [`MemoryConfig::from_url`](optimist_memory::MemoryConfig::from_url).
    #[cfg(feature = "memory")]
    Memory(optimist_memory::MemoryConfig),
    /// `sqlite:`: see [`SqliteConfig::from_url`](optimist_sqlite::SqliteConfig::from_url).
    #[cfg(feature = "sqlite")]
    Sqlite(optimist_sqlite::SqliteConfig),
    /// `postgres://`: see
    /// [`PostgresConfig::from_url`](optimist_postgres::PostgresConfig::from_url).
    #[cfg(feature = "postgres")]
    Postgres(optimist_postgres::PostgresConfig),
    /// `redis://`, `rediss://`: see
    /// [`RedisConfig::from_url`](optimist_redis::RedisConfig::from_url).
    #[cfg(feature = "redis")]
    Redis(optimist_redis::RedisConfig),
    /// `dynamodb://`: see
    /// [`DynamoDbConfig::from_url`](optimist_dynamodb::DynamoDbConfig::from_url).
    #[cfg(feature = "dynamodb")]
    #[serde(rename = "dynamodb")]
    DynamoDb(optimist_dynamodb::DynamoDbConfig),
}

impl StoreConfig {
    /// Reads a store URL: the scheme picks the backend, whose config type reads the
    /// rest. Nothing is sent anywhere. An unknown scheme, a backend this build lacks
    /// (naming the feature to enable), a malformed URL, a missing table or prefix and
    /// an unknown option are `Error::Configuration`, naming the problem and never a
    /// password.
    ///
    /// ```
    /// use optimist::StoreConfig;
    /// let err = StoreConfig::from_url("memory://?tombstone=true").unwrap_err();
    /// assert!(err.to_string().contains("unknown field `tombstone`"), "{err}");
    /// ```
    pub fn from_url(url: &str) -> Result<Self> {
        let url = url.trim();
        let backend = Backend::of_url(url)?;
        match backend {
            #[cfg(feature = "memory")]
            Backend::Memory => Ok(Self::Memory(optimist_memory::MemoryConfig::from_url(url)?)),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => Ok(Self::Sqlite(optimist_sqlite::SqliteConfig::from_url(url)?)),
            #[cfg(feature = "postgres")]
            Backend::Postgres => Ok(Self::Postgres(optimist_postgres::PostgresConfig::from_url(
                url,
            )?)),
            #[cfg(feature = "redis")]
            Backend::Redis => Ok(Self::Redis(optimist_redis::RedisConfig::from_url(url)?)),
            #[cfg(feature = "dynamodb")]
            Backend::DynamoDb => Ok(Self::DynamoDb(optimist_dynamodb::DynamoDbConfig::from_url(
                url,
            )?)),
            #[allow(unreachable_patterns)] // every backend compiled in
            missing => Err(missing.not_compiled_in()),
        }
    }

    /// The backend these settings are for.
    pub fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "memory")]
            Self::Memory(_) => Backend::Memory,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "redis")]
            Self::Redis(_) => Backend::Redis,
            #[cfg(feature = "dynamodb")]
            Self::DynamoDb(_) => Backend::DynamoDb,
        }
    }

    /// Connects (or opens) the store, shared. A server that cannot be reached is a
    /// `Error::Backend` of [`Operation::Setup`](optimist_core::Operation::Setup);
    /// settings the server refuses (a table of another schema, a missing DynamoDB
    /// table) are `Error::Configuration`.
    ///
    /// ```
    /// use optimist::{Key, StoreConfig, VersionedStore};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = StoreConfig::from_url("sqlite::memory:")?.connect().await?;
    /// assert_eq!(store.get(&Key::new("k")).await?, None);
    /// # Ok::<(), optimist::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn connect(&self) -> Result<Arc<dyn VersionedStore>> {
        Ok(match self {
            #[cfg(feature = "memory")]
            Self::Memory(config) => Arc::new(config.build()),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(config) => Arc::new(config.connect().await?),
            #[cfg(feature = "postgres")]
            Self::Postgres(config) => Arc::new(config.connect().await?),
            #[cfg(feature = "redis")]
            Self::Redis(config) => Arc::new(config.connect().await?),
            #[cfg(feature = "dynamodb")]
            Self::DynamoDb(config) => Arc::new(config.connect().await?),
        })
    }
}

//! [`connect`] and [`connect_from_env`]: a shared store from a URL.

use std::sync::Arc;

use optimist_core::{Error, Result, VersionedStore};

use crate::StoreConfig;
use crate::scheme::CONNECT;

/// The environment variable [`connect_from_env`] reads.
pub const URL_VAR: &str = "OPTIMIST_URL";

/// A shared store for `url`, of any enabled backend: [`StoreConfig::from_url`], then
/// [`StoreConfig::connect`].
///
/// | URL | store |
/// | --- | --- |
/// | `memory://` | a new in-memory store |
/// | `sqlite::memory:` | a new SQLite database in memory |
/// | `sqlite://path.db?mode=rwc&table=NAME` | a SQLite file (WAL), created if missing |
/// | `postgres://user:pw@host/db?table=NAME` | a PostgreSQL table, created if missing |
/// | `redis://:pw@host:6379/0?prefix=NAME`, `rediss://…` | keys under a prefix |
/// | `redis+cluster://:pw@h1:7000,h2:7000?prefix=NAME` | a Redis Cluster, partitions spread over its shards |
/// | `dynamodb://TABLE?region=…&endpoint=…&partition_key=…` | an existing table |
///
/// Bad input (an unknown scheme, a backend this build lacks, a malformed URL, a
/// missing table or prefix, an unknown option) is `Error::Configuration` naming the
/// problem and the fix, found before anything is sent, so nothing is created. A
/// server that cannot be reached is `Error::Backend` of `Operation::Setup`. No error
/// shows a password.
///
/// ```
/// use optimist::{Key, VersionedStore};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = optimist::connect("sqlite::memory:?table=orders").await?;
/// store.insert(&Key::new("order-1"), serde_json::json!({"total": 3})).await?;
///
/// let err = optimist::connect("redis-cluster://h").await.err().unwrap();
/// assert!(err.to_string().contains("unknown scheme"), "{err}");
/// # Ok::<(), optimist::Error>(())
/// # }).unwrap();
/// ```
pub async fn connect(url: &str) -> Result<Arc<dyn VersionedStore>> {
    StoreConfig::from_url(url)?.connect().await
}

/// [`connect`] to the URL in `OPTIMIST_URL`, so a service takes its store from its
/// environment: `memory://` in unit tests, DynamoDB in production. Unset or empty is
/// `Error::Configuration` naming the variable.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// // SAFETY of the example: nothing else reads the environment meanwhile.
/// unsafe { std::env::set_var("OPTIMIST_URL", "memory://") };
/// let store = optimist::connect_from_env().await?;
/// # Ok::<(), optimist::Error>(())
/// # }).unwrap();
/// ```
pub async fn connect_from_env() -> Result<Arc<dyn VersionedStore>> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => connect(&url).await,
        _ => Err(Error::configuration(
            CONNECT,
            format!(
                "{URL_VAR} is not set: set it to a store URL, for example memory:// or \
                 sqlite::memory:"
            ),
        )),
    }
}

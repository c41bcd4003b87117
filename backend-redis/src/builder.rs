//! Building a [`RedisStore`]: where to connect, under which prefix, and how often to
//! resend a request after a transient failure.

use std::fmt;
use std::time::Duration;

use optimist_core::retry::RetryPolicy;
use optimist_core::{Error, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::{BACKEND, bad_url, setup};
use crate::redact::{redact_url, secrets_in};
use crate::{Prefix, RedisStore, scripts};

/// Builds a [`RedisStore`]. Needs a key prefix and either a URL or a
/// [`ConnectionManager`].
///
/// `build` checks the prefix, connects, and loads the store's scripts into the
/// server's cache (one round trip), so a store that builds is ready and every later
/// operation is one round trip.
///
/// ```no_run
/// use optimist_redis::RedisStore;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// // From a URL; the password never shows in Debug output or errors.
/// let store = RedisStore::builder()
///     .url("redis://:secret@127.0.0.1:6379/0")
///     .prefix("orders")
///     .build()
///     .await?;
///
/// // Or from a connection manager you already have.
/// let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
/// let manager = redis::aio::ConnectionManager::new(client).await.unwrap();
/// let invoices = RedisStore::builder().connection(manager).prefix("invoices").build().await?;
/// # Ok::<(), optimist_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Default)]
pub struct RedisStoreBuilder {
    source: Option<Source>,
    prefix: Option<String>,
    config: Option<ConnectionManagerConfig>,
    retry_policy: Option<RetryPolicy>,
    tombstones: bool,
}

enum Source {
    Url(String),
    Manager(ConnectionManager),
}

impl RedisStoreBuilder {
    /// Connect to this URL (`redis://[user][:password@]host[:port][/db]`, or
    /// `rediss://` when the `redis` crate has TLS enabled).
    ///
    /// ```
    /// let builder = optimist_redis::RedisStore::builder().url("redis://127.0.0.1:6379");
    /// ```
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.source = Some(Source::Url(url.into()));
        self
    }

    /// Use this connection manager (and its settings) instead of a URL.
    ///
    /// ```no_run
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    /// let manager = redis::aio::ConnectionManager::new(client).await.unwrap();
    /// let builder = optimist_redis::RedisStore::builder().connection(manager);
    /// # });
    /// ```
    pub fn connection(mut self, manager: ConnectionManager) -> Self {
        self.source = Some(Source::Manager(manager));
        self
    }

    /// The key prefix; required. Stores with different prefixes never see each other's
    /// items. See [`Prefix`] for what a prefix may hold.
    ///
    /// ```
    /// let builder = optimist_redis::RedisStore::builder().prefix("orders");
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Settings for the connection manager built from [`url`](Self::url). Without
    /// it: [`default_config`](Self::default_config).
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = redis::aio::ConnectionManagerConfig::new()
    ///     .set_response_timeout(Some(Duration::from_secs(1)));
    /// let builder = optimist_redis::RedisStore::builder().config(config);
    /// ```
    pub fn config(mut self, config: ConnectionManagerConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// How often the store sends a request again after a transient failure that
    /// applied nothing (connection refused, `BUSY`, `LOADING`, a read whose answer was
    /// lost). Without it: [`RetryPolicy::transient_default`]. The connection manager's
    /// own reconnection attempts ([`config`](Self::config)) come on top, per attempt.
    ///
    /// ```
    /// use optimist_core::retry::RetryPolicy;
    /// let builder = optimist_redis::RedisStore::builder().retry_policy(RetryPolicy::no_retry());
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// Tombstone mode (contract R15); off by default. On: a delete or remove leaves a
    /// tombstone (a hash without the value, keeping the version, the write's token and
    /// the server time of the deletion) that reads never show; the next insert or put
    /// continues at its version + 1, so a key never reuses a version and a write still
    /// travelling from before the delete cannot land on a re-inserted item.
    /// [`purge_tombstones`](optimist_core::VersionedStore::purge_tombstones) removes
    /// old ones. Off: a delete removes the item's hash and a re-inserted key starts
    /// again at 1, which is the contract's default and keeps no dead keys in memory.
    ///
    /// A store reads tombstones in either mode (a store in default mode on a prefix
    /// that once kept them continues their versions too); only stores in tombstone
    /// mode leave and purge them.
    ///
    /// ```
    /// let builder = optimist_redis::RedisStore::builder().tombstones(true);
    /// ```
    pub fn tombstones(mut self, on: bool) -> Self {
        self.tombstones = on;
        self
    }

    /// The settings used for a URL when none are given: a 5 s response timeout (a
    /// transaction of 100 large items takes longer than the driver's default 500 ms;
    /// a timeout after sending is an `Indeterminate` outcome), a 2 s connection
    /// timeout, and 3 reconnection attempts before an operation reports the server
    /// unreachable.
    ///
    /// ```
    /// let config = optimist_redis::RedisStoreBuilder::default_config();
    /// assert_eq!(config.number_of_retries(), 3);
    /// ```
    pub fn default_config() -> ConnectionManagerConfig {
        ConnectionManagerConfig::new()
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(3)
            .set_max_delay(Duration::from_secs(1))
    }

    /// Checks the prefix, connects and loads the scripts.
    ///
    /// A bad or missing prefix, no URL or connection manager, or a URL the driver
    /// cannot use is [`Error::Configuration`], found before connecting; a server that
    /// cannot be reached is a retryable [`Error::Backend`] whose source names the
    /// (redacted) address, then the driver's error. No password shows in either.
    ///
    /// ```no_run
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let err = optimist_redis::RedisStore::builder()
    ///     .url("redis://127.0.0.1:1").prefix("p").build().await.unwrap_err();
    /// assert!(err.is_retryable());
    /// # });
    /// ```
    pub async fn build(self) -> Result<RedisStore> {
        let prefix = match self.prefix {
            Some(prefix) => Prefix::new(prefix)?,
            None => return Err(Error::configuration(BACKEND, "no key prefix given")),
        };
        let (conn, address, secrets) = match self.source {
            None => {
                return Err(Error::configuration(
                    BACKEND,
                    "no Redis URL or connection manager given",
                ));
            }
            Some(Source::Manager(conn)) => {
                (conn, "(a given connection manager)".to_string(), Vec::new())
            }
            Some(Source::Url(url)) => {
                let address = redact_url(&url);
                let secrets = secrets_in(&url);
                let client = redis::Client::open(url.as_str())
                    .map_err(|err| bad_url(&err, &address, &secrets))?;
                let config = self.config.unwrap_or_else(Self::default_config);
                let conn = ConnectionManager::new_with_config(client, config)
                    .await
                    .map_err(|err| setup(err, &address, &secrets))?;
                (conn, address, secrets)
            }
        };
        scripts::load_all(&conn)
            .await
            .map_err(|err| setup(err, &address, &secrets))?;
        tracing::debug!(%address, %prefix, "Redis store ready");
        let retry_policy = self
            .retry_policy
            .unwrap_or_else(|| RetryPolicy::transient_default().clone());
        Ok(RedisStore::from_parts(
            conn,
            prefix,
            retry_policy,
            address,
            self.tombstones,
        ))
    }
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            None => "(none)".to_string(),
            Some(Source::Url(url)) => redact_url(url),
            Some(Source::Manager(_)) => "(a given connection manager)".to_string(),
        };
        f.debug_struct("RedisStoreBuilder")
            .field("source", &source)
            .field("prefix", &self.prefix)
            .field("retry_policy", &self.retry_policy)
            .field("tombstones", &self.tombstones)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let builder = RedisStore::builder().url("redis://user:hunter2@example:6379/0");
        let shown = format!("{builder:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("example:6379"), "{shown}");
    }
}

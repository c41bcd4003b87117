//! Building a [`RedisStore`]: where to connect and under which prefix.

use std::fmt;
use std::time::Duration;

use optimist_core::{Error, Operation, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::setup;
use crate::{Prefix, RedisStore, redact::redact_url, scripts};

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
    /// A bad prefix or a missing setting is [`Error::InvalidInput`]; an unreachable
    /// server is a retryable [`Error::Backend`] naming the (redacted) address.
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
            None => {
                return Err(Error::invalid(
                    Operation::Setup,
                    None,
                    "no key prefix given",
                ));
            }
        };
        let (conn, address, secret) = match self.source {
            None => {
                return Err(Error::invalid(
                    Operation::Setup,
                    None,
                    "no Redis URL or connection manager given",
                ));
            }
            Some(Source::Manager(conn)) => (conn, "(a given connection manager)".to_string(), None),
            Some(Source::Url(url)) => {
                let address = redact_url(&url);
                let client = redis::Client::open(url.as_str())
                    .map_err(|err| setup(&err, &address, password_in(&url)))?;
                let secret = client
                    .get_connection_info()
                    .redis_settings()
                    .password()
                    .map(str::to_string);
                let config = self.config.unwrap_or_else(Self::default_config);
                let conn = ConnectionManager::new_with_config(client, config)
                    .await
                    .map_err(|err| setup(&err, &address, secret.as_deref()))?;
                (conn, address, secret)
            }
        };
        scripts::load_all(&conn)
            .await
            .map_err(|err| setup(&err, &address, secret.as_deref()))?;
        tracing::debug!(%address, %prefix, "Redis store ready");
        Ok(RedisStore::from_parts(conn, prefix, address))
    }
}

/// The password part of a URL, found without the driver so it can be scrubbed even
/// from the message of a URL the driver refuses.
fn password_in(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let rest = rest.split(['?', '#']).next()?;
    let userinfo = rest.rsplit_once('@')?.0;
    userinfo.split_once(':').map(|(_, password)| password)
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

    #[test]
    fn finds_the_password() {
        assert_eq!(password_in("redis://u:p%40ss@h:1/0"), Some("p%40ss"));
        assert_eq!(password_in("redis://h:1"), None);
    }
}

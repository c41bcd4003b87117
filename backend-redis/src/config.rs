//! [`RedisConfig`]: a store's settings as data, from a `redis://` URL or from a
//! service's own config file.

use std::fmt;
use std::time::Duration;

use optimist_core::redact::{Secrets, redact_url};
use optimist_core::url_options::{option_name, read_options, split_query};
use optimist_core::{Error, Result};
use serde::Deserialize;

use crate::error::BACKEND;
use crate::{RedisStore, RedisStoreBuilder};

/// The query parameters the store reads; they are not sent to the driver.
const STORE_OPTIONS: [&str; 4] = ["prefix", "tombstones", "pool_size", "response_timeout_ms"];

/// The query parameters the `redis` crate reads, passed on to it as written.
const DRIVER_OPTIONS: [&str; 4] = ["protocol", "db", "user", "pass"];

/// The settings of a [`RedisStore`]: read from a URL with [`from_url`](Self::from_url)
/// or deserialized from a service's config file (unknown fields are refused, naming
/// them).
///
/// Its `Debug` output shows the URL with the password hidden.
///
/// ```
/// use optimist_redis::RedisConfig;
///
/// let config = RedisConfig::from_url("redis://:s3cret@127.0.0.1:6379/0?prefix=orders&pool_size=8")?;
/// assert_eq!(config.prefix, "orders");
/// assert_eq!(config.pool_size, Some(8));
/// assert_eq!(config.url, "redis://:s3cret@127.0.0.1:6379/0");
/// assert!(!format!("{config:?}").contains("s3cret"));
///
/// let from_json: RedisConfig = serde_json::from_str(
///     r#"{"url": "redis://127.0.0.1:6379", "prefix": "orders", "tombstones": true}"#,
/// ).unwrap();
/// assert!(from_json.tombstones);
/// # Ok::<(), optimist_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// The server's URL as the `redis` crate reads it (`redis://`, `rediss://`,
    /// `redis+unix://`), or a cluster's (`redis+cluster://`, read by
    /// [`RedisStoreBuilder::url`]), without the store's own options.
    pub url: String,
    /// The key prefix ([`RedisStoreBuilder::prefix`]); required.
    pub prefix: String,
    /// Tombstone mode ([`RedisStoreBuilder::tombstones`]); off by default.
    #[serde(default)]
    pub tombstones: bool,
    /// [`RedisStoreBuilder::pool_size`]; the builder's default when `None`.
    #[serde(default)]
    pub pool_size: Option<usize>,
    /// [`RedisStoreBuilder::response_timeout`] in milliseconds; the builder's default
    /// when `None`.
    #[serde(default)]
    pub response_timeout_ms: Option<u64>,
}

/// The store's own options, read from the URL's query.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    prefix: Option<String>,
    #[serde(default)]
    tombstones: bool,
    pool_size: Option<usize>,
    response_timeout_ms: Option<u64>,
}

impl RedisConfig {
    /// Reads `redis://[user][:password@]host[:port][/db]?prefix=NAME[&option=value…]`
    /// (or `rediss://`, `redis+unix://`, or `redis+cluster://host:port[,host:port…]` and
    /// `rediss+cluster://` for a Redis Cluster named by some of its nodes). The store's options: `prefix` (required),
    /// `tombstones`, `pool_size`, `response_timeout_ms`. The driver's own parameters
    /// (`protocol`, and `db`, `user`, `pass` of a socket URL) and a fragment
    /// (`#insecure`) stay in [`url`](Self::url). Everything up to the last `@` is the
    /// user information, so an `@` in a parameter is written `%40`.
    ///
    /// Errors, all `Error::Configuration` naming the problem and never a password: another
    /// scheme, a missing prefix, an option neither the store nor the driver knows, a
    /// value of the wrong type, and `rediss://` in a build without TLS.
    ///
    /// ```
    /// use optimist_redis::RedisConfig;
    /// let err = RedisConfig::from_url("redis://127.0.0.1:6379?prefix=p&pool=3").unwrap_err();
    /// assert!(err.to_string().contains("unknown option `pool`"), "{err}");
    /// let err = RedisConfig::from_url("redis://127.0.0.1:6379").unwrap_err();
    /// assert!(err.to_string().contains("prefix"), "{err}");
    /// ```
    pub fn from_url(url: &str) -> Result<Self> {
        let secrets = Secrets::from_url(url);
        let refuse = |reason: String| Error::configuration(BACKEND, secrets.scrub(&reason));
        let scheme = url.split_once("://").map(|(scheme, _)| scheme);
        match scheme {
            Some("redis" | "redis+unix" | "unix" | "redis+cluster") => {}
            Some("rediss" | "rediss+cluster")
                if cfg!(any(feature = "tls-rustls", feature = "tls-native-tls")) => {}
            Some("rediss" | "rediss+cluster") => {
                return Err(refuse(
                    "rediss:// needs TLS, which this build lacks: enable the feature \
                     `tls-rustls` (or `tls-native-tls`) of optimist-redis, or of optimist"
                        .to_string(),
                ));
            }
            _ => {
                return Err(refuse(format!(
                    "{} is not a Redis URL: it starts with redis://, rediss://, redis+unix:// \
                     or redis+cluster://",
                    redact_url(url)
                )));
            }
        }
        let parts = split_query(url);
        let mut store = Vec::new();
        let mut driver = Vec::new();
        for pair in parts.pairs() {
            let name = option_name(pair);
            if STORE_OPTIONS.contains(&name.as_str()) {
                store.push(pair);
            } else if DRIVER_OPTIONS.contains(&name.as_str()) {
                driver.push(pair);
            } else {
                return Err(refuse(format!(
                    "unknown option `{name}` in the Redis URL; the store's options are {} and \
                     the driver's {}",
                    STORE_OPTIONS.join(", "),
                    DRIVER_OPTIONS.join(", ")
                )));
            }
        }
        let options: Options = read_options(&store, "")
            .map_err(|why| refuse(format!("invalid option in the Redis URL: {why}")))?;
        let Some(prefix) = options.prefix.filter(|p| !p.is_empty()) else {
            return Err(refuse(
                "no key prefix: add ?prefix=NAME to the Redis URL (stores with different \
                 prefixes never see each other's items)"
                    .to_string(),
            ));
        };
        let mut base = parts.base.to_string();
        if !driver.is_empty() {
            base.push('?');
            base.push_str(&driver.join("&"));
        }
        base.push_str(parts.fragment);
        Ok(Self {
            url: base,
            prefix,
            tombstones: options.tombstones,
            pool_size: options.pool_size,
            response_timeout_ms: options.response_timeout_ms,
        })
    }

    /// A builder with these settings, for settings a URL cannot hold (a retry policy,
    /// a connection manager config).
    ///
    /// ```
    /// use optimist_redis::RedisConfig;
    /// let builder = RedisConfig::from_url("redis://127.0.0.1:6379?prefix=p")?.builder();
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn builder(&self) -> RedisStoreBuilder {
        let mut builder = RedisStore::builder()
            .url(self.url.clone())
            .prefix(self.prefix.clone())
            .tombstones(self.tombstones);
        if let Some(size) = self.pool_size {
            builder = builder.pool_size(size);
        }
        if let Some(ms) = self.response_timeout_ms {
            builder = builder.response_timeout(Duration::from_millis(ms));
        }
        builder
    }

    /// Connects: [`RedisStoreBuilder::build`] with these settings.
    ///
    /// ```no_run
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let config = optimist_redis::RedisConfig::from_url("redis://127.0.0.1:6379?prefix=p")?;
    /// let store = config.connect().await?;
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn connect(&self) -> Result<RedisStore> {
        self.builder().build().await
    }
}

// Hand-written so that no password shows.
impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &redact_url(&self.url))
            .field("prefix", &self.prefix)
            .field("tombstones", &self.tombstones)
            .field("pool_size", &self.pool_size)
            .field("response_timeout_ms", &self.response_timeout_ms)
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::panic)] // tests fail by panicking
mod tests {
    use super::*;

    fn reason(url: &str) -> String {
        match RedisConfig::from_url(url) {
            Err(Error::Configuration { reason, .. }) => reason,
            other => panic!("{url}: expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn options_are_taken_out_and_driver_parameters_kept() {
        let config = RedisConfig::from_url(
            "redis://me:pw@h:1/2?protocol=resp3&prefix=a.b&tombstones=true&response_timeout_ms=250#x",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.url, "redis://me:pw@h:1/2?protocol=resp3#x");
        assert_eq!(config.prefix, "a.b");
        assert!(config.tombstones);
        assert_eq!(config.response_timeout_ms, Some(250));
        assert_eq!(config.pool_size, None);
    }

    #[test]
    fn a_raw_question_mark_in_a_password_is_not_a_query() {
        let config = RedisConfig::from_url("redis://:p?ss@h:6379?prefix=p")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.url, "redis://:p?ss@h:6379");
        let shown = reason("redis://:p?sswordX@h:6379?prefix=p&nope=1");
        assert!(shown.contains("unknown option `nope`"), "{shown}");
        assert!(!shown.contains("sswordX"), "{shown}");
    }

    #[test]
    fn refusals_name_the_problem_and_never_the_password() {
        let cases = [
            ("redis://:hunter22@h:6379", "no key prefix"),
            (
                "redis://:hunter22@h:6379?prefix=p&size=2",
                "unknown option `size`",
            ),
            (
                "redis://:hunter22@h:6379?prefix=p&pool_size=many",
                "pool_size",
            ),
            ("postgres://:hunter22@h/db?prefix=p", "not a Redis URL"),
        ];
        for (url, says) in cases {
            let shown = reason(url);
            assert!(shown.contains(says), "{url}: {shown}");
            assert!(!shown.contains("hunter22"), "{url}: {shown}");
        }
        let config = RedisConfig::from_url("redis://:hunter22@h:6379?prefix=p")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!format!("{config:?}").contains("hunter22"));
    }

    #[test]
    fn a_cluster_url_keeps_its_nodes() {
        let config = RedisConfig::from_url("redis+cluster://:pw@a:1,b:2?prefix=p&pool_size=2")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.url, "redis+cluster://:pw@a:1,b:2");
        assert_eq!(config.prefix, "p");
        assert_eq!(config.pool_size, Some(2));
    }

    #[cfg(not(any(feature = "tls-rustls", feature = "tls-native-tls")))]
    #[test]
    fn rediss_without_tls_names_the_feature() {
        assert!(reason("rediss://h:6380?prefix=p").contains("tls-rustls"));
    }
}

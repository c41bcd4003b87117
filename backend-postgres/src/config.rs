//! [`PostgresConfig`]: a store's settings as data, from a `postgres://` URL or from a
//! service's own config file.

use std::fmt;
use std::time::Duration;

use optimist_core::redact::{Secrets, redact_url};
use optimist_core::url_options::{option_name, read_options, split_query};
use optimist_core::{Error, Result};
use serde::Deserialize;

use crate::store::BACKEND;
use crate::{DEFAULT_TABLE, PostgresStore, PostgresStoreBuilder};

/// The query parameters the store reads; they are not sent to the server.
const STORE_OPTIONS: [&str; 8] = [
    "table",
    "tombstones",
    "create_table",
    "max_connections",
    "max_item_bytes",
    "acquire_timeout_ms",
    "response_timeout_ms",
    "check_idle_after_ms",
];

/// The query parameters sqlx reads, passed on to it as written (`options[NAME]` too).
const DRIVER_OPTIONS: [&str; 17] = [
    "sslmode",
    "ssl-mode",
    "sslrootcert",
    "ssl-root-cert",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "statement-cache-capacity",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "application_name",
];

/// The settings of a [`PostgresStore`]: read from a URL with
/// [`from_url`](Self::from_url) or deserialized from a service's config file (unknown
/// fields are refused, naming them).
///
/// Its `Debug` output shows the URL with the password hidden.
///
/// ```
/// use optimist_postgres::PostgresConfig;
///
/// let config = PostgresConfig::from_url(
///     "postgres://app:s3cret@127.0.0.1:5432/app?sslmode=disable&table=orders&tombstones=true",
/// )?;
/// assert_eq!(config.table, "orders");
/// assert!(config.tombstones);
/// assert_eq!(config.url, "postgres://app:s3cret@127.0.0.1:5432/app?sslmode=disable");
/// assert!(!format!("{config:?}").contains("s3cret"));
///
/// let from_json: PostgresConfig = serde_json::from_str(
///     r#"{"url": "postgres://127.0.0.1/app", "table": "orders"}"#,
/// ).unwrap();
/// assert!(from_json.create_table);
/// # Ok::<(), optimist_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// The server's URL as sqlx reads it, without the store's own options.
    pub url: String,
    /// The table ([`PostgresStoreBuilder::table`]), [`DEFAULT_TABLE`] unless given.
    #[serde(default = "default_table")]
    pub table: String,
    /// Tombstone mode ([`PostgresStoreBuilder::tombstones`]); off by default.
    #[serde(default)]
    pub tombstones: bool,
    /// Whether `connect` may create the table or add missing columns
    /// ([`PostgresStoreBuilder::create_table`]); on by default.
    #[serde(default = "yes")]
    pub create_table: bool,
    /// [`PostgresStoreBuilder::max_connections`]; the builder's default when `None`.
    #[serde(default)]
    pub max_connections: Option<u32>,
    /// [`PostgresStoreBuilder::max_item_bytes`]; the builder's default when `None`.
    #[serde(default)]
    pub max_item_bytes: Option<usize>,
    /// [`PostgresStoreBuilder::acquire_timeout`] in milliseconds.
    #[serde(default)]
    pub acquire_timeout_ms: Option<u64>,
    /// [`PostgresStoreBuilder::response_timeout`] in milliseconds.
    #[serde(default)]
    pub response_timeout_ms: Option<u64>,
    /// [`PostgresStoreBuilder::check_idle_after`] in milliseconds; no check when
    /// `None`.
    #[serde(default)]
    pub check_idle_after_ms: Option<u64>,
}

fn default_table() -> String {
    DEFAULT_TABLE.to_string()
}

fn yes() -> bool {
    true
}

/// The store's own options, read from the URL's query.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    #[serde(default = "default_table")]
    table: String,
    #[serde(default)]
    tombstones: bool,
    #[serde(default = "yes")]
    create_table: bool,
    max_connections: Option<u32>,
    max_item_bytes: Option<usize>,
    acquire_timeout_ms: Option<u64>,
    response_timeout_ms: Option<u64>,
    check_idle_after_ms: Option<u64>,
}

impl PostgresConfig {
    /// Reads `postgres://[user[:password]@]host[:port]/database?table=NAME[&option=value…]`
    /// (or `postgresql://`). The store's options: `table` (default
    /// [`DEFAULT_TABLE`]), `tombstones`, `create_table`, `max_connections`,
    /// `max_item_bytes`, `acquire_timeout_ms`, `response_timeout_ms`,
    /// `check_idle_after_ms`. sqlx's own
    /// parameters (`sslmode`, `sslrootcert`, `application_name`, `options`, ...) stay
    /// in [`url`](Self::url). Everything up to the last `@` is the user information,
    /// so an `@` in a parameter is written `%40`.
    ///
    /// Errors, all `Error::Configuration` naming the problem and never a password:
    /// another scheme, an option neither the store nor sqlx knows, a value of the
    /// wrong type, an empty table name.
    ///
    /// ```
    /// use optimist_postgres::PostgresConfig;
    /// let err = PostgresConfig::from_url("postgres://h/db?tabel=x").unwrap_err();
    /// assert!(err.to_string().contains("unknown option `tabel`"), "{err}");
    /// assert_eq!(PostgresConfig::from_url("postgresql://h/db")?.table, "optimist_items");
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn from_url(url: &str) -> Result<Self> {
        let secrets = Secrets::from_url(url);
        let refuse = |reason: String| Error::configuration(BACKEND, secrets.scrub(&reason));
        if !matches!(
            url.split_once("://").map(|(scheme, _)| scheme),
            Some("postgres" | "postgresql")
        ) {
            return Err(refuse(format!(
                "{} is not a PostgreSQL URL: it starts with postgres:// or postgresql://",
                redact_url(url)
            )));
        }
        let parts = split_query(url);
        let mut store = Vec::new();
        let mut driver = Vec::new();
        for pair in parts.pairs() {
            let name = option_name(pair);
            if STORE_OPTIONS.contains(&name.as_str()) {
                store.push(pair);
            } else if DRIVER_OPTIONS.contains(&name.as_str()) || name.starts_with("options") {
                driver.push(pair);
            } else {
                return Err(refuse(format!(
                    "unknown option `{name}` in the PostgreSQL URL; the store's options are {} \
                     and sqlx's {}, options",
                    STORE_OPTIONS.join(", "),
                    DRIVER_OPTIONS.join(", ")
                )));
            }
        }
        let options: Options = read_options(&store, "")
            .map_err(|why| refuse(format!("invalid option in the PostgreSQL URL: {why}")))?;
        if options.table.is_empty() {
            return Err(refuse(
                "the table is empty: write ?table=NAME or leave it out for optimist_items"
                    .to_string(),
            ));
        }
        let mut base = parts.base.to_string();
        if !driver.is_empty() {
            base.push('?');
            base.push_str(&driver.join("&"));
        }
        base.push_str(parts.fragment);
        Ok(Self {
            url: base,
            table: options.table,
            tombstones: options.tombstones,
            create_table: options.create_table,
            max_connections: options.max_connections,
            max_item_bytes: options.max_item_bytes,
            acquire_timeout_ms: options.acquire_timeout_ms,
            response_timeout_ms: options.response_timeout_ms,
            check_idle_after_ms: options.check_idle_after_ms,
        })
    }

    /// A builder with these settings, for settings a URL cannot hold (a retry policy).
    ///
    /// ```
    /// use optimist_postgres::PostgresConfig;
    /// let builder = PostgresConfig::from_url("postgres://127.0.0.1/app?table=t")?.builder();
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn builder(&self) -> PostgresStoreBuilder {
        let mut builder = PostgresStore::builder()
            .url(self.url.clone())
            .table(self.table.clone())
            .tombstones(self.tombstones)
            .create_table(self.create_table);
        if let Some(connections) = self.max_connections {
            builder = builder.max_connections(connections);
        }
        if let Some(bytes) = self.max_item_bytes {
            builder = builder.max_item_bytes(bytes);
        }
        if let Some(ms) = self.acquire_timeout_ms {
            builder = builder.acquire_timeout(Duration::from_millis(ms));
        }
        if let Some(ms) = self.response_timeout_ms {
            builder = builder.response_timeout(Duration::from_millis(ms));
        }
        if let Some(ms) = self.check_idle_after_ms {
            builder = builder.check_idle_after(Duration::from_millis(ms));
        }
        builder
    }

    /// Connects: [`PostgresStoreBuilder::build`] with these settings.
    ///
    /// ```no_run
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let config = optimist_postgres::PostgresConfig::from_url("postgres://127.0.0.1/app?table=t")?;
    /// let store = config.connect().await?;
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn connect(&self) -> Result<PostgresStore> {
        self.builder().build().await
    }
}

// Hand-written so that no password shows.
impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &redact_url(&self.url))
            .field("table", &self.table)
            .field("tombstones", &self.tombstones)
            .field("create_table", &self.create_table)
            .field("max_connections", &self.max_connections)
            .field("max_item_bytes", &self.max_item_bytes)
            .field("acquire_timeout_ms", &self.acquire_timeout_ms)
            .field("response_timeout_ms", &self.response_timeout_ms)
            .field("check_idle_after_ms", &self.check_idle_after_ms)
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::panic)] // tests fail by panicking
mod tests {
    use super::*;

    fn reason(url: &str) -> String {
        match PostgresConfig::from_url(url) {
            Err(Error::Configuration { reason, .. }) => reason,
            other => panic!("{url}: expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn options_are_taken_out_and_sqlx_parameters_kept() {
        let config = PostgresConfig::from_url(
            "postgres://me:pw@h:5/db?sslmode=require&table=s.t&max_connections=3&options[search_path]=x&response_timeout_ms=9&check_idle_after_ms=1000",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            config.url,
            "postgres://me:pw@h:5/db?sslmode=require&options[search_path]=x"
        );
        assert_eq!(config.table, "s.t");
        assert_eq!(config.max_connections, Some(3));
        assert_eq!(config.response_timeout_ms, Some(9));
        assert_eq!(config.check_idle_after_ms, Some(1000));
        assert!(config.create_table);
    }

    #[test]
    fn refusals_name_the_problem_and_never_the_password() {
        let cases = [
            (
                "postgres://u:hunter22@h/db?tables=x",
                "unknown option `tables`",
            ),
            ("postgres://u:hunter22@h/db?table=", "the table is empty"),
            ("postgres://u:hunter22@h/db?tombstones=maybe", "tombstones"),
            ("mysql://u:hunter22@h/db", "not a PostgreSQL URL"),
        ];
        for (url, says) in cases {
            let shown = reason(url);
            assert!(shown.contains(says), "{url}: {shown}");
            assert!(!shown.contains("hunter22"), "{url}: {shown}");
        }
        let config = PostgresConfig::from_url("postgres://u:hunter22@h/db")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!format!("{config:?}").contains("hunter22"));
    }
}

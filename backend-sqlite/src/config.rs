//! [`SqliteConfig`]: a store's settings as data, from a `sqlite:` URL or from a
//! service's own config file.

use std::path::PathBuf;
use std::time::Duration;

use optimist_core::url_options::{percent_decode, read_options};
use optimist_core::{Error, Result};
use serde::Deserialize;

use crate::{DEFAULT_TABLE, SqliteStore, SqliteStoreBuilder};

const BACKEND: &str = "sqlite";

/// Whether a file store may create its database file (sqlx's `mode` parameter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpenMode {
    /// Read, write, and create the file if it is missing (`mode=rwc`); the default.
    #[default]
    Rwc,
    /// Read and write a file that must exist (`mode=rw`).
    Rw,
}

/// The settings of a [`SqliteStore`]: read from a URL with
/// [`from_url`](Self::from_url) or deserialized from a service's config file (unknown
/// fields are refused, naming them).
///
/// ```
/// use optimist_sqlite::SqliteConfig;
///
/// let config = SqliteConfig::from_url("sqlite://data/app.db?mode=rwc&table=orders")?;
/// assert_eq!(config.path.as_deref(), Some(std::path::Path::new("data/app.db")));
/// assert_eq!(config.table, "orders");
/// assert_eq!(SqliteConfig::from_url("sqlite::memory:")?.path, None);
///
/// let from_json: SqliteConfig = serde_json::from_str(r#"{"path": "app.db", "full_sync": true}"#).unwrap();
/// assert_eq!(from_json.table, "optimist_items");
/// # Ok::<(), optimist_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteConfig {
    /// The database file; `None` keeps a private database in memory.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Whether the file may be created.
    #[serde(default)]
    pub mode: OpenMode,
    /// The table ([`SqliteStoreBuilder::table`]), [`DEFAULT_TABLE`] unless given.
    #[serde(default = "default_table")]
    pub table: String,
    /// Tombstone mode ([`SqliteStoreBuilder::tombstones`]); off by default.
    #[serde(default)]
    pub tombstones: bool,
    /// [`SqliteStoreBuilder::busy_timeout`] in milliseconds.
    #[serde(default)]
    pub busy_timeout_ms: Option<u64>,
    /// [`SqliteStoreBuilder::max_connections`].
    #[serde(default)]
    pub max_connections: Option<u32>,
    /// [`SqliteStoreBuilder::max_item_bytes`].
    #[serde(default)]
    pub max_item_bytes: Option<usize>,
    /// [`SqliteStoreBuilder::full_sync`]; off by default.
    #[serde(default)]
    pub full_sync: bool,
}

impl Default for SqliteConfig {
    fn default() -> Self {
        Self {
            path: None,
            mode: OpenMode::default(),
            table: default_table(),
            tombstones: false,
            busy_timeout_ms: None,
            max_connections: None,
            max_item_bytes: None,
            full_sync: false,
        }
    }
}

fn default_table() -> String {
    DEFAULT_TABLE.to_string()
}

/// The store's options, read from the URL's query.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    #[serde(default)]
    mode: Option<String>,
    #[serde(default = "default_table")]
    table: String,
    #[serde(default)]
    tombstones: bool,
    busy_timeout_ms: Option<u64>,
    max_connections: Option<u32>,
    max_item_bytes: Option<usize>,
    #[serde(default)]
    full_sync: bool,
}

impl SqliteConfig {
    /// Reads `sqlite::memory:` (a private database in memory), or a file:
    /// `sqlite://relative/path.db`, `sqlite:///absolute/path.db` or `sqlite:path.db`,
    /// percent-decoded, then options: `mode` (`rwc`, the default, or `rw`), `table`
    /// (default [`DEFAULT_TABLE`]), `tombstones`, `busy_timeout_ms`,
    /// `max_connections`, `max_item_bytes`, `full_sync`.
    ///
    /// Errors, all `Error::Configuration` naming the problem: another scheme, no path,
    /// an unknown option, a value of the wrong type, `mode=ro` (the store writes) or
    /// `mode=memory`.
    ///
    /// ```
    /// use optimist_sqlite::SqliteConfig;
    /// let err = SqliteConfig::from_url("sqlite::memory:?cache=shared").unwrap_err();
    /// assert!(err.to_string().contains("unknown field `cache`"), "{err}");
    /// assert!(SqliteConfig::from_url("sqlite://app.db?mode=ro").is_err());
    /// ```
    pub fn from_url(url: &str) -> Result<Self> {
        let refuse = |reason: String| Error::configuration(BACKEND, reason);
        let Some(rest) = url.strip_prefix("sqlite:") else {
            return Err(refuse(
                "a SQLite URL starts with sqlite: (sqlite::memory:, sqlite://path.db)".to_string(),
            ));
        };
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (place, query) = rest.split_once('?').unwrap_or((rest, ""));
        let pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        let options: Options = read_options(&pairs, "")
            .map_err(|why| refuse(format!("invalid option in the SQLite URL: {why}")))?;
        let mode = match options.mode.as_deref() {
            None | Some("rwc") => OpenMode::Rwc,
            Some("rw") => OpenMode::Rw,
            Some(other) => {
                return Err(refuse(format!(
                    "mode={other} is not supported: the store writes and keeps its own \
                     database, so mode is rwc (the default) or rw"
                )));
            }
        };
        let path = match place {
            ":memory:" => None,
            "" => {
                return Err(refuse(
                    "no database path: write sqlite://path.db, or sqlite::memory: for a \
                     database in memory"
                        .to_string(),
                ));
            }
            path => Some(PathBuf::from(
                percent_decode(path).map_err(|why| refuse(format!("the path {path:?} {why}")))?,
            )),
        };
        Ok(Self {
            path,
            mode,
            table: options.table,
            tombstones: options.tombstones,
            busy_timeout_ms: options.busy_timeout_ms,
            max_connections: options.max_connections,
            max_item_bytes: options.max_item_bytes,
            full_sync: options.full_sync,
        })
    }

    /// A builder with these settings, for settings a URL cannot hold (a retry policy).
    ///
    /// ```
    /// let builder = optimist_sqlite::SqliteConfig::from_url("sqlite::memory:")?.builder();
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn builder(&self) -> SqliteStoreBuilder {
        let mut builder = SqliteStore::builder()
            .table(self.table.clone())
            .tombstones(self.tombstones)
            .full_sync(self.full_sync);
        builder = match &self.path {
            Some(path) => builder.path(path),
            None => builder.memory(),
        };
        if let Some(ms) = self.busy_timeout_ms {
            builder = builder.busy_timeout(Duration::from_millis(ms));
        }
        if let Some(connections) = self.max_connections {
            builder = builder.max_connections(connections);
        }
        if let Some(bytes) = self.max_item_bytes {
            builder = builder.max_item_bytes(bytes);
        }
        builder
    }

    /// Opens the store: [`SqliteStoreBuilder::build`] with these settings, after
    /// checking, for `mode=rw`, that the file exists (`Error::Configuration` if not,
    /// and nothing is created).
    ///
    /// ```
    /// use optimist_core::VersionedStore;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_sqlite::SqliteConfig::from_url("sqlite::memory:?tombstones=true")?
    ///     .connect()
    ///     .await?;
    /// assert!(store.capabilities().tombstones);
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn connect(&self) -> Result<SqliteStore> {
        if let (Some(path), OpenMode::Rw) = (&self.path, self.mode) {
            if !path.exists() {
                return Err(Error::configuration(
                    BACKEND,
                    format!(
                        "{} does not exist and mode=rw does not create it: use mode=rwc",
                        path.display()
                    ),
                ));
            }
        }
        self.builder().build().await
    }
}

#[cfg(test)]
#[allow(clippy::panic)] // tests fail by panicking
mod tests {
    use super::*;

    fn parse(url: &str) -> SqliteConfig {
        SqliteConfig::from_url(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn every_spelling_of_a_path() {
        assert_eq!(parse("sqlite::memory:").path, None);
        assert_eq!(parse("sqlite://:memory:").path, None);
        assert_eq!(parse("sqlite://a/b.db").path, Some(PathBuf::from("a/b.db")));
        assert_eq!(
            parse("sqlite:///tmp/b.db").path,
            Some(PathBuf::from("/tmp/b.db"))
        );
        assert_eq!(parse("sqlite:b.db").path, Some(PathBuf::from("b.db")));
        assert_eq!(
            parse("sqlite://my%20db.db").path,
            Some(PathBuf::from("my db.db"))
        );
        let full = parse(
            "sqlite://x.db?mode=rw&table=t&tombstones=true&busy_timeout_ms=5&max_connections=2&max_item_bytes=9&full_sync=true",
        );
        assert_eq!(full.mode, OpenMode::Rw);
        assert_eq!(
            (full.table.as_str(), full.tombstones, full.busy_timeout_ms),
            ("t", true, Some(5))
        );
        assert_eq!(
            (full.max_connections, full.max_item_bytes),
            (Some(2), Some(9))
        );
        assert!(full.full_sync);
    }

    #[test]
    fn refusals_name_the_problem() {
        for (url, says) in [
            ("sqlite://", "no database path"),
            ("sqlite://x.db?mode=ro", "mode=ro"),
            ("sqlite://x.db?tabel=t", "unknown field `tabel`"),
            ("sqlite://x%zz.db", "% not followed"),
            ("sqlit://x.db", "starts with sqlite:"),
        ] {
            match SqliteConfig::from_url(url) {
                Err(Error::Configuration { reason, .. }) => {
                    assert!(reason.contains(says), "{url}: {reason}");
                }
                other => panic!("{url}: expected a configuration error, got {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn mode_rw_does_not_create_a_missing_file() {
        let path = std::env::temp_dir().join(format!("optimist-rw-{}.db", std::process::id()));
        let config = parse(&format!("sqlite://{}?mode=rw", path.display()));
        match config.connect().await {
            Err(Error::Configuration { reason, .. }) => assert!(reason.contains("mode=rwc")),
            other => panic!("expected a configuration error, got {other:?}"),
        }
        assert!(!path.exists());
    }
}

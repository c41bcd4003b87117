//! Building a [`SqliteStore`]: where the database lives and how the store behaves.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use optimist_core::retry::RetryPolicy;
use optimist_core::{Capabilities, Result};
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::Mutex;

use crate::db::Db;
use crate::error;
use crate::sql::Sql;
use crate::store::{Inner, SqliteStore};
use crate::{schema, table};

/// The table a store uses unless [`SqliteStoreBuilder::table`] names another.
///
/// ```
/// assert_eq!(optimist_sqlite::DEFAULT_TABLE, "optimist_items");
/// ```
pub const DEFAULT_TABLE: &str = "optimist_items";

/// How long SQLite waits for another connection's write lock inside one attempt unless
/// [`SqliteStoreBuilder::busy_timeout`] says otherwise.
///
/// With the default [retry policy](SqliteStoreBuilder::retry_policy) of 6 attempts, a
/// lock that another connection holds for good is reported after about
/// 6 × 1 s + 0.5 s of pauses. Writers of this crate hold the lock for one short
/// statement or transaction: 16 writers on one file waited under 1 s in every attempt
/// measured (see the README), so contention alone does not reach the retry policy.
///
/// ```
/// assert_eq!(optimist_sqlite::DEFAULT_BUSY_TIMEOUT.as_secs(), 1);
/// ```
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(1);

/// The most connections a file store opens unless
/// [`SqliteStoreBuilder::max_connections`] says otherwise.
///
/// ```
/// assert_eq!(optimist_sqlite::DEFAULT_MAX_CONNECTIONS, 8);
/// ```
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// SQLite takes its busy timeout in milliseconds as a C int.
const MAX_BUSY_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Location {
    Memory,
    File(PathBuf),
}

/// Builds a [`SqliteStore`]; from [`SqliteStore::builder`].
///
/// By default: an in-memory database, the table [`DEFAULT_TABLE`], a busy timeout of
/// [`DEFAULT_BUSY_TIMEOUT`], at most [`DEFAULT_MAX_CONNECTIONS`] connections to a file,
/// items up to 400 KiB, `synchronous = NORMAL`, no tombstones, and
/// [`RetryPolicy::transient_default`] for busy answers.
///
/// ```
/// use std::time::Duration;
/// use optimist_sqlite::SqliteStore;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = SqliteStore::builder()
///     .memory()
///     .table("orders")
///     .busy_timeout(Duration::from_secs(2))
///     .build()
///     .await?;
/// assert_eq!(store.table(), "orders");
/// # Ok::<(), optimist_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct SqliteStoreBuilder {
    location: Location,
    table: String,
    busy_timeout: Duration,
    max_connections: u32,
    max_item_bytes: usize,
    full_sync: bool,
    tombstones: bool,
    retry_policy: RetryPolicy,
}

impl Default for SqliteStoreBuilder {
    fn default() -> Self {
        Self {
            location: Location::Memory,
            table: DEFAULT_TABLE.to_string(),
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_item_bytes: Capabilities::new().max_item_bytes,
            full_sync: false,
            tombstones: false,
            // Core's default is enough: SQLite's busy handler waits for the lock inside
            // each attempt (see DEFAULT_BUSY_TIMEOUT), so the engine only resends the
            // rare busy answers it does not wait for and locks held past the timeout.
            retry_policy: RetryPolicy::transient_default().clone(),
        }
    }
}

impl SqliteStoreBuilder {
    /// Keeps the database in memory: one database, private to this store (and its
    /// clones), gone when the last clone is dropped. The default.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_sqlite::SqliteStore::builder().memory().build().await?;
    /// assert_eq!(store.path(), None);
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn memory(mut self) -> Self {
        self.location = Location::Memory;
        self
    }

    /// Keeps the database in a file, created if missing and put in WAL journal mode.
    /// Any number of stores, in this process or others, may share the file. The path
    /// `":memory:"` means [`memory`](Self::memory).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dir = std::env::temp_dir().join(format!("optimist-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("path.db");
    /// let store = optimist_sqlite::SqliteStore::builder().path(&path).build().await?;
    /// assert_eq!(store.path(), Some(path.as_path()));
    /// # store.close().await;
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn path(mut self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        self.location = if path == Path::new(":memory:") {
            Location::Memory
        } else {
            Location::File(path.to_path_buf())
        };
        self
    }

    /// The table holding the items, created on first use if missing. It must match
    /// `[A-Za-z_][A-Za-z0-9_]{0,62}` and not start with `sqlite_`; `build` answers
    /// `Error::Configuration` otherwise, so no other text ever reaches SQL.
    ///
    /// ```
    /// use optimist_core::Error;
    /// use optimist_sqlite::SqliteStore;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let err = SqliteStore::builder().table("x; DROP TABLE y").build().await.unwrap_err();
    /// assert!(matches!(err, Error::Configuration { backend: "sqlite", .. }));
    /// # });
    /// ```
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// How long SQLite itself waits for another connection's write lock within one
    /// attempt (its busy timeout), before the attempt answers busy. At most about
    /// 24 days (SQLite counts milliseconds in a C int); longer is cut to that.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = optimist_sqlite::SqliteStore::builder().busy_timeout(Duration::from_millis(500));
    /// ```
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How often an operation is sent again after an attempt that answered busy (and
    /// other transient failures that applied nothing), and how long to pause between
    /// attempts; [`RetryPolicy::transient_default`] unless set. Each attempt may itself
    /// wait up to the [busy timeout](Self::busy_timeout), so one operation waits at
    /// most about `max_attempts` busy timeouts plus the pauses. When the attempts run
    /// out the caller gets an `Error::Backend` of kind `Busy` that is no longer marked
    /// retryable.
    ///
    /// ```
    /// use std::time::Duration;
    /// use optimist_core::retry::RetryPolicy;
    /// let builder = optimist_sqlite::SqliteStore::builder()
    ///     .retry_policy(RetryPolicy::new(3, Duration::from_millis(5), Duration::from_millis(50)));
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// The most connections a file store opens (at least 1). Ignored in memory, where
    /// there is exactly one.
    ///
    /// ```
    /// let builder = optimist_sqlite::SqliteStore::builder().max_connections(4);
    /// ```
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// The largest item accepted, counted as in
    /// [`Capabilities::max_item_bytes`]; 400 KiB by default, like DynamoDB.
    ///
    /// ```
    /// use optimist_core::VersionedStore;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_sqlite::SqliteStore::builder().max_item_bytes(4 << 20).build().await?;
    /// assert_eq!(store.capabilities().max_item_bytes, 4 << 20);
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn max_item_bytes(mut self, bytes: usize) -> Self {
        self.max_item_bytes = bytes;
        self
    }

    /// `synchronous = FULL` instead of `NORMAL` for a file: every commit is synced to
    /// disk, so it survives a power loss, at the cost of one fsync per write. With
    /// `NORMAL` in WAL mode the database is never corrupted, but the last commits before
    /// a power loss may be lost (a crash of the process loses nothing).
    ///
    /// ```
    /// let builder = optimist_sqlite::SqliteStore::builder().full_sync(true);
    /// ```
    pub fn full_sync(mut self, full: bool) -> Self {
        self.full_sync = full;
        self
    }

    /// Tombstone mode (contract R15): `delete` and `remove` leave a tombstone, a row
    /// without a value that keeps the deleted item's version and the delete's write
    /// token, so the key's version keeps counting (an insert after a delete of v gives
    /// v + 1) and a write still travelling from before the delete cannot land on the
    /// emptied key. Reads never show tombstones. They stay until
    /// [`purge_tombstones`](optimist_core::VersionedStore::purge_tombstones) removes the
    /// old ones. Off by default: a key deleted and inserted again restarts at version 1,
    /// as the contract's default says, and deletes free their rows.
    ///
    /// ```
    /// use std::time::Duration;
    /// use optimist_core::{Key, Version, VersionedStore};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_sqlite::SqliteStore::builder().tombstones(true).build().await?;
    /// assert!(store.capabilities().tombstones);
    /// let key = Key::new("k");
    /// let v1 = store.insert(&key, serde_json::json!(1)).await?;
    /// store.delete(&key, v1).await?;
    /// assert_eq!(store.get(&key).await?, None);
    /// assert_eq!(store.insert(&key, serde_json::json!(2)).await?, Version::new(2));
    /// // Nothing is a day old yet.
    /// assert_eq!(store.purge_tombstones(Duration::from_secs(86_400)).await?, 0);
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn tombstones(mut self, on: bool) -> Self {
        self.tombstones = on;
        self
    }

    /// Opens the database, creates the table if it is missing (or adds the columns a
    /// table of the previous layout lacks) and checks that every statement the store
    /// runs fits it.
    ///
    /// Errors: `Error::Configuration` for a bad table name, an existing table of
    /// another schema, or tombstone mode on a table whose value column is `NOT NULL`
    /// (one made before tombstones); an `Error::Backend` of kind `Busy` if the database stayed busy
    /// through every attempt of the retry policy; another `Error::Backend` if the file
    /// cannot be opened or the table cannot be created.
    ///
    /// ```
    /// use optimist_core::{Key, VersionedStore};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_sqlite::SqliteStore::builder().build().await?;
    /// store.insert(&Key::new("k"), serde_json::json!(1)).await?;
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn build(self) -> Result<SqliteStore> {
        table::check_name(&self.table)?;
        let options =
            SqliteConnectOptions::new().busy_timeout(self.busy_timeout.min(MAX_BUSY_TIMEOUT));
        let db = match &self.location {
            Location::Memory => {
                // Connecting to a private in-memory database touches no file and takes no
                // lock, so it is not retried.
                let conn = options
                    .connect()
                    .await
                    .map_err(|e| error::setup(error::unapplied(e), false))?;
                Db::Memory(Arc::new(Mutex::new(conn)))
            }
            Location::File(path) => {
                let options = options
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(if self.full_sync {
                        SqliteSynchronous::Full
                    } else {
                        SqliteSynchronous::Normal
                    });
                let pool = SqlitePoolOptions::new()
                    .max_connections(self.max_connections)
                    .min_connections(0)
                    // A connection to a local file does not go stale the way a network
                    // connection does: pinging it on every acquire would only cost time.
                    .test_before_acquire(false)
                    .acquire_timeout(self.busy_timeout.max(Duration::from_secs(30)))
                    .connect_lazy_with(options);
                Db::Pool(pool)
            }
        };
        let sql = Sql::new(&self.table, self.tombstones);
        let opened = schema::open_table(&db, &sql, &self.table, &self.retry_policy).await;
        match opened.result {
            Err(err) => return Err(error::setup(err, opened.exhausted)),
            Ok(Err(reason)) => return Err(error::configuration(reason)),
            Ok(Ok(())) => {}
        }
        let capabilities = Capabilities::new()
            .with_max_item_bytes(self.max_item_bytes)
            .with_tombstones(self.tombstones);
        let identity = identity(&self.location, &self.table);
        let path = match self.location {
            Location::Memory => None,
            Location::File(path) => Some(path),
        };
        Ok(SqliteStore::from_inner(Inner {
            db,
            sql,
            table: self.table,
            path,
            capabilities,
            busy_timeout: self.busy_timeout,
            retry_policy: self.retry_policy,
            identity,
        }))
    }
}

/// What a store's cursors are bound to (see `Storage::identity`): the table in the
/// database file, by its canonical path so that every store on that file agrees, or in
/// this store's own in-memory database, which no other store can read.
fn identity(location: &Location, table: &str) -> String {
    match location {
        Location::Memory => {
            static NEXT: AtomicU64 = AtomicU64::new(1);
            let database = NEXT.fetch_add(1, Ordering::Relaxed);
            format!("sqlite in-memory database #{database}, table {table}")
        }
        Location::File(path) => {
            // The file exists once the table is open; the absolute path stands in if
            // it cannot be resolved (a link removed since, say).
            let file = std::fs::canonicalize(path)
                .or_else(|_| std::path::absolute(path))
                .unwrap_or_else(|_| path.clone());
            format!("sqlite file {}, table {table}", file.display())
        }
    }
}

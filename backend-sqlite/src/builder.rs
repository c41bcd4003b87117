//! Building a [`SqliteStore`]: where the database lives and how the store behaves.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use optimist_core::{Capabilities, Error, Operation, Result};
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::Mutex;

use crate::db::Db;
use crate::error::{self, InPhase};
use crate::retry::busy_retry;
use crate::store::{Inner, SqliteStore};
use crate::table::{self, Sql};

/// The table a store uses unless [`SqliteStoreBuilder::table`] names another.
///
/// ```
/// assert_eq!(optimist_sqlite::DEFAULT_TABLE, "optimist_items");
/// ```
pub const DEFAULT_TABLE: &str = "optimist_items";

/// How long an operation keeps retrying a busy database unless
/// [`SqliteStoreBuilder::busy_budget`] says otherwise.
///
/// ```
/// assert_eq!(optimist_sqlite::DEFAULT_BUSY_BUDGET.as_secs(), 5);
/// ```
pub const DEFAULT_BUSY_BUDGET: Duration = Duration::from_secs(5);

/// The most connections a file store opens unless
/// [`SqliteStoreBuilder::max_connections`] says otherwise.
///
/// ```
/// assert_eq!(optimist_sqlite::DEFAULT_MAX_CONNECTIONS, 8);
/// ```
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// SQLite takes its busy timeout in milliseconds as a C int; a longer budget is still
/// honoured by the store's own retries.
const MAX_BUSY_TIMEOUT: Duration = Duration::from_secs(3600);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Location {
    Memory,
    File(PathBuf),
}

/// Builds a [`SqliteStore`]; from [`SqliteStore::builder`].
///
/// By default: an in-memory database, the table [`DEFAULT_TABLE`], a busy budget of
/// [`DEFAULT_BUSY_BUDGET`], at most [`DEFAULT_MAX_CONNECTIONS`] connections to a file,
/// items up to 400 KiB, `synchronous = NORMAL`.
///
/// ```
/// use std::time::Duration;
/// use optimist_sqlite::SqliteStore;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = SqliteStore::builder()
///     .memory()
///     .table("orders")
///     .busy_budget(Duration::from_secs(2))
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
    busy_budget: Duration,
    max_connections: u32,
    max_item_bytes: usize,
    full_sync: bool,
}

impl Default for SqliteStoreBuilder {
    fn default() -> Self {
        Self {
            location: Location::Memory,
            table: DEFAULT_TABLE.to_string(),
            busy_budget: DEFAULT_BUSY_BUDGET,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_item_bytes: Capabilities::new().max_item_bytes,
            full_sync: false,
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
    /// `InvalidInput` otherwise, so no other text ever reaches SQL.
    ///
    /// ```
    /// use optimist_sqlite::SqliteStore;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let err = SqliteStore::builder().table("x; DROP TABLE y").build().await.unwrap_err();
    /// assert!(err.is_invalid_input());
    /// # });
    /// ```
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// How long one operation keeps trying while another connection holds the write
    /// lock, before it answers a retryable `Error::Backend`. SQLite's busy timeout is set
    /// to the same value, so one operation waits at most about twice the budget.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = optimist_sqlite::SqliteStore::builder().busy_budget(Duration::from_millis(500));
    /// ```
    pub fn busy_budget(mut self, budget: Duration) -> Self {
        self.busy_budget = budget;
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

    /// Opens the database and creates the table if it is missing.
    ///
    /// Errors: `InvalidInput` for a bad table name, a retryable `Backend` error if the
    /// database stayed busy for the whole budget, another `Backend` error if the file
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
        table::validate_name(&self.table)?;
        let options =
            SqliteConnectOptions::new().busy_timeout(self.busy_budget.min(MAX_BUSY_TIMEOUT));
        let db = match &self.location {
            Location::Memory => {
                // Connecting to a private in-memory database touches no file and takes no
                // lock, so it is not retried.
                let conn = options
                    .connect()
                    .await
                    .map_err(|e| error::map(Operation::Setup, None, e, error::Phase::Before))?;
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
                    .acquire_timeout(self.busy_budget.max(Duration::from_secs(30)))
                    .connect_lazy_with(options);
                Db::Pool(pool)
            }
        };
        let sql = Sql::new(&self.table);
        create_table(&db, &sql, self.busy_budget).await?;
        let capabilities = Capabilities::new().with_max_item_bytes(self.max_item_bytes);
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
            busy_budget: self.busy_budget,
        }))
    }
}

async fn create_table(db: &Db, sql: &Sql, budget: Duration) -> Result<(), Error> {
    // Opening a connection is retried too: switching a new file to WAL takes a lock that
    // SQLite's busy handler does not wait for.
    busy_retry(budget, Operation::Setup, None, || async move {
        let mut conn = db.acquire().await.before()?;
        sqlx::query(&sql.create)
            .execute(&mut *conn)
            .await
            .writing()?;
        Ok(())
    })
    .await
}

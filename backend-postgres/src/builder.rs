//! Building a store: where its connections come from, its table, its limits.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use optimist_core::{Capabilities, Error, Operation, Result};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};

use crate::error::{self, Context, Scrubbed, redact_url, url_secrets};
use crate::retry::RetryBudget;
use crate::sql::Statements;
use crate::store::{Inner, PostgresStore};
use crate::table::TableName;

/// The table a store uses unless told otherwise.
pub const DEFAULT_TABLE: &str = "optimist_items";

/// The most connections a pool built from a URL opens.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How long an operation waits for a connection from a pool built from a URL.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long serialization failures and deadlocks are retried before they are reported
/// as `Error::Backend { retryable: true }`.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(5);

enum Source {
    Pool(PgPool),
    Url(String),
}

/// Builds a [`PostgresStore`]: from a pool the application already has, or from a URL.
///
/// ```no_run
/// use optimist_postgres::PostgresStore;
///
/// # async fn demo() -> optimist_core::Result<()> {
/// let store = PostgresStore::builder()
///     .url("postgres://app:secret@127.0.0.1:5432/app")
///     .table("inventory.items")
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
pub struct PostgresStoreBuilder {
    source: Option<Source>,
    table: String,
    create_table: bool,
    max_connections: u32,
    max_item_bytes: Option<usize>,
    retry_budget: Duration,
    acquire_timeout: Duration,
}

// Hand-written so a URL's password never shows.
impl fmt::Debug for PostgresStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Some(Source::Pool(_)) => "a pool".to_string(),
            Some(Source::Url(url)) => redact_url(url),
            None => "none".to_string(),
        };
        f.debug_struct("PostgresStoreBuilder")
            .field("source", &source)
            .field("table", &self.table)
            .field("create_table", &self.create_table)
            .field("max_connections", &self.max_connections)
            .field("max_item_bytes", &self.max_item_bytes)
            .field("retry_budget", &self.retry_budget)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

impl Default for PostgresStoreBuilder {
    fn default() -> Self {
        Self {
            source: None,
            table: DEFAULT_TABLE.to_string(),
            create_table: true,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_item_bytes: None,
            retry_budget: DEFAULT_RETRY_BUDGET,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }
}

impl PostgresStoreBuilder {
    /// Uses connections from `pool`, shared with the rest of the application.
    ///
    /// A pool tests each idle connection with a round trip before handing it out unless
    /// it was built with `test_before_acquire(false)`, which keeps every operation at
    /// one round trip (a pool built by [`url`](Self::url) does this).
    ///
    /// ```no_run
    /// # async fn demo() -> optimist_core::Result<()> {
    /// let pool = sqlx::postgres::PgPoolOptions::new()
    ///     .test_before_acquire(false)
    ///     .connect_lazy("postgres://app@127.0.0.1/app")
    ///     .map_err(|e| optimist_core::Error::backend(optimist_core::Operation::Setup, None, false, e))?;
    /// let store = optimist_postgres::PostgresStore::builder().pool(pool).build().await?;
    /// # Ok(()) }
    /// ```
    pub fn pool(mut self, pool: PgPool) -> Self {
        self.source = Some(Source::Pool(pool));
        self
    }

    /// Connects to the server at `url` (`postgres://user:password@host:port/db`) with a
    /// pool of at most [`max_connections`](Self::max_connections).
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder().url("postgres://me:pw@db/app");
    /// assert!(!format!("{builder:?}").contains("pw@"));
    /// ```
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.source = Some(Source::Url(url.into()));
        self
    }

    /// The table, `name` or `schema.name` ([`DEFAULT_TABLE`] otherwise). Each part is
    /// 1 to 63 ASCII letters, digits or `_`, not starting with a digit; it is used
    /// double-quoted, so its case is kept. Any other name is refused by
    /// [`build`](Self::build) with `InvalidInput`.
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder().table("app.items");
    /// ```
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// Whether [`build`](Self::build) creates the table if it does not exist (default
    /// `true`). Without it, the table must exist with the columns the README describes.
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder().create_table(false);
    /// ```
    pub fn create_table(mut self, create: bool) -> Self {
        self.create_table = create;
        self
    }

    /// The most connections a pool built from a URL opens ([`DEFAULT_MAX_CONNECTIONS`]).
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder().max_connections(32);
    /// ```
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// The largest item accepted, key plus JSON value in bytes (400 KiB by default, as
    /// on every backend; PostgreSQL itself takes far more).
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder().max_item_bytes(4 << 20);
    /// ```
    pub fn max_item_bytes(mut self, bytes: usize) -> Self {
        self.max_item_bytes = Some(bytes);
        self
    }

    /// How long serialization failures and deadlocks are retried
    /// ([`DEFAULT_RETRY_BUDGET`]).
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder()
    ///     .retry_budget(std::time::Duration::from_secs(1));
    /// ```
    pub fn retry_budget(mut self, budget: Duration) -> Self {
        self.retry_budget = budget;
        self
    }

    /// How long an operation waits for a connection from a pool built from a URL
    /// ([`DEFAULT_ACQUIRE_TIMEOUT`]), after which it fails with
    /// `Backend { retryable: true }` and nothing sent.
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder()
    ///     .acquire_timeout(std::time::Duration::from_secs(2));
    /// ```
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Checks the table name, connects, and creates the table unless told not to.
    ///
    /// A bad table name or URL is `InvalidInput`; a server that cannot be reached is
    /// `Backend { retryable: true }` naming the server (never the password).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let err = optimist_postgres::PostgresStore::builder()
    ///     .url("postgres://127.0.0.1/app")
    ///     .table("items; DROP TABLE users")
    ///     .build()
    ///     .await
    ///     .unwrap_err();
    /// assert!(err.is_invalid_input());
    /// # });
    /// ```
    pub async fn build(self) -> Result<PostgresStore> {
        let setup = Operation::Setup;
        let table = TableName::parse(&self.table).map_err(|reason| {
            Error::invalid(setup, None, format!("invalid table name: {reason}"))
        })?;
        let pool = match self.source {
            Some(Source::Pool(pool)) => pool,
            Some(Source::Url(url)) => {
                connect(&url, self.max_connections, self.acquire_timeout).await?
            }
            None => {
                return Err(Error::invalid(
                    setup,
                    None,
                    "no connection given: call .url(...) or .pool(...)",
                ));
            }
        };
        let sql = Statements::new(&table);
        if self.create_table {
            create_table(&pool, &sql.create).await?;
        }
        let mut capabilities = Capabilities::new().with_nul_in_keys(false);
        if let Some(bytes) = self.max_item_bytes {
            capabilities = capabilities.with_max_item_bytes(bytes);
        }
        tracing::debug!(%table, "postgres store ready");
        Ok(PostgresStore::from_inner(Arc::new(Inner {
            pool,
            table,
            sql,
            capabilities,
            retry: RetryBudget(self.retry_budget),
        })))
    }
}

async fn connect(url: &str, max_connections: u32, acquire_timeout: Duration) -> Result<PgPool> {
    let setup = Operation::Setup;
    let shown = redact_url(url);
    let secrets = url_secrets(url);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let options = PgConnectOptions::from_str(url).map_err(|e| {
        Error::invalid(
            setup,
            None,
            Scrubbed::new(format!("invalid PostgreSQL URL {shown}: {e}"), &secrets).0,
        )
    })?;
    // A first connection of its own, because a pool reports a refused or failed
    // connection only as "timed out" and the cause matters here.
    let first = PgConnection::connect_with(&options).await.map_err(|e| {
        let retryable = !matches!(e, sqlx::Error::Configuration(_));
        let message = format!("cannot connect to PostgreSQL at {shown}: {e}");
        Error::backend(setup, None, retryable, Scrubbed::new(message, &secrets))
    })?;
    if let Err(err) = first.close().await {
        tracing::debug!(%err, "closing the first connection failed");
    }
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        // The ping would cost a round trip per operation; a broken connection shows
        // as an error of the statement instead (see error.rs).
        .test_before_acquire(false)
        .acquire_timeout(acquire_timeout)
        .connect_lazy_with(options))
}

async fn create_table(pool: &PgPool, statement: &str) -> Result<()> {
    match sqlx::query(statement).execute(pool).await {
        Ok(_) => Ok(()),
        // Two stores creating the same table at once: CREATE TABLE IF NOT EXISTS can
        // still fail on the catalog's unique index; the table then exists.
        Err(e) if matches!(error::sqlstate(&e).as_deref(), Some("23505" | "42P07")) => Ok(()),
        Err(e) => Err(error::map(e, Context::read(Operation::Setup, None))),
    }
}

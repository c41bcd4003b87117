//! Building a store: where its connections come from, its table, its limits.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use optimist_core::redact::{Secrets, redact_url};
use optimist_core::retry::RetryPolicy;
use optimist_core::{Applied, Capabilities, Error, ErrorKind, Result, StorageError};
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};

use crate::commit_function::CommitFunction;
use crate::connection::Connection;
use crate::error;
use crate::pool::{Pool, PoolTimes};
use crate::sql::Statements;
use crate::store::{BACKEND, Inner, PostgresStore};
use crate::table::TableName;
use crate::{catalog, schema};

/// The table a store uses unless told otherwise.
pub const DEFAULT_TABLE: &str = "optimist_items";

/// How many connections a store opens at `build` and keeps, unless told otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How long an operation waits for an idle connection when all are busy.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a request waits for the server's answer before it gives up on it.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

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
    retry_policy: RetryPolicy,
    acquire_timeout: Duration,
    response_timeout: Duration,
    check_idle_after: Option<Duration>,
    tombstones: bool,
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
            .field("retry_policy", &self.retry_policy)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("check_idle_after", &self.check_idle_after)
            .field("tombstones", &self.tombstones)
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
            retry_policy: RetryPolicy::transient_default().clone(),
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            check_idle_after: None,
            tombstones: false,
        }
    }
}

impl PostgresStoreBuilder {
    /// Connects to the server of `pool`, with its connect options (address, database,
    /// user, password, TLS). The store opens its own
    /// [`max_connections`](Self::max_connections) connections with them: sqlx's pool
    /// would add an exchange after every operation (it pings each connection it takes
    /// back) and open connections on a caller's path. The pool stays the
    /// application's, and [`PostgresStore::pool`](crate::PostgresStore::pool) returns
    /// it.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = sqlx::postgres::PgPoolOptions::new()
    ///     .connect_lazy("postgres://app@127.0.0.1/app")?;
    /// let store = optimist_postgres::PostgresStore::builder().pool(pool).build().await?;
    /// # Ok(()) }
    /// ```
    pub fn pool(mut self, pool: PgPool) -> Self {
        self.source = Some(Source::Pool(pool));
        self
    }

    /// Connects to the server at `url` (`postgres://user:password@host:port/db`) with
    /// [`max_connections`](Self::max_connections) connections of the store's own.
    ///
    /// Percent-encode a password that holds `/`, `?`, `#`, `@`, `:` or `%`, as any URL
    /// requires. Written raw or encoded, the password never appears in an error or in
    /// `Debug` output: everything from the first `:` of the user info to the last `@` is
    /// hidden.
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder().url("postgres://me:p%2Fw@db/app");
    /// assert!(format!("{builder:?}").contains("postgres://me:***@db/app"));
    /// ```
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.source = Some(Source::Url(url.into()));
        self
    }

    /// The table, `name` or `schema.name` ([`DEFAULT_TABLE`] otherwise). Each part is
    /// 1 to 63 ASCII letters, digits or `_`, not starting with a digit; it is used
    /// double-quoted, so its case is kept. Any other name is refused by
    /// [`build`](Self::build) with `Error::Configuration`.
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder().table("app.items");
    /// ```
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// Whether [`build`](Self::build) creates the table if it does not exist (default
    /// `true`), and brings a table of the layout before write tokens up to date (it adds
    /// the `token` and `deleted_at` columns and lets `value` be NULL). Either way `build`
    /// then checks that the table has the columns the README describes, and refuses a
    /// missing table, an outdated one it may not change, or one of another shape with
    /// `Error::Configuration`.
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder().create_table(false);
    /// ```
    pub fn create_table(mut self, create: bool) -> Self {
        self.create_table = create;
        self
    }

    /// Tombstone mode (default `false`): `delete` and `remove` leave a tombstone, a row
    /// without a value that keeps the deleted item's version, so an insert of the key
    /// continues at that version + 1 instead of restarting at 1, and a late write
    /// expecting the deleted item (or an empty key) cannot land. Reads never show
    /// tombstones; [`purge_tombstones`](optimist_core::VersionedStore::purge_tombstones)
    /// removes old ones. Off by default, as the contract's default is that a key
    /// inserted again restarts at version 1 (R15), and tombstones take room until
    /// purged. See the README.
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder().tombstones(true);
    /// assert!(format!("{builder:?}").contains("tombstones: true"));
    /// ```
    pub fn tombstones(mut self, on: bool) -> Self {
        self.tombstones = on;
        self
    }

    /// How many connections the store opens at [`build`](Self::build), each with
    /// every statement prepared, and keeps open ([`DEFAULT_MAX_CONNECTIONS`], at least
    /// 1). Calls beyond that many at once wait for a connection to be free (see
    /// [`acquire_timeout`](Self::acquire_timeout)); none is opened on a caller's path.
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

    /// How often a request that failed without being applied (the server busy or
    /// unreachable, a serialization failure or deadlock) is sent again, and how long to
    /// wait in between; core's engine does the retrying.
    /// [`RetryPolicy::transient_default`] unless told otherwise.
    ///
    /// ```
    /// use optimist_core::retry::RetryPolicy;
    /// let builder = optimist_postgres::PostgresStore::builder()
    ///     .retry_policy(RetryPolicy::transient_default().clone().with_max_attempts(3));
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// How long an operation waits for an idle connection of the store's pool when
    /// all are busy ([`DEFAULT_ACQUIRE_TIMEOUT`]); past it the request fails as
    /// `Unavailable` with nothing sent (and is retried within the
    /// [retry policy](Self::retry_policy)). Opening a connection may take the longer of
    /// this and the [response timeout](Self::response_timeout).
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder()
    ///     .acquire_timeout(std::time::Duration::from_secs(2));
    /// ```
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// How long any request waits for the server's answer
    /// ([`DEFAULT_RESPONSE_TIMEOUT`]); PostgreSQL has no such limit of its own, so a
    /// server that hangs would hang the caller. A write whose answer does not come in
    /// time may have been applied: it fails with `Error::Indeterminate`. A read fails
    /// with `ErrorKind::Timeout` (retried within the [retry policy](Self::retry_policy)).
    /// The connection it was sent on is closed. It also bounds the table's creation
    /// and each statement's preparation in [`build`](Self::build). Opening a
    /// connection may take the longer of this and the
    /// [acquire timeout](Self::acquire_timeout).
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder()
    ///     .response_timeout(std::time::Duration::from_secs(5));
    /// ```
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Checks a connection that has been idle at least `idle` before an operation uses
    /// it (off by default): one exchange (a `Sync` and the server's ready message,
    /// within the [response timeout](Self::response_timeout)), after which a
    /// connection that does not answer is closed and replaced and the operation takes
    /// another. Turn it on when something between the store and the server closes
    /// idle connections without a word from the server (a load balancer's or a
    /// proxy's idle timeout, a NAT): otherwise the first write sent on each closed
    /// connection finds an end of stream it cannot tell from a lost answer, and fails
    /// as `Error::Indeterminate` (a put; a conditional write is settled from its
    /// token). A busy store pays nothing: only connections idle that long are
    /// checked. Pick a period below the closer's timeout (pgx checks after 1 s, HikariCP
    /// after 500 ms). A session the server itself ends is replaced without it.
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder()
    ///     .check_idle_after(std::time::Duration::from_secs(1));
    /// ```
    pub fn check_idle_after(mut self, idle: Duration) -> Self {
        self.check_idle_after = Some(idle);
        self
    }

    /// Checks the settings, connects, creates (or brings up to date) the table and its
    /// commit function unless told not to, checks the table's columns, then opens
    /// [`max_connections`](Self::max_connections) connections and prepares every
    /// statement the store sends on each, so that no call opens or prepares anything.
    ///
    /// A transaction is one call of the commit function, a PL/pgSQL function created
    /// in the table's schema; with `create_table(false)` and no such function (or a
    /// role that may not create it) transactions take four round trips instead, and a
    /// warning says so (see the README's "Transactions").
    ///
    /// A bad table name or URL, a zero response timeout, a missing schema, or a table
    /// that is missing, outdated or of another shape is `Error::Configuration`; a server
    /// that cannot be reached is `Error::Backend`
    /// (kind `Unavailable`) whose source names the server, never the password.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let err = optimist_postgres::PostgresStore::builder()
    ///     .url("postgres://127.0.0.1/app")
    ///     .table("items; DROP TABLE users")
    ///     .build()
    ///     .await
    ///     .unwrap_err();
    /// assert!(matches!(err, optimist_core::Error::Configuration { .. }));
    /// # });
    /// ```
    pub async fn build(self) -> Result<PostgresStore> {
        let table = TableName::parse(&self.table).map_err(|reason| {
            Error::configuration(BACKEND, format!("invalid table name: {reason}"))
        })?;
        if self.response_timeout.is_zero() {
            return Err(Error::configuration(
                BACKEND,
                "the response timeout must be longer than zero",
            ));
        }
        let (options, pool, shown, secrets) = match self.source {
            Some(Source::Pool(pool)) => {
                let options = (*pool.connect_options()).clone();
                let shown = format!(
                    "the pool's server ({}:{})",
                    options.get_host(),
                    options.get_port()
                );
                (options, pool, shown, Secrets::new())
            }
            Some(Source::Url(url)) => {
                let (options, pool) = options_of(&url, self.max_connections, self.acquire_timeout)?;
                (options, pool, redact_url(&url), Secrets::from_url(&url))
            }
            None => {
                return Err(Error::configuration(
                    BACKEND,
                    "no connection given: call .url(...) or .pool(...)",
                ));
            }
        };
        // One connection first, on its own: it reports a refused connection with its
        // cause, and sets the table up before the statements are prepared.
        let connecting = crate::pool::connect_timeout(self.acquire_timeout, self.response_timeout);
        let first = tokio::time::timeout(connecting, PgConnection::connect_with(&options))
            .await
            .map_err(|_| error::setup(error::timed_out(connecting, Applied::No)))?
            .map_err(|e| error::cannot_connect(shown, e, &secrets))?;
        let mut conn = Connection::standalone(first, self.response_timeout);
        let sql = Statements::new(&table, self.tombstones);
        let layout = schema::Layout {
            may_change: self.create_table,
            create: &sql.create,
            upgrade: &sql.upgrade,
            tombstones: self.tombstones,
        };
        schema::prepare(&mut conn, &table, &layout).await?;
        let facts = catalog::probe(&mut conn, &table).await?;
        let function = CommitFunction::new(&facts.schema, &facts.name);
        let commit_call = function
            .install(&mut conn, self.create_table)
            .await
            .map_err(error::setup)?
            .then(|| function.call.clone());
        let statements = sql.prepared(commit_call.as_deref());
        let mut first = conn.into_raw().ok_or_else(|| {
            error::setup(StorageError::not_applied(
                ErrorKind::Unavailable,
                "the first connection broke while the table was set up",
            ))
        })?;
        Pool::prepare(&mut first, &statements, self.response_timeout)
            .await
            .map_err(error::setup)?;
        let connections = Pool::open(
            first,
            options,
            statements,
            self.max_connections,
            PoolTimes {
                acquire_timeout: self.acquire_timeout,
                response_timeout: self.response_timeout,
                idle_check: self.check_idle_after,
            },
        )
        .await
        .map_err(error::setup)?;
        let mut capabilities = Capabilities::new()
            .with_nul_in_keys(false)
            .with_tombstones(self.tombstones);
        if let Some(bytes) = self.max_item_bytes {
            capabilities = capabilities.with_max_item_bytes(bytes);
        }
        tracing::debug!(
            %table,
            tombstones = self.tombstones,
            connections = self.max_connections,
            one_call_transactions = commit_call.is_some(),
            "postgres store ready"
        );
        Ok(PostgresStore::from_inner(Arc::new(Inner {
            pool,
            connections,
            table,
            sql,
            commit_call,
            capabilities,
            retry_policy: self.retry_policy,
            response_timeout: self.response_timeout,
            tombstones: self.tombstones,
            identity: facts.identity,
            byte_ordered: facts.byte_ordered,
        })))
    }
}

/// The connect options `url` names, and a sqlx pool for them that opens nothing until
/// the application uses it ([`PostgresStore::pool`]).
fn options_of(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
) -> Result<(PgConnectOptions, PgPool)> {
    let shown = redact_url(url);
    let secrets = Secrets::from_url(url);
    let options = PgConnectOptions::from_str(url).map_err(|e| {
        // The parser's message quotes no part of the URL, but is scrubbed all the same.
        let reason = format!(
            "invalid PostgreSQL URL {shown}: {}",
            secrets.scrub_chain(&e)
        );
        Error::configuration(BACKEND, reason)
    })?;
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .test_before_acquire(false)
        .acquire_timeout(acquire_timeout)
        .connect_lazy_with(options.clone());
    Ok((options, pool))
}

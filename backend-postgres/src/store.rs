//! The store: its settings, its connections, and core's `Storage` on them (single
//! writes in `write.rs`, transactions in `transaction.rs`, purging in `purge.rs`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use optimist_core::retry::RetryPolicy;
use optimist_core::{
    Applied, Capabilities, CommitOutcome, Key, Outcome, OwnedPut, PutAnswer, RangePage,
    RangeRequest, Record, Storage, StorageError, Write,
};
use sqlx::postgres::{PgPool, PgRow, Postgres};

use crate::builder::PostgresStoreBuilder;
use crate::connection::Connection;
use crate::item::key_columns;
use crate::pool::Pool;
use crate::row::record_at;
use crate::sql::Statements;
use crate::table::TableName;

/// The name the engine gives this backend in spans and errors.
pub(crate) const BACKEND: &str = "postgres";

pub(crate) struct Inner {
    /// A sqlx pool for the application's own statements; the store's calls never use it.
    pub(crate) pool: PgPool,
    /// The connections the store's calls run on, all open and prepared.
    pub(crate) connections: Pool,
    pub(crate) table: TableName,
    pub(crate) sql: Statements,
    /// The statement that calls the table's commit function, if the store has it: a
    /// transaction is then one call; otherwise it takes the stepwise way.
    pub(crate) commit_call: Option<String>,
    pub(crate) capabilities: Capabilities,
    pub(crate) retry_policy: RetryPolicy,
    pub(crate) response_timeout: Duration,
    /// Tombstone mode: a delete leaves a tombstone instead of removing the row.
    pub(crate) tombstones: bool,
    /// Names the table's data for cursors: server, database, schema, table.
    pub(crate) identity: String,
    /// Whether the primary key's index is in byte order (see `catalog`).
    pub(crate) byte_ordered: bool,
}

/// A [`VersionedStore`](optimist_core::VersionedStore) on one PostgreSQL table, through
/// core's engine. Clones share the pool and the table.
///
/// Every single-item operation is one SQL statement, sent in one round trip, that also
/// returns the current item when its condition fails; a transaction is one call of the
/// table's commit function, one round trip too. Nothing else is sent before or after:
/// the store's connections were opened, and every statement prepared on each, by
/// `build`. See the crate's README for the statements and why they are
/// linearizable.
///
/// ```no_run
/// use optimist_core::{Key, VersionedStore};
/// use optimist_postgres::PostgresStore;
/// use serde_json::json;
///
/// # async fn demo() -> optimist_core::Result<()> {
/// let store = PostgresStore::builder()
///     .url("postgres://app:secret@127.0.0.1:5432/app")
///     .build()
///     .await?;
/// let key = Key::with_sort("customer#9", "order#1");
/// let v1 = store.insert(&key, json!({"total": 12})).await?;
/// let v2 = store.update(&key, v1, json!({"total": 15})).await?;
/// assert_eq!(store.get(&key).await?.map(|item| item.version), Some(v2));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

// Hand-written: the pool's connect options hold the password.
impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("table", &self.inner.table)
            .field("capabilities", &self.inner.capabilities)
            .field("retry_policy", &self.inner.retry_policy)
            .field("response_timeout", &self.inner.response_timeout)
            .field("tombstones", &self.inner.tombstones)
            .field("connections", &self.inner.connections.size())
            .field("one_call_transactions", &self.inner.commit_call.is_some())
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// A builder: give it a pool or a URL, and optionally a table.
    ///
    /// ```
    /// let builder = optimist_postgres::PostgresStore::builder().table("items");
    /// ```
    pub fn builder() -> PostgresStoreBuilder {
        PostgresStoreBuilder::default()
    }

    pub(crate) fn from_inner(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// A sqlx pool to the store's server, for the application's own statements: the
    /// pool given to [`pool`](PostgresStoreBuilder::pool), or for a store built from a
    /// URL one that opens its connections when first used. The store's own calls do
    /// not use it: they run on the store's connections, opened by `build` (see
    /// [`close`](Self::close)).
    ///
    /// ```no_run
    /// # async fn demo(store: optimist_postgres::PostgresStore) -> Result<(), sqlx::Error> {
    /// let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables")
    ///     .fetch_one(store.pool())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// Closes the store's connections and the pool of [`pool`](Self::pool). Calls made
    /// after it (on this store or its clones) fail as `Unavailable` with nothing sent; a
    /// call running on a connection finishes, and its connection is closed then.
    ///
    /// ```no_run
    /// # async fn demo(store: optimist_postgres::PostgresStore) {
    /// store.close().await;
    /// # }
    /// ```
    pub async fn close(&self) {
        self.inner.connections.close().await;
        self.inner.pool.close().await;
    }

    /// How many of the store's connections are idle now, of the
    /// [`max_connections`](PostgresStoreBuilder::max_connections) it keeps open; the
    /// others are running a call, or being opened again after one broke.
    ///
    /// ```no_run
    /// # fn demo(store: optimist_postgres::PostgresStore) {
    /// println!("{} connections idle", store.idle_connections());
    /// # }
    /// ```
    pub fn idle_connections(&self) -> usize {
        self.inner.connections.idle()
    }

    /// The table's name as given (`name` or `schema.name`).
    ///
    /// ```no_run
    /// # fn demo(store: optimist_postgres::PostgresStore) {
    /// assert_eq!(store.table(), "optimist_items");
    /// # }
    /// ```
    pub fn table(&self) -> &str {
        self.inner.table.as_str()
    }

    /// Whether a [`query`](optimist_core::VersionedStore::query) reads one range of the
    /// primary key's index: true when the table's key columns are `COLLATE "C"`, as in
    /// every table this crate creates. On a table made with another collation, queries
    /// still answer in byte order, but the server sorts each page's partition first
    /// (the README's "Schema" tells how to change the columns).
    ///
    /// ```no_run
    /// # fn demo(store: optimist_postgres::PostgresStore) {
    /// assert!(store.key_index_in_byte_order());
    /// # }
    /// ```
    pub fn key_index_in_byte_order(&self) -> bool {
        self.inner.byte_ordered
    }

    /// A connection for one operation; failing here means nothing was sent.
    pub(crate) async fn connection(&self) -> Result<Connection, StorageError> {
        Connection::acquire(&self.inner.connections, self.inner.response_timeout).await
    }

    /// Sends one statement that returns at most one row.
    pub(crate) async fn one_row(
        &self,
        query: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
        if_lost: Applied,
    ) -> Result<Option<PgRow>, StorageError> {
        self.connection()
            .await?
            .fetch_optional(query, if_lost)
            .await
    }
}

#[async_trait]
impl Storage for PostgresStore {
    fn backend_name(&self) -> &'static str {
        BACKEND
    }

    fn capabilities(&self) -> &Capabilities {
        &self.inner.capabilities
    }

    fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry_policy
    }

    async fn read(&self, key: &Key) -> Result<Option<Record>, StorageError> {
        let (p, s) = key_columns(key);
        let query = sqlx::query(&self.inner.sql.get).bind(p).bind(s);
        match self.one_row(query, Applied::No).await? {
            Some(row) => Ok(Some(record_at(&row, 0, Applied::No)?)),
            None => Ok(None),
        }
    }

    fn identity(&self) -> String {
        self.inner.identity.clone()
    }

    async fn read_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        crate::reads::many(self, keys).await
    }

    async fn read_range(&self, request: &RangeRequest<'_>) -> Result<RangePage, StorageError> {
        crate::reads::range(self, request).await
    }

    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        crate::write::write(self, write).await
    }

    /// As the default, without its second boxed future (its call of `write`).
    async fn write_value(&self, put: OwnedPut<'_>) -> PutAnswer {
        let answer = crate::write::write(self, &put.write()).await;
        put.answered(answer)
    }

    async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
        crate::transaction::commit(self, writes).await
    }

    async fn purge_tombstones(&self, older_than: Duration) -> Result<u64, StorageError> {
        crate::purge::purge(self, older_than).await
    }
}

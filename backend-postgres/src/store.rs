//! The store and its single-item requests: one statement, one round trip each, and a
//! refused write's current item read by that same statement.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use optimist_core::retry::RetryPolicy;
use optimist_core::{
    Applied, Capabilities, Change, CommitOutcome, Decision, Expect, Key, Outcome, Storage,
    StorageError, Version, Versioned, Write,
};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::{PgPool, PgRow, Postgres};

use crate::builder::PostgresStoreBuilder;
use crate::connection::Connection;
use crate::error;
use crate::item::{
    Unreadable, expected_column, item_from_columns, key_columns, value_text, version_from_column,
};
use crate::sql::Statements;
use crate::table::TableName;

/// The name the engine gives this backend in spans and errors.
pub(crate) const BACKEND: &str = "postgres";

pub(crate) struct Inner {
    pub(crate) pool: PgPool,
    pub(crate) table: TableName,
    pub(crate) sql: Statements,
    pub(crate) capabilities: Capabilities,
    pub(crate) retry_policy: RetryPolicy,
    pub(crate) response_timeout: Duration,
}

/// A [`VersionedStore`](optimist_core::VersionedStore) on one PostgreSQL table, through
/// core's engine. Clones share the pool and the table.
///
/// Every single-item operation is one SQL statement, sent in one round trip, that also
/// returns the current item when its condition fails; a transaction is one database
/// transaction. See the crate's README for the statements and why they are
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

    /// The pool the store uses, to share it or to close it.
    ///
    /// ```no_run
    /// # async fn demo(store: optimist_postgres::PostgresStore) {
    /// store.pool().close().await;
    /// # }
    /// ```
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
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

    /// A connection for one operation; failing here means nothing was sent.
    pub(crate) async fn connection(&self) -> Result<Connection, StorageError> {
        Connection::acquire(&self.inner.pool, self.inner.response_timeout).await
    }

    /// Sends one statement that returns at most one row.
    async fn one_row(
        &self,
        query: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
        if_lost: Applied,
    ) -> Result<Option<PgRow>, StorageError> {
        self.connection()
            .await?
            .fetch_optional(query, if_lost)
            .await
    }

    /// `Absent` + put: inserted, or refused with the row that is there.
    async fn insert(&self, key: &Key, value: &Value) -> Result<Outcome, StorageError> {
        let (p, s) = key_columns(key);
        let query = sqlx::query(&self.inner.sql.insert)
            .bind(p)
            .bind(s)
            .bind(value_text(value));
        let row = self
            .one_row(query, Applied::Maybe)
            .await?
            .ok_or_else(|| no_row(Applied::Maybe))?;
        if column::<bool>(&row, 0, Applied::Maybe)? {
            return Ok(Outcome::Applied { previous: None });
        }
        // Refused: the statement changed nothing (it wrote the row's own version).
        let current =
            item_from_columns(column(&row, 2, Applied::No)?, column(&row, 1, Applied::No)?);
        Ok(Outcome::Refused {
            current: Some(current.map_err(|e| error::unreadable(e, Applied::No))?),
        })
    }

    /// `At(expected)` + put (`value: Some`) or delete (`None`): written, or refused with
    /// the locked row (none: the key is absent).
    async fn at_version(
        &self,
        key: &Key,
        expected: Version,
        value: Option<&Value>,
    ) -> Result<Outcome, StorageError> {
        let (p, s) = key_columns(key);
        let query = match value {
            Some(value) => sqlx::query(&self.inner.sql.update)
                .bind(p)
                .bind(s)
                .bind(expected_column(expected))
                .bind(value_text(value)),
            None => sqlx::query(&self.inner.sql.delete)
                .bind(p)
                .bind(s)
                .bind(expected_column(expected)),
        };
        let Some(row) = self.one_row(query, Applied::Maybe).await? else {
            return Ok(Outcome::Refused { current: None });
        };
        let written: Option<i64> = column(&row, 0, Applied::Maybe)?;
        let locked: i64 = column(&row, 1, Applied::Maybe)?;
        if written.is_some() {
            let previous = version_from_column(locked);
            return Ok(Outcome::Applied {
                previous: Some(previous.map_err(|e| error::unreadable(e, Applied::Maybe))?),
            });
        }
        let current = item_from_columns(column(&row, 2, Applied::No)?, locked);
        Ok(Outcome::Refused {
            current: Some(current.map_err(|e| error::unreadable(e, Applied::No))?),
        })
    }

    /// `Any` + put: always applied; the version it replaced, if any.
    async fn put(&self, key: &Key, value: &Value) -> Result<Outcome, StorageError> {
        let (p, s) = key_columns(key);
        let query = sqlx::query(&self.inner.sql.put)
            .bind(p)
            .bind(s)
            .bind(value_text(value));
        let row = self
            .one_row(query, Applied::Maybe)
            .await?
            .ok_or_else(|| no_row(Applied::Maybe))?;
        let previous = optional_version(column(&row, 0, Applied::Maybe)?, Applied::Maybe)?;
        Ok(Outcome::Applied { previous })
    }

    /// `Any` + delete: always applied; the version it deleted, if any.
    async fn remove(&self, key: &Key) -> Result<Outcome, StorageError> {
        let (p, s) = key_columns(key);
        let query = sqlx::query(&self.inner.sql.remove).bind(p).bind(s);
        let previous = match self.one_row(query, Applied::Maybe).await? {
            Some(row) => optional_version(column(&row, 0, Applied::Maybe)?, Applied::Maybe)?,
            None => None,
        };
        Ok(Outcome::Applied { previous })
    }

    /// A write that changes nothing (a check, or deleting what must be absent): one
    /// read, judged by core's `Write::decide`, as atomic as the read is.
    async fn judge(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        let current = self.read(write.key).await?;
        let previous = current.as_ref().map(|item| item.version);
        Ok(match write.decide(previous) {
            Decision::Refuse => Outcome::Refused { current },
            Decision::Put(_) | Decision::Delete | Decision::Keep => Outcome::Applied { previous },
        })
    }
}

/// Column `index` of a returned row; a row of another shape is unreadable data.
fn column<'r, T>(row: &'r PgRow, index: usize, applied: Applied) -> Result<T, StorageError>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(index).map_err(|e| error::sent(e, applied))
}

fn optional_version(
    version: Option<i64>,
    applied: Applied,
) -> Result<Option<Version>, StorageError> {
    version
        .map(version_from_column)
        .transpose()
        .map_err(|e| error::unreadable(e, applied))
}

/// A statement that always returns a row returned none.
fn no_row(applied: Applied) -> StorageError {
    error::unreadable(Unreadable("the statement returned no row".into()), applied)
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

    async fn read(&self, key: &Key) -> Result<Option<Versioned<Value>>, StorageError> {
        let (p, s) = key_columns(key);
        let query = sqlx::query(&self.inner.sql.get).bind(p).bind(s);
        let Some(row) = self.one_row(query, Applied::No).await? else {
            return Ok(None);
        };
        let item = item_from_columns(column(&row, 0, Applied::No)?, column(&row, 1, Applied::No)?);
        Ok(Some(item.map_err(|e| error::unreadable(e, Applied::No))?))
    }

    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        match (write.expect, write.change) {
            (Expect::Absent, Change::Put(value)) => self.insert(write.key, value).await,
            (Expect::At(expected), Change::Put(value)) => {
                self.at_version(write.key, expected, Some(value)).await
            }
            (Expect::At(expected), Change::Delete) => {
                self.at_version(write.key, expected, None).await
            }
            (Expect::Any, Change::Put(value)) => self.put(write.key, value).await,
            (Expect::Any, Change::Delete) => self.remove(write.key).await,
            (_, Change::Keep) | (Expect::Absent, Change::Delete) => self.judge(write).await,
        }
    }

    async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
        crate::transaction::commit(self, writes).await
    }
}

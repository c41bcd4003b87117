//! The store and its single-item operations: one statement, one round trip each.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use optimist_core::{
    Capabilities, Conflict, Error, Key, Operation, Result, TxOp, Version, Versioned,
    VersionedStore, validate,
};
use serde_json::Value;
use sqlx::Row;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgRow, Postgres};

use crate::builder::PostgresStoreBuilder;
use crate::codec::{
    expected_column, item_from_columns, key_columns, value_text, version_from_column,
};
use crate::error::{Context, Failure, classify};
use crate::retry::RetryBudget;
use crate::sql::Statements;
use crate::table::TableName;

pub(crate) struct Inner {
    pub(crate) pool: PgPool,
    pub(crate) table: TableName,
    pub(crate) sql: Statements,
    pub(crate) capabilities: Capabilities,
    pub(crate) retry: RetryBudget,
}

/// A [`VersionedStore`] on one PostgreSQL table. Clones share the pool and the table.
///
/// Every single-item operation is one SQL statement, sent in one round trip, that also
/// returns the current item when its condition fails (contract R11); a transaction is one
/// database transaction. See the crate's README for the statements and why they are
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

// Hand-written: the pool's options hold the password.
impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("table", &self.inner.table)
            .field("capabilities", &self.inner.capabilities)
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
    /// println!("items live in {}", store.table());
    /// # }
    /// ```
    pub fn table(&self) -> String {
        self.inner.table.to_string()
    }

    /// A connection from the pool; failing here means nothing was sent.
    pub(crate) async fn connection(
        &self,
        ctx: Context<'_>,
    ) -> std::result::Result<PoolConnection<Postgres>, Failure> {
        let not_sent = Context {
            may_apply: false,
            ..ctx
        };
        self.inner
            .pool
            .acquire()
            .await
            .map_err(|e| classify(e, not_sent))
    }

    /// Runs one statement that returns at most one row.
    async fn one_row(
        &self,
        ctx: Context<'_>,
        query: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
    ) -> std::result::Result<Option<PgRow>, Failure> {
        let mut conn = self.connection(ctx).await?;
        query
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| classify(e, ctx))
    }

    async fn insert_once(&self, ctx: Context<'_>, key: &Key, text: &str) -> Attempt<Version> {
        let (p, s) = key_columns(key);
        let query = sqlx::query(&self.inner.sql.insert)
            .bind(p)
            .bind(s)
            .bind(text);
        let row = self
            .one_row(ctx, query)
            .await?
            .ok_or_else(|| missing_row(ctx))?;
        let inserted: bool = get(&row, 0, ctx)?;
        let version: i64 = get(&row, 1, ctx)?;
        if inserted {
            return Ok(version_from_column(ctx, version)?);
        }
        let current = item_from_columns(ctx, get(&row, 2, ctx)?, version)?;
        Err(conflict(ctx, key, Conflict::AlreadyExists { current }))
    }

    /// Update (`value: Some`) or delete (`None`) at `expected`.
    async fn checked_once(
        &self,
        ctx: Context<'_>,
        key: &Key,
        expected: Version,
        text: Option<&str>,
    ) -> Attempt<Option<Version>> {
        let (p, s) = key_columns(key);
        let query = match text {
            Some(text) => sqlx::query(&self.inner.sql.update)
                .bind(p)
                .bind(s)
                .bind(expected_column(expected))
                .bind(text),
            None => sqlx::query(&self.inner.sql.delete)
                .bind(p)
                .bind(s)
                .bind(expected_column(expected)),
        };
        let Some(row) = self.one_row(ctx, query).await? else {
            return Err(conflict(ctx, key, Conflict::NotFound));
        };
        let written: Option<i64> = get(&row, 0, ctx)?;
        if let Some(version) = written {
            return Ok(Some(version_from_column(ctx, version)?));
        }
        let current = item_from_columns(ctx, get(&row, 2, ctx)?, get(&row, 1, ctx)?)?;
        if current.version == expected {
            // The statement writes whenever the locked row is at `expected`.
            return Err(crate::error::bad_row(
                ctx,
                "the row at the expected version was not written",
            )
            .into());
        }
        Err(conflict(
            ctx,
            key,
            Conflict::VersionMismatch { expected, current },
        ))
    }

    async fn put_once(&self, ctx: Context<'_>, key: &Key, text: &str) -> Attempt<Version> {
        let (p, s) = key_columns(key);
        let query = sqlx::query(&self.inner.sql.put).bind(p).bind(s).bind(text);
        let row = self
            .one_row(ctx, query)
            .await?
            .ok_or_else(|| missing_row(ctx))?;
        Ok(version_from_column(ctx, get(&row, 0, ctx)?)?)
    }

    async fn remove_once(&self, ctx: Context<'_>, key: &Key) -> Attempt<Option<Version>> {
        let (p, s) = key_columns(key);
        let query = sqlx::query(&self.inner.sql.remove).bind(p).bind(s);
        match self.one_row(ctx, query).await? {
            Some(row) => Ok(Some(version_from_column(ctx, get(&row, 0, ctx)?)?)),
            None => Ok(None),
        }
    }

    async fn get_once(&self, ctx: Context<'_>, key: &Key) -> Attempt<Option<Versioned<Value>>> {
        let (p, s) = key_columns(key);
        let query = sqlx::query(&self.inner.sql.get).bind(p).bind(s);
        match self.one_row(ctx, query).await? {
            Some(row) => Ok(Some(item_from_columns(
                ctx,
                get(&row, 0, ctx)?,
                get(&row, 1, ctx)?,
            )?)),
            None => Ok(None),
        }
    }
}

type Attempt<T> = std::result::Result<T, Failure>;

fn get<'r, T>(row: &'r PgRow, index: usize, ctx: Context<'_>) -> std::result::Result<T, Failure>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(index)
        .map_err(|e| Failure::Final(crate::error::map(e, ctx)))
}

fn conflict(ctx: Context<'_>, key: &Key, conflict: Conflict) -> Failure {
    Failure::Final(Error::conflict(ctx.operation, key.clone(), conflict))
}

fn missing_row(ctx: Context<'_>) -> Failure {
    Failure::Final(crate::error::bad_row(ctx, "the statement returned no row"))
}

#[async_trait]
impl VersionedStore for PostgresStore {
    fn capabilities(&self) -> &Capabilities {
        &self.inner.capabilities
    }

    async fn get(&self, key: &Key) -> Result<Option<Versioned<Value>>> {
        let ctx = Context::read(Operation::Get, Some(key));
        validate::key(ctx.operation, key, &self.inner.capabilities)?;
        self.inner.retry.run(ctx, || self.get_once(ctx, key)).await
    }

    async fn insert(&self, key: &Key, value: Value) -> Result<Version> {
        let ctx = Context::write(Operation::Insert, Some(key));
        validate::write(ctx.operation, key, &value, &self.inner.capabilities)?;
        let text = value_text(ctx, &value)?;
        self.inner
            .retry
            .run(ctx, || self.insert_once(ctx, key, &text))
            .await
    }

    async fn update(&self, key: &Key, expected: Version, value: Value) -> Result<Version> {
        let ctx = Context::write(Operation::Update, Some(key));
        validate::write(ctx.operation, key, &value, &self.inner.capabilities)?;
        let text = value_text(ctx, &value)?;
        let written = self
            .inner
            .retry
            .run(ctx, || self.checked_once(ctx, key, expected, Some(&text)))
            .await?;
        written.ok_or_else(|| crate::error::bad_row(ctx, "the update returned no version"))
    }

    async fn delete(&self, key: &Key, expected: Version) -> Result<()> {
        let ctx = Context::write(Operation::Delete, Some(key));
        validate::key(ctx.operation, key, &self.inner.capabilities)?;
        self.inner
            .retry
            .run(ctx, || self.checked_once(ctx, key, expected, None))
            .await
            .map(|_| ())
    }

    async fn put(&self, key: &Key, value: Value) -> Result<Version> {
        let ctx = Context::write(Operation::Put, Some(key));
        validate::write(ctx.operation, key, &value, &self.inner.capabilities)?;
        let text = value_text(ctx, &value)?;
        self.inner
            .retry
            .run(ctx, || self.put_once(ctx, key, &text))
            .await
    }

    async fn remove(&self, key: &Key) -> Result<Option<Version>> {
        let ctx = Context::write(Operation::Remove, Some(key));
        validate::key(ctx.operation, key, &self.inner.capabilities)?;
        self.inner
            .retry
            .run(ctx, || self.remove_once(ctx, key))
            .await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        validate::transaction(&ops, &self.inner.capabilities)?;
        crate::transact::run(self, &ops).await
    }
}

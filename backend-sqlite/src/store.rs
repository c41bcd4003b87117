//! The SQLite store: one statement per operation on the fast path, one short
//! `BEGIN IMMEDIATE` transaction when a condition has to be decided under the lock.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use optimist_core::{
    Capabilities, Error, Key, Operation, Result, TxAction, TxOp, Value, Version, Versioned,
    VersionedStore, validate,
};
use sqlx::Row;

use crate::builder::SqliteStoreBuilder;
use crate::codec::{
    decode_item, decode_version, encode_value, exhausted, expected_param, key_columns,
};
use crate::db::Db;
use crate::error::{Fail, InPhase};
use crate::locked::{self, Action, Outcome};
use crate::retry::busy_retry;
use crate::table::Sql;

/// A [`VersionedStore`] on SQLite, in memory or in a file shared by any number of
/// stores and processes. Clones share the same database.
///
/// Every operation is one SQL statement, or one short `BEGIN IMMEDIATE` transaction
/// when a condition fails or for [`transact`](VersionedStore::transact); a busy
/// database is retried for the builder's busy budget, then reported as a retryable
/// `Error::Backend`.
///
/// ```
/// use optimist_core::{Conflict, Error, Key, VersionedStore};
/// use optimist_sqlite::SqliteStore;
/// use serde_json::json;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = SqliteStore::builder().build().await?;
/// let key = Key::with_sort("customer#9", "order#1");
/// let v1 = store.insert(&key, json!({"total": 30})).await?;
/// let v2 = store.update(&key, v1, json!({"total": 35})).await?;
///
/// // A writer still holding v1 is refused and told what is there now.
/// match store.update(&key, v1, json!({"total": 0})).await {
///     Err(Error::Conflict { conflict: Conflict::VersionMismatch { current, .. }, .. }) => {
///         assert_eq!(current.version, v2);
///         assert_eq!(current.value, json!({"total": 35}));
///     }
///     other => panic!("expected a version mismatch, got {other:?}"),
/// }
/// # Ok::<(), Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub db: Db,
    pub sql: Sql,
    pub table: String,
    pub path: Option<PathBuf>,
    pub capabilities: Capabilities,
    pub busy_budget: Duration,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("table", &self.inner.table)
            .field("busy_budget", &self.inner.busy_budget)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// A builder, set to an in-memory database; see [`SqliteStoreBuilder`].
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_sqlite::SqliteStore::builder().build().await?;
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn builder() -> SqliteStoreBuilder {
        SqliteStoreBuilder::default()
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The table holding the items.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_sqlite::SqliteStore::builder().build().await?;
    /// assert_eq!(store.table(), optimist_sqlite::DEFAULT_TABLE);
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn table(&self) -> &str {
        &self.inner.table
    }

    /// The database file, `None` in memory.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_sqlite::SqliteStore::builder().memory().build().await?;
    /// assert!(store.path().is_none());
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Closes a file store's connections, waiting for operations in progress; later
    /// operations answer a `Backend` error. The last connection to close checkpoints
    /// the WAL into the database file. In memory this does nothing: the database goes
    /// when the last clone of the store is dropped.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_sqlite::SqliteStore::builder().build().await?;
    /// store.close().await;
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn close(&self) {
        if let Db::Pool(pool) = &self.inner.db {
            pool.close().await;
        }
    }

    async fn retry<T, F, Fut>(
        &self,
        operation: Operation,
        key: Option<&Key>,
        attempt: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Fail>>,
    {
        busy_retry(self.inner.busy_budget, operation, key, attempt).await
    }
}

/// The locked path for one op: a refusal becomes that op's own conflict.
async fn single(
    conn: &mut sqlx::SqliteConnection,
    sql: &Sql,
    operation: Operation,
    key: &Key,
    action: Action<'_>,
) -> Result<Option<Version>, Fail> {
    match locked::run(conn, sql, operation, &[(key, action)]).await? {
        Outcome::Applied(versions) => Ok(versions.into_iter().next().flatten()),
        Outcome::Refused(failures) => {
            let conflict = failures.into_iter().next().map(|f| f.conflict);
            Err(match conflict {
                Some(conflict) => Error::conflict(operation, key.clone(), conflict),
                None => no_result(operation, key),
            }
            .into())
        }
    }
}

/// A write that succeeded must leave a version; not finding one is a bug, reported as
/// a backend error rather than a panic.
fn written(operation: Operation, key: &Key, version: Option<Version>) -> Result<Version, Fail> {
    version.ok_or_else(|| no_result(operation, key).into())
}

fn no_result(operation: Operation, key: &Key) -> Error {
    Error::backend(operation, Some(key), false, "the write reported no result")
}

/// A `TxAction` with its value encoded.
fn action<'a>(action: &TxAction, text: Option<&'a str>) -> Action<'a> {
    let text = text.unwrap_or_default();
    match action {
        TxAction::Insert(_) => Action::Insert(text),
        TxAction::Update { expected, .. } => Action::Update {
            expected: *expected,
            value: text,
        },
        TxAction::Delete { expected } => Action::Delete {
            expected: *expected,
        },
        TxAction::Check { expected } => Action::Check {
            expected: *expected,
        },
        TxAction::Put(_) => Action::Put(text),
        TxAction::Remove => Action::Remove,
    }
}

#[async_trait]
impl VersionedStore for SqliteStore {
    fn capabilities(&self) -> &Capabilities {
        &self.inner.capabilities
    }

    async fn get(&self, key: &Key) -> Result<Option<Versioned<Value>>> {
        const OP: Operation = Operation::Get;
        validate::key(OP, key, &self.inner.capabilities)?;
        let (partition, has_sort, sort) = key_columns(key);
        let inner = &*self.inner;
        self.retry(OP, Some(key), || async move {
            let mut conn = inner.db.acquire().await.before()?;
            let row = sqlx::query(&inner.sql.get)
                .bind(partition)
                .bind(has_sort)
                .bind(sort)
                .fetch_optional(&mut *conn)
                .await
                .before()?;
            let Some(row) = row else {
                return Ok(None);
            };
            let text: &str = row.try_get(0).before()?;
            Ok(Some(decode_item(OP, key, text, row.try_get(1).before()?)?))
        })
        .await
    }

    async fn insert(&self, key: &Key, value: Value) -> Result<Version> {
        const OP: Operation = Operation::Insert;
        validate::write(OP, key, &value, &self.inner.capabilities)?;
        let text = encode_value(OP, key, &value)?;
        let text = text.as_str();
        let (partition, has_sort, sort) = key_columns(key);
        let inner = &*self.inner;
        self.retry(OP, Some(key), || async move {
            let mut conn = inner.db.acquire().await.before()?;
            let done = sqlx::query(&inner.sql.insert_if_absent)
                .bind(partition)
                .bind(has_sort)
                .bind(sort)
                .bind(text)
                .execute(&mut *conn)
                .await
                .writing()?;
            if done.rows_affected() == 1 {
                return Ok(Version::FIRST);
            }
            let version = single(&mut conn, &inner.sql, OP, key, Action::Insert(text)).await?;
            written(OP, key, version)
        })
        .await
    }

    async fn update(&self, key: &Key, expected: Version, value: Value) -> Result<Version> {
        const OP: Operation = Operation::Update;
        validate::write(OP, key, &value, &self.inner.capabilities)?;
        let text = encode_value(OP, key, &value)?;
        let text = text.as_str();
        let (partition, has_sort, sort) = key_columns(key);
        let inner = &*self.inner;
        self.retry(OP, Some(key), || async move {
            let mut conn = inner.db.acquire().await.before()?;
            // A version SQLite cannot hold matches no row: straight to the locked path,
            // which reports the conflict (or the exhausted counter).
            if let (Some(at), Some(next)) = (expected_param(expected), expected.next()) {
                let done = sqlx::query(&inner.sql.update_if_at)
                    .bind(partition)
                    .bind(has_sort)
                    .bind(sort)
                    .bind(text)
                    .bind(at)
                    .execute(&mut *conn)
                    .await
                    .writing()?;
                if done.rows_affected() == 1 {
                    return Ok(next);
                }
            }
            let action = Action::Update {
                expected,
                value: text,
            };
            let version = single(&mut conn, &inner.sql, OP, key, action).await?;
            written(OP, key, version)
        })
        .await
    }

    async fn delete(&self, key: &Key, expected: Version) -> Result<()> {
        const OP: Operation = Operation::Delete;
        validate::key(OP, key, &self.inner.capabilities)?;
        let (partition, has_sort, sort) = key_columns(key);
        let inner = &*self.inner;
        self.retry(OP, Some(key), || async move {
            let mut conn = inner.db.acquire().await.before()?;
            if let Some(at) = expected_param(expected) {
                let done = sqlx::query(&inner.sql.delete_if_at)
                    .bind(partition)
                    .bind(has_sort)
                    .bind(sort)
                    .bind(at)
                    .execute(&mut *conn)
                    .await
                    .writing()?;
                if done.rows_affected() == 1 {
                    return Ok(());
                }
            }
            single(&mut conn, &inner.sql, OP, key, Action::Delete { expected }).await?;
            Ok(())
        })
        .await
    }

    async fn put(&self, key: &Key, value: Value) -> Result<Version> {
        const OP: Operation = Operation::Put;
        validate::write(OP, key, &value, &self.inner.capabilities)?;
        let text = encode_value(OP, key, &value)?;
        let text = text.as_str();
        let (partition, has_sort, sort) = key_columns(key);
        let inner = &*self.inner;
        self.retry(OP, Some(key), || async move {
            let mut conn = inner.db.acquire().await.before()?;
            let version: Option<i64> = sqlx::query_scalar(&inner.sql.put)
                .bind(partition)
                .bind(has_sort)
                .bind(sort)
                .bind(text)
                .fetch_optional(&mut *conn)
                .await
                .writing()?;
            // No row back: the upsert's WHERE refused to advance an exhausted counter.
            let version = version.ok_or_else(|| exhausted(OP, key))?;
            Ok(decode_version(OP, key, version)?)
        })
        .await
    }

    async fn remove(&self, key: &Key) -> Result<Option<Version>> {
        const OP: Operation = Operation::Remove;
        validate::key(OP, key, &self.inner.capabilities)?;
        let (partition, has_sort, sort) = key_columns(key);
        let inner = &*self.inner;
        self.retry(OP, Some(key), || async move {
            let mut conn = inner.db.acquire().await.before()?;
            let version: Option<i64> = sqlx::query_scalar(&inner.sql.remove)
                .bind(partition)
                .bind(has_sort)
                .bind(sort)
                .fetch_optional(&mut *conn)
                .await
                .writing()?;
            Ok(version.map(|v| decode_version(OP, key, v)).transpose()?)
        })
        .await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        const OP: Operation = Operation::Transact;
        validate::transaction(&ops, &self.inner.capabilities)?;
        let texts = ops
            .iter()
            .map(|op| {
                op.action()
                    .value()
                    .map(|value| encode_value(OP, op.key(), value))
                    .transpose()
            })
            .collect::<Result<Vec<_>>>()?;
        let planned: Vec<(&Key, Action<'_>)> = ops
            .iter()
            .zip(&texts)
            .map(|(op, text)| (op.key(), action(op.action(), text.as_deref())))
            .collect();
        let planned = planned.as_slice();
        let inner = &*self.inner;
        let outcome = self
            .retry(OP, None, || async move {
                let mut conn = inner.db.acquire().await.before()?;
                locked::run(&mut conn, &inner.sql, OP, planned).await
            })
            .await?;
        match outcome {
            Outcome::Applied(versions) => Ok(versions),
            Outcome::Refused(failures) => Err(Error::TransactionConflict { failures }),
        }
    }
}

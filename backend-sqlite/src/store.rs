//! The SQLite store: one statement per write where one statement can decide it (see
//! [`statement`](crate::statement)), one short `BEGIN IMMEDIATE` transaction otherwise
//! (see [`transaction`](crate::transaction)).

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use optimist_core::retry::RetryPolicy;
use optimist_core::{
    Capabilities, CommitOutcome, ErrorKind, Held, Key, Outcome, OwnedPut, OwnedWrite, PutAnswer,
    RangePage, RangeRequest, Record, Storage, StorageError, Write,
};

use crate::builder::SqliteStoreBuilder;
use crate::db::Db;
use crate::detach;
use crate::error::{self, BACKEND};
use crate::item::{self, Encoded};
use crate::sql::Sql;
use crate::{purge, reads, statement, transaction};

/// A [`VersionedStore`](optimist_core::VersionedStore) on SQLite, in memory or in a
/// file shared by any number of stores and processes. Clones share the same database.
///
/// Every operation is one SQL statement, or one short `BEGIN IMMEDIATE` transaction
/// when a condition fails or for [`transact`](optimist_core::VersionedStore::transact).
/// SQLite waits up to the builder's busy timeout for another connection's write lock;
/// a busy answer that remains is sent again within the store's retry policy, then
/// reported as an `Error::Backend` of kind `Busy`.
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
    pub busy_timeout: Duration,
    pub retry_policy: RetryPolicy,
    /// What cursors are bound to: the database (file or in-memory one) and the table.
    pub identity: String,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("table", &self.inner.table)
            .field("busy_timeout", &self.inner.busy_timeout)
            .field("retry_policy", &self.inner.retry_policy)
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
    /// operations answer an `Error::Backend` of kind `Rejected`. The last connection to
    /// close checkpoints the WAL into the database file. In memory this does nothing:
    /// the database goes when the last clone of the store is dropped.
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
}

#[async_trait]
impl Storage for SqliteStore {
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
        detach::in_place(self.read_now(key)).await
    }

    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        self.write_detached(OwnedWrite::of(write)).await
    }

    /// A put's first attempt lends its value to the call instead of copying it.
    async fn write_value(&self, put: OwnedPut<'_>) -> PutAnswer {
        put.lend(|write| self.write_detached(write)).await
    }

    async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
        let store = self.clone();
        let writes: Vec<OwnedWrite> = writes.iter().map(OwnedWrite::of).collect();
        detach::run(async move {
            let writes: Vec<Write<'_>> = writes.iter().map(OwnedWrite::write).collect();
            transaction::commit(&store.inner.db, &store.inner.sql, &writes).await
        })
        .await
    }

    fn identity(&self) -> String {
        self.inner.identity.clone()
    }

    async fn read_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        detach::in_place(reads::many(&self.inner.db, &self.inner.sql.reads, keys)).await
    }

    async fn read_range(&self, request: &RangeRequest<'_>) -> Result<RangePage, StorageError> {
        detach::in_place(reads::range(&self.inner.db, &self.inner.sql.reads, request)).await
    }

    async fn purge_tombstones(&self, older_than: Duration) -> Result<u64, StorageError> {
        let store = self.clone();
        detach::run(async move { store.purge_now(older_than).await }).await
    }
}

/// The calls themselves: writes run to their end in a task of their own, reads where
/// their caller awaits them ([`detach`]).
impl SqliteStore {
    async fn read_now(&self, key: &Key) -> Result<Option<Record>, StorageError> {
        let mut conn = self.inner.db.acquire().await.map_err(error::unapplied)?;
        let row = statement::keyed(&self.inner.sql.get, key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(error::unapplied)?;
        row.map(|row| item::record_at(&row, 0)).transpose()
    }

    /// [`write_now`](Self::write_now), run to its end whatever its caller does
    /// ([`detach::run`]).
    fn write_detached(
        &self,
        write: OwnedWrite,
    ) -> impl Future<Output = Result<Outcome, StorageError>> + Send + 'static {
        let store = self.clone();
        detach::run(async move { store.write_now(&write.write()).await })
    }

    async fn write_now(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        let encoded = Encoded::new(write)?;
        let inner = &*self.inner;
        let mut conn = inner.db.acquire().await.map_err(error::unapplied)?;
        if let Some(outcome) = statement::send(&mut conn, &inner.sql, &encoded).await? {
            return Ok(outcome);
        }
        // The statement applied nothing: judge again under the write lock, so that a
        // refusal and the record it reports are read together. If another writer made
        // the precondition true in between, the write is applied there.
        let answer = transaction::locked(&mut conn, &inner.sql, std::slice::from_ref(&encoded));
        Ok(match answer.await? {
            CommitOutcome::Applied { previous } => Outcome::Applied {
                previous: previous.into_iter().next().unwrap_or(Held::Nothing),
            },
            CommitOutcome::Refused { current } => Outcome::Refused {
                current: current.into_iter().next().and_then(|(_, record)| record),
            },
        })
    }

    async fn purge_now(&self, older_than: Duration) -> Result<u64, StorageError> {
        let inner = &*self.inner;
        if !inner.capabilities.tombstones {
            return Err(StorageError::not_applied(
                ErrorKind::Rejected,
                "this SQLite store keeps no tombstones (the builder's tombstones(true) is off)",
            ));
        }
        purge::tombstones(&inner.db, &inner.sql, &inner.retry_policy, older_than).await
    }
}

//! The store and its `Storage` impl: each call is one redb transaction on the blocking
//! pool.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use optimist_core::retry::RetryPolicy;
use optimist_core::{
    Applied, Capabilities, CommitOutcome, ErrorKind, Key, Outcome, OwnedPut, OwnedWrite, PutAnswer,
    RangePage, RangeRequest, Record, Storage, StorageError, Write,
};
use redb::Database;

use crate::blocking;
use crate::builder::RedbStoreBuilder;
use crate::error::BACKEND;
use crate::ops;
use crate::range::{self, OwnedRange};

/// What every clone of a store shares: the open database and the settings.
pub(crate) struct Shared {
    pub(crate) db: Database,
    pub(crate) path: PathBuf,
    pub(crate) table: String,
    pub(crate) capabilities: Capabilities,
    pub(crate) retry_policy: RetryPolicy,
}

/// A [`VersionedStore`](optimist_core::VersionedStore) in one redb file: every write a
/// durable (fsynced) redb transaction, every call run on tokio's blocking pool. Clones
/// share the open database; it closes when the last clone (and the last call still
/// running on the blocking pool) is gone.
///
/// ```
/// use optimist_core::{Key, VersionedStore};
/// use optimist_redb::RedbStore;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let dir = std::env::temp_dir().join(format!("optimist-redb-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("items.redb");
/// let store = RedbStore::builder().path(&path).build().await?;
/// let v1 = store.insert(&Key::new("k"), serde_json::json!({"n": 1})).await?;
/// drop(store);
///
/// // The file keeps the item: open it again.
/// let store = RedbStore::builder().path(&path).build().await?;
/// assert_eq!(store.get(&Key::new("k")).await?.map(|item| item.version), Some(v1));
/// # drop(store);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), optimist_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct RedbStore {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.shared.path)
            .field("table", &self.shared.table)
            .field("tombstones", &self.shared.capabilities.tombstones)
            .finish_non_exhaustive()
    }
}

impl RedbStore {
    /// A builder: the file's path is required.
    ///
    /// ```
    /// let builder = optimist_redb::RedbStore::builder().table("orders").tombstones(true);
    /// # let _ = builder;
    /// ```
    pub fn builder() -> RedbStoreBuilder {
        RedbStoreBuilder::default()
    }

    /// The database file.
    ///
    /// ```no_run
    /// # async fn f() -> optimist_core::Result<()> {
    /// let store = optimist_redb::RedbStore::builder().path("app.redb").build().await?;
    /// assert_eq!(store.path(), std::path::Path::new("app.redb"));
    /// # Ok(()) }
    /// ```
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The redb table holding the items.
    ///
    /// ```no_run
    /// # async fn f() -> optimist_core::Result<()> {
    /// let store = optimist_redb::RedbStore::builder().path("app.redb").build().await?;
    /// assert_eq!(store.table(), optimist_redb::DEFAULT_TABLE);
    /// # Ok(()) }
    /// ```
    pub fn table(&self) -> &str {
        &self.shared.table
    }

    /// Runs `work` with the database on the blocking pool.
    async fn on_db<T, F>(&self, lost: Applied, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Shared) -> Result<T, StorageError> + Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        blocking::run(lost, move || work(&shared)).await
    }

    /// One write in its own write transaction, on the blocking pool.
    fn write_on_db(
        &self,
        write: OwnedWrite,
    ) -> impl Future<Output = Result<Outcome, StorageError>> + Send + '_ {
        self.on_db(Applied::Maybe, move |s| {
            ops::write(&s.db, &s.table, &write, s.capabilities.tombstones)
        })
    }
}

#[async_trait]
impl Storage for RedbStore {
    fn backend_name(&self) -> &'static str {
        BACKEND
    }

    fn capabilities(&self) -> &Capabilities {
        &self.shared.capabilities
    }

    fn retry_policy(&self) -> &RetryPolicy {
        &self.shared.retry_policy
    }

    fn identity(&self) -> String {
        format!(
            "redb file {} table {}",
            self.shared.path.display(),
            self.shared.table
        )
    }

    async fn read(&self, key: &Key) -> Result<Option<Record>, StorageError> {
        let key = key.clone();
        self.on_db(Applied::No, move |s| ops::read(&s.db, &s.table, &key))
            .await
    }

    async fn read_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        let keys = keys.to_vec();
        self.on_db(Applied::No, move |s| ops::read_many(&s.db, &s.table, &keys))
            .await
    }

    async fn read_range(&self, request: &RangeRequest<'_>) -> Result<RangePage, StorageError> {
        let range = OwnedRange::of(request);
        self.on_db(Applied::No, move |s| range::read(&s.db, &s.table, &range))
            .await
    }

    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        self.write_on_db(OwnedWrite::of(write)).await
    }

    /// A put's first attempt lends its value to the blocking thread instead of
    /// copying it.
    async fn write_value(&self, put: OwnedPut<'_>) -> PutAnswer {
        put.lend(|write| self.write_on_db(write)).await
    }

    async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
        let writes: Vec<OwnedWrite> = writes.iter().map(OwnedWrite::of).collect();
        self.on_db(Applied::Maybe, move |s| {
            ops::commit(&s.db, &s.table, &writes, s.capabilities.tombstones)
        })
        .await
    }

    async fn purge_tombstones(&self, older_than: Duration) -> Result<u64, StorageError> {
        if !self.shared.capabilities.tombstones {
            return Err(StorageError::not_applied(
                ErrorKind::Rejected,
                "this redb store keeps no tombstones (built without .tombstones(true))",
            ));
        }
        self.on_db(Applied::Maybe, move |s| {
            ops::purge(&s.db, &s.table, older_than)
        })
        .await
    }
}

//! What this crate's tests share: fresh database files in a folder of their own, removed
//! when the store is dropped (unless the test reopens them).

#![allow(dead_code, clippy::panic)] // each test binary uses a part; tests fail by panicking

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::time::Duration;

use optimist_conformance::Unavailable;
use optimist_core::retry::RetryPolicy;
use optimist_core::{
    Capabilities, CommitOutcome, Key, Outcome, RangePage, RangeRequest, Record, Storage,
    StorageError, Write,
};
use optimist_redb::RedbStore;

/// The folder for test databases: `$OPTIMIST_TMP/optimist-redb` if set, else under the
/// system's temp dir.
pub fn tmp_dir() -> PathBuf {
    std::env::var_os("OPTIMIST_TMP")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("optimist-redb")
}

/// A database path no other test (in this process or another) uses.
pub fn fresh_path(label: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = tmp_dir();
    if let Err(err) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {err}", dir.display());
    }
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    dir.join(format!("{label}-{}-{n}-{nanos}.redb", std::process::id()))
}

/// A store on a fresh file.
pub async fn fresh_store(label: &str, tombstones: bool) -> Result<RedbStore, Unavailable> {
    open(fresh_path(label), tombstones).await
}

/// A store on a fresh file, which is removed when the store is dropped (unless it is
/// [`reopened`](TempStore::reopened)).
pub struct TempStore {
    store: RedbStore,
    tombstones: bool,
    keep: bool,
}

impl TempStore {
    /// A store on a fresh file.
    pub async fn fresh(label: &str, tombstones: bool) -> Result<Self, Unavailable> {
        Ok(Self {
            store: fresh_store(label, tombstones).await?,
            tombstones,
            keep: false,
        })
    }

    /// Drops the store (closing the database) and opens the same file again.
    pub async fn reopened(mut self) -> Result<Self, Unavailable> {
        let path = self.store.path().to_path_buf();
        let tombstones = self.tombstones;
        self.keep = true;
        drop(self);
        Ok(Self {
            store: open(path, tombstones).await?,
            tombstones,
            keep: false,
        })
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        if !self.keep {
            // A call still running on the blocking pool may hold the file open: removing
            // its name is fine on every system the tests run on.
            let _ = std::fs::remove_file(self.store.path());
        }
    }
}

#[optimist_core::async_trait]
impl Storage for TempStore {
    fn backend_name(&self) -> &'static str {
        self.store.backend_name()
    }
    fn capabilities(&self) -> &Capabilities {
        Storage::capabilities(&self.store)
    }
    fn retry_policy(&self) -> &RetryPolicy {
        self.store.retry_policy()
    }
    fn identity(&self) -> String {
        self.store.identity()
    }
    async fn read(&self, key: &Key) -> Result<Option<Record>, StorageError> {
        self.store.read(key).await
    }
    async fn read_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        self.store.read_many(keys).await
    }
    async fn read_range(&self, request: &RangeRequest<'_>) -> Result<RangePage, StorageError> {
        self.store.read_range(request).await
    }
    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        self.store.write(write).await
    }
    async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
        self.store.commit(writes).await
    }
    async fn purge_tombstones(&self, older_than: Duration) -> Result<u64, StorageError> {
        Storage::purge_tombstones(&self.store, older_than).await
    }
}

/// A store on the file at `path`.
pub async fn open(path: PathBuf, tombstones: bool) -> Result<RedbStore, Unavailable> {
    RedbStore::builder()
        .path(path)
        .tombstones(tombstones)
        .build()
        .await
        .map_err(|e| Unavailable::new("redb file", e.to_string()))
}

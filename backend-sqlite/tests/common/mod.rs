//! Helpers shared by this crate's tests: fresh database files that clean up after
//! themselves.

#![allow(dead_code)] // each test binary uses a different part
#![allow(clippy::panic)] // tests fail by panicking

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use optimist_core::{Capabilities, Key, Result, TxOp, Value, Version, Versioned, VersionedStore};
use optimist_sqlite::SqliteStore;

/// The folder for test databases: `$OPTIMIST_TMP` if set, else the system's temp dir.
pub fn tmp_root() -> PathBuf {
    std::env::var_os("OPTIMIST_TMP")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

/// A database file path no other test (in this process or another) uses.
pub fn fresh_path(label: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = tmp_root().join("optimist-sqlite");
    if let Err(err) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {err}", dir.display());
    }
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    dir.join(format!("{label}-{}-{n}-{nanos}.db", std::process::id()))
}

/// Removes a database file and its WAL and shared-memory files.
pub fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

/// A store on its own database file, deleted when the store is dropped.
pub struct FileStore {
    pub store: SqliteStore,
    pub path: PathBuf,
}

impl Drop for FileStore {
    fn drop(&mut self) {
        remove_db(&self.path);
    }
}

#[optimist_core::async_trait]
impl VersionedStore for FileStore {
    fn capabilities(&self) -> &Capabilities {
        self.store.capabilities()
    }
    async fn get(&self, key: &Key) -> Result<Option<Versioned<Value>>> {
        self.store.get(key).await
    }
    async fn insert(&self, key: &Key, value: Value) -> Result<Version> {
        self.store.insert(key, value).await
    }
    async fn update(&self, key: &Key, expected: Version, value: Value) -> Result<Version> {
        self.store.update(key, expected, value).await
    }
    async fn delete(&self, key: &Key, expected: Version) -> Result<()> {
        self.store.delete(key, expected).await
    }
    async fn put(&self, key: &Key, value: Value) -> Result<Version> {
        self.store.put(key, value).await
    }
    async fn remove(&self, key: &Key) -> Result<Option<Version>> {
        self.store.remove(key).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        self.store.transact(ops).await
    }
}

/// A fresh WAL file store, removed when dropped.
pub async fn file_store(label: &str) -> Result<FileStore> {
    let path = fresh_path(label);
    let store = SqliteStore::builder().path(&path).build().await?;
    Ok(FileStore { store, path })
}

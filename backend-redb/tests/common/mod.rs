//! What this crate's tests share: fresh database files in a folder of their own, removed
//! when the store is dropped (unless the test reopens them).

#![allow(dead_code, clippy::panic)] // each test binary uses a part; tests fail by panicking

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use optimist_conformance::Unavailable;
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

/// A store on the file at `path`.
pub async fn open(path: PathBuf, tombstones: bool) -> Result<RedbStore, Unavailable> {
    RedbStore::builder()
        .path(path)
        .tombstones(tombstones)
        .build()
        .await
        .map_err(|e| Unavailable::new("redb file", e.to_string()))
}

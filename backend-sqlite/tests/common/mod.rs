//! Helpers shared by this crate's tests: fresh database files that clean up after
//! themselves.

#![allow(dead_code)] // each test binary uses a different part
#![allow(clippy::panic)] // tests fail by panicking

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use optimist_core::{
    Capabilities, Key, Page, QueryOptions, Result, ScanOptions, SortRange, StoreFuture, TxOp,
    Value, Version, Versioned, VersionedStore,
};
use optimist_sqlite::{SqliteStore, SqliteStoreBuilder};

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

impl FileStore {
    /// Closes the store (its pool checkpoints the WAL into the file) and opens the same
    /// file again with a new store from the builder `configure` returns: the file is
    /// kept, and removed when the new store is dropped.
    pub async fn reopened(
        mut self,
        configure: impl FnOnce(SqliteStoreBuilder) -> SqliteStoreBuilder,
    ) -> Result<FileStore> {
        self.store.close().await;
        self.store = configure(SqliteStore::builder().path(&self.path))
            .build()
            .await?;
        Ok(self)
    }
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
    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>> {
        self.store.get(key)
    }
    fn insert<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        self.store.insert(key, value)
    }
    fn update<'a>(
        &'a self,
        key: &'a Key,
        expected: Version,
        value: Value,
    ) -> StoreFuture<'a, Version> {
        self.store.update(key, expected, value)
    }
    fn delete<'a>(&'a self, key: &'a Key, expected: Version) -> StoreFuture<'a, ()> {
        self.store.delete(key, expected)
    }
    fn put<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        self.store.put(key, value)
    }
    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Version>> {
        self.store.remove(key)
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        self.store.transact(ops).await
    }
    async fn purge_tombstones(&self, older_than: std::time::Duration) -> Result<u64> {
        self.store.purge_tombstones(older_than).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Value>>>> {
        self.store.get_many(keys).await
    }
    async fn query(
        &self,
        partition: &str,
        range: SortRange,
        options: QueryOptions,
    ) -> Result<Page> {
        self.store.query(partition, range, options).await
    }
    async fn scan(&self, options: ScanOptions) -> Result<Page> {
        self.store.scan(options).await
    }
}

/// A fresh WAL file store, removed when dropped.
pub async fn file_store(label: &str) -> Result<FileStore> {
    file_store_with(label, |builder| builder).await
}

/// A fresh WAL file store built with the builder `configure` returns, removed when
/// dropped.
pub async fn file_store_with(
    label: &str,
    configure: impl FnOnce(SqliteStoreBuilder) -> SqliteStoreBuilder,
) -> Result<FileStore> {
    let path = fresh_path(label);
    let store = configure(SqliteStore::builder().path(&path))
        .build()
        .await?;
    Ok(FileStore { store, path })
}

/// The engine's report of each operation on this thread: the `attempts` field of its
/// "optimist operation done" event, in order. Only the thread that installed it (with
/// [`record_attempts`]) is watched, so operations must run on the test's own task.
#[derive(Clone, Default)]
pub struct Attempts(std::sync::Arc<std::sync::Mutex<Vec<u64>>>);

impl Attempts {
    /// Every count recorded so far, and clears them.
    pub fn take(&self) -> Vec<u64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Starts recording [`Attempts`] on this thread until the guard is dropped.
pub fn record_attempts() -> (Attempts, tracing::subscriber::DefaultGuard) {
    let attempts = Attempts::default();
    let guard = tracing::subscriber::set_default(AttemptsSubscriber {
        attempts: attempts.clone(),
        spans: std::sync::Mutex::default(),
        entered: std::sync::Mutex::default(),
    });
    (attempts, guard)
}

/// Just enough of a subscriber for the engine's span: spans are numbered and entered
/// spans tracked, as the engine's transactions and reads find their span with
/// `Span::current()` (single-item operations hold theirs).
struct AttemptsSubscriber {
    attempts: Attempts,
    spans: std::sync::Mutex<Vec<&'static tracing::Metadata<'static>>>,
    entered: std::sync::Mutex<Vec<tracing::span::Id>>,
}

impl tracing::Subscriber for AttemptsSubscriber {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut spans = self.spans.lock().unwrap_or_else(|e| e.into_inner());
        spans.push(span.metadata());
        tracing::span::Id::from_u64(spans.len() as u64)
    }
    fn current_span(&self) -> tracing_core::span::Current {
        let entered = self.entered.lock().unwrap_or_else(|e| e.into_inner());
        let spans = self.spans.lock().unwrap_or_else(|e| e.into_inner());
        match entered.last() {
            Some(id) => {
                tracing_core::span::Current::new(id.clone(), spans[id.into_u64() as usize - 1])
            }
            None => tracing_core::span::Current::none(),
        }
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        // The closing event has an `outcome`; the engine's "sending again" events have
        // `attempts` too, but no outcome.
        #[derive(Default)]
        struct Visit {
            attempts: Option<u64>,
            outcome: bool,
        }
        impl tracing::field::Visit for Visit {
            fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
                if field.name() == "attempts" {
                    self.attempts = Some(value);
                }
            }
            fn record_str(&mut self, field: &tracing::field::Field, _: &str) {
                self.outcome |= field.name() == "outcome";
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut visit = Visit::default();
        event.record(&mut visit);
        if let (Some(attempts), true) = (visit.attempts, visit.outcome) {
            self.attempts
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(attempts);
        }
    }
    fn enter(&self, id: &tracing::span::Id) {
        self.entered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(id.clone());
    }
    fn exit(&self, _: &tracing::span::Id) {
        self.entered.lock().unwrap_or_else(|e| e.into_inner()).pop();
    }
}

//! redb's part of BENCHMARKS.md: optimist beside bare redb doing what the store does
//! on disk (see `raw/`): the store's table and record layout, one read transaction per
//! read, one durable write transaction per update, each on tokio's blocking pool.
//!
//! redb lets one process open a file once, so each side has a file of its own, filled
//! alike. The store is filled in its own layout by bare redb in one write transaction
//! (a million durable single writes would take hours): closed, filled, opened again
//! between sizes, never while measured; the caller reaches it through a read lock and
//! an `Arc` clone, a few tens of nanoseconds per call. Run by `scripts/bench-report`;
//! alone: `cargo bench -p optimist-redb --bench report`.

#![allow(missing_docs)] // a bench's items are not a public API

mod raw;

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use optimist_bench_report::{Optimist, Report, Subject, item_name, item_value};
use optimist_redb::{DEFAULT_TABLE, RedbStore};
use raw::Raw;

#[async_trait]
impl Subject for Raw {
    async fn get(&self, n: u64) -> bool {
        Raw::get(self, item_name(n)).await.is_some()
    }

    async fn update(&self, n: u64, expected: u64) -> Result<u64, u64> {
        Raw::update(self, item_name(n), expected, item_value()).await
    }

    async fn fill(&self, from: u64, to: u64) {
        if let Err(err) = raw::fill(self.db(), DEFAULT_TABLE, from, to, item_name, &item_value()) {
            eprintln!("filling the raw file, items {from}..{to}: {err}");
        }
    }
}

/// The store, closed and opened again around each fill of its file.
struct Reopened {
    path: PathBuf,
    store: RwLock<Option<Arc<Optimist<RedbStore>>>>,
}

impl Reopened {
    async fn open(path: PathBuf) -> Option<Self> {
        let store = RedbStore::builder().path(&path).build().await;
        match store {
            Ok(store) => Some(Self {
                path,
                store: RwLock::new(Some(Arc::new(Optimist::new(store, item_value)))),
            }),
            Err(err) => {
                eprintln!("cannot open {}: {err}", path.display());
                None
            }
        }
    }

    fn current(&self) -> Option<Arc<Optimist<RedbStore>>> {
        self.store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl Subject for Reopened {
    async fn get(&self, n: u64) -> bool {
        match self.current() {
            Some(store) => store.get(n).await,
            None => false,
        }
    }

    async fn update(&self, n: u64, expected: u64) -> Result<u64, u64> {
        match self.current() {
            Some(store) => store.update(n, expected).await,
            None => Err(0),
        }
    }

    async fn fill(&self, from: u64, to: u64) {
        // The last handle gone (no call is running during a fill), the file is closed.
        let closed = self
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(closed);
        let (path, document) = (self.path.clone(), item_value());
        let filled = tokio::task::spawn_blocking(move || {
            let db = redb::Database::create(&path).map_err(|err| err.to_string())?;
            raw::fill(&db, DEFAULT_TABLE, from, to, item_name, &document)
        })
        .await;
        if !matches!(filled, Ok(Ok(()))) {
            eprintln!(
                "filling {}, items {from}..{to}: failed",
                self.path.display()
            );
        }
        match RedbStore::builder().path(&self.path).build().await {
            Ok(store) => {
                *self.store.write().unwrap_or_else(PoisonError::into_inner) =
                    Some(Arc::new(Optimist::new(store, item_value)));
            }
            Err(err) => eprintln!("cannot open {} again: {err}", self.path.display()),
        }
    }
}

fn main() {
    let Some(report) = Report::from_env("redb") else {
        return;
    };
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("cannot build a tokio runtime");
        return;
    };
    let dir = std::env::var_os("OPTIMIST_TMP")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("optimist-redb-report-{}", std::process::id()));
    if let Err(err) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {err}", dir.display());
        return;
    }
    runtime.block_on(async {
        let Some(optimist) = Reopened::open(dir.join("optimist.redb")).await else {
            return;
        };
        let raw = match Raw::create(&dir.join("raw.redb"), DEFAULT_TABLE) {
            Ok(raw) => raw,
            Err(err) => {
                eprintln!("cannot create the raw file: {err}");
                return;
            }
        };
        report
            .separate_storage()
            .run(Arc::new(optimist), Arc::new(raw))
            .await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}

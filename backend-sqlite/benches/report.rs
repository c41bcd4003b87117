//! SQLite's part of BENCHMARKS.md: optimist beside bare sqlx running the store's own
//! SQL on the same file (WAL, a pool with the store's settings), the same rows (see
//! `optimist-bench-report`). A raw update sends what the store sends: one UPDATE and,
//! when it changes nothing, BEGIN IMMEDIATE, the SELECT of the current row and ROLLBACK
//! (the store's locked path, which reads the refusal's item under the write lock).
//! A raw get decodes the value's JSON into a `serde_json::Value`, as the store does; it
//! reads the write token's text but does not parse it into a `WriteToken`, which the
//! store must (a record carries its token): about 0.7k of a get's ~33k instructions.
//! Run by `scripts/bench-report`; alone: `cargo bench -p optimist-sqlite --bench report`.

#![allow(missing_docs)] // a bench's items are not a public API

mod raw;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use optimist_bench_report::{Optimist, Report, Subject, item_name, item_value};
use optimist_sqlite::SqliteStore;
use raw::{Raw, options, token};
use sqlx::sqlite::{SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// Rows per bulk INSERT while filling (three bound values each).
const FILL_CHUNK: u64 = 500;

#[async_trait]
impl Subject for Raw {
    async fn get(&self, n: u64) -> bool {
        Raw::get(self, &item_name(n)).await.is_some()
    }

    async fn update(&self, n: u64, expected: u64) -> Result<u64, u64> {
        let expected = i64::try_from(expected).unwrap_or(i64::MAX);
        match self
            .update_as_store(&item_name(n), expected, &item_value())
            .await
        {
            Ok(()) => Ok(expected as u64 + 1),
            Err(current) => Err(current.map_or(0, |(_, version)| version as u64)),
        }
    }

    async fn fill(&self, from: u64, to: u64) {
        let Raw::Pool(pool) = self else { return };
        let json = serde_json::to_string(&item_value()).unwrap_or_default();
        let Ok(mut tx) = pool.begin().await else {
            return;
        };
        let mut start = from;
        while start < to {
            let end = (start + FILL_CHUNK).min(to);
            let rows = vec!["(?, 0, '', ?, ?, 1)"; (end - start) as usize].join(", ");
            let sql = format!(
                "INSERT OR REPLACE INTO optimist_items \
                 (partition_key, has_sort, sort_key, value, token, version) VALUES {rows}"
            );
            let mut query = sqlx::query(&sql);
            for n in start..end {
                query = query.bind(item_name(n)).bind(json.clone()).bind(token());
            }
            if let Err(err) = query.execute(&mut *tx).await {
                eprintln!("filling items {start}..{end}: {err}");
                return;
            }
            start = end;
        }
        if let Err(err) = tx.commit().await {
            eprintln!("filling items {from}..{to}: {err}");
        }
    }
}

fn main() {
    let Some(report) = Report::from_env("sqlite") else {
        return;
    };
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("cannot build a tokio runtime");
        return;
    };
    let Some(dir) = raw::bench_dir("optimist-sqlite-report") else {
        return;
    };
    let file = dir.join("items.db");
    runtime.block_on(async {
        let Ok(store) = SqliteStore::builder().path(&file).build().await else {
            eprintln!("cannot open {}", file.display());
            return;
        };
        // The raw side: the same file, with the store's pool settings.
        let pool = SqlitePoolOptions::new()
            .max_connections(optimist_sqlite::DEFAULT_MAX_CONNECTIONS)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(
                options()
                    .filename(&file)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal),
            );
        let optimist = Arc::new(Optimist::new(store, item_value));
        report.run(optimist, Arc::new(Raw::Pool(pool))).await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}

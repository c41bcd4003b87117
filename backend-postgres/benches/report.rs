//! PostgreSQL's part of BENCHMARKS.md: optimist beside bare sqlx sending the store's
//! own statements (the same SQL, prepared on every connection before the first call)
//! on as many connections as the store's, taken and handed back as the store does,
//! on the same table and rows (see `optimist-bench-report`). Both sides decode what a
//! caller needs: a read's and a refusal's item, its JSON value included. Run by
//! `scripts/bench-report`; alone: `OPTIMIST_POSTGRES_URL=... cargo bench -p
//! optimist-postgres --bench report`.

#![allow(missing_docs)] // a bench's items are not a public API

mod raw;

use std::sync::Arc;

use async_trait::async_trait;
use optimist_bench_report::{Optimist, Report, Subject, item_name, item_value};
use optimist_postgres::{DEFAULT_MAX_CONNECTIONS, PostgresStore};
use raw::Raw;

#[async_trait]
impl Subject for Raw {
    async fn get(&self, n: u64) -> bool {
        Raw::get(self, &item_name(n)).await.is_some()
    }

    async fn update(&self, n: u64, expected: u64) -> Result<u64, u64> {
        let expected = i64::try_from(expected).unwrap_or(i64::MAX);
        match Raw::update(self, &item_name(n), expected, &item_value()).await {
            Ok(version) => Ok(version as u64),
            Err(current) => Err(current.map_or(0, |(_, version)| version as u64)),
        }
    }

    async fn fill(&self, from: u64, to: u64) {
        let json = serde_json::to_string(&item_value()).unwrap_or_default();
        Raw::fill(self, from, to, item_name, &json).await;
    }
}

fn main() {
    let Some(report) = Report::from_env("postgres") else {
        return;
    };
    let Ok(url) = std::env::var("OPTIMIST_POSTGRES_URL") else {
        println!(
            "skipping the PostgreSQL report: OPTIMIST_POSTGRES_URL is not set (scripts/services/postgres.sh starts a server)"
        );
        return;
    };
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("cannot build a tokio runtime");
        return;
    };
    let table = format!("optimist_report_{:08x}", rand::random::<u32>());
    runtime.block_on(async {
        let store = match PostgresStore::builder()
            .url(url.clone())
            .table(table.clone())
            .build()
            .await
        {
            Ok(store) => store,
            Err(err) => {
                eprintln!("cannot build the store: {err}");
                return;
            }
        };
        let raw = match Raw::connect(&url, &table, DEFAULT_MAX_CONNECTIONS).await {
            Ok(raw) => Arc::new(raw),
            Err(err) => {
                eprintln!("cannot connect the raw side: {err}");
                return;
            }
        };
        let optimist = Arc::new(Optimist::new(store.clone(), item_value));
        report
            .run(optimist, Arc::clone(&raw) as Arc<dyn Subject>)
            .await;
        let dropped = sqlx::query(&format!("DROP TABLE \"{table}\""))
            .execute(store.pool())
            .await;
        if let Err(err) = dropped {
            eprintln!("dropping {table}: {err}");
        }
        store.close().await;
        raw.close().await;
    });
}

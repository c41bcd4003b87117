//! DynamoDB's part of BENCHMARKS.md: optimist beside the bare SDK sending the store's
//! own requests (a consistent `GetItem`; a `PutItem` of the whole item on the store's
//! condition, the old item returned when it fails) through the same client, on the
//! same table and items of a local server (see `optimist-bench-report`). Both sides
//! decode what a caller needs: a read's and a refusal's item, as JSON.
//!
//! moto, the local server scripts/services/dynamodb.sh starts, applies one request at
//! a time and fills a table at a few hundred items a second, so the sizes are 1k and
//! 10k items here (`OPTIMIST_BENCH_DYNAMODB_SIZES` to change them), not the default.
//! Run by `scripts/bench-report`; alone: `OPTIMIST_DYNAMODB_ENDPOINT=... cargo bench -p
//! optimist-dynamodb --bench report`.

#![allow(missing_docs)] // a bench's items are not a public API

mod raw;

use std::sync::Arc;

use async_trait::async_trait;
use optimist_bench_report::{Optimist, Report, Subject, item_name, item_value};
use optimist_dynamodb::{DynamoDbStore, TableDescription, create_table, delete_table};
use raw::{Raw, batch_write};

#[async_trait]
impl Subject for Raw {
    async fn get(&self, n: u64) -> bool {
        Raw::get(self, &item_name(n)).await.is_some()
    }

    async fn update(&self, n: u64, expected: u64) -> Result<u64, u64> {
        Raw::update(self, &item_name(n), expected, &item_value()).await
    }

    async fn fill(&self, from: u64, to: u64) {
        let document = item_value();
        let items = (from..to)
            .map(|n| self.item(&item_name(n), &document, 1))
            .collect();
        batch_write(&self.client, self.table.name(), items).await;
    }
}

fn main() {
    let Some(report) = Report::from_env("dynamodb") else {
        return;
    };
    let Ok(endpoint) = std::env::var("OPTIMIST_DYNAMODB_ENDPOINT") else {
        println!(
            "skipping the DynamoDB report: OPTIMIST_DYNAMODB_ENDPOINT is not set (scripts/services/dynamodb.sh starts moto)"
        );
        return;
    };
    let sizes: Vec<u64> = std::env::var("OPTIMIST_BENCH_DYNAMODB_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000]);
    let server =
        std::env::var("OPTIMIST_DYNAMODB_SERVER").unwrap_or_else(|_| "a local server".into());
    let report = report.with_sizes(
        sizes,
        &format!(
            "Sizes for DynamoDB only up to 10k items: the server here is {server}, which \
             fills a table at a few hundred items a second; its figures say what the \
             library costs beside the SDK, not what DynamoDB itself does."
        ),
    );
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("cannot build a tokio runtime");
        return;
    };
    let client = raw::client(&endpoint);
    let table = TableDescription::new(format!("report-{:08x}", rand::random::<u32>()), "pk");
    runtime.block_on(async {
        if let Err(err) = create_table(&client, &table).await {
            eprintln!("cannot create the table: {err}");
            return;
        }
        let store = match DynamoDbStore::connect(client.clone(), table.clone()).await {
            Ok(store) => store,
            Err(err) => {
                eprintln!("cannot build the store: {err}");
                return;
            }
        };
        let optimist = Arc::new(Optimist::new(store, item_value));
        let raw = Arc::new(Raw {
            client: client.clone(),
            table: table.clone(),
        });
        report.run(optimist, raw).await;
        let _ = delete_table(&client, table.name()).await;
    });
}

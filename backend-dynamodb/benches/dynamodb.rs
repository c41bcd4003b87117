//! Paging through a 1,000-item partition in pages of 100: optimist's `query` beside
//! the bare SDK sending the same `Query` requests (the same key condition,
//! `ConsistentRead`, `Limit` 101, `ExclusiveStartKey` the 100th item's key), in one
//! run, against the same server and table. The difference is what the library costs:
//! core's engine (input checks, cursor encoding and checking, span), items decoded
//! into JSON documents with versions and tokens. (Both go through a client with one
//! attempt and the response timeout: the store builds its own so at `build`.)
//!
//! `OPTIMIST_DYNAMODB_ENDPOINT=http://127.0.0.1:PORT cargo bench -p optimist-dynamodb
//! --bench dynamodb -- --warm-up-time 1 --measurement-time 3` (scripts/services/dynamodb.sh
//! starts moto); compare `optimist` with its `raw` neighbour. Without the variable it
//! prints why and measures nothing.

#![allow(clippy::panic)] // a bench with a broken setup has nothing to measure

mod raw;

use std::collections::HashMap;
use std::hint::black_box;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use criterion::Criterion;
use optimist_core::{QueryOptions, SortRange, VersionedStore};
use optimist_dynamodb::{DynamoDbStore, TableDescription, create_table};
use raw::{Item, client};
use tokio::runtime::Runtime;

/// Items in the partition, and per page.
const ITEMS: usize = 1000;
const PAGE: usize = 100;
const PARTITION: &str = "customer-42";

/// One order of the partition, as an item of the store's layout (no write token: as
/// another client writes it; both sides read the same items).
fn order(i: usize) -> Item {
    let s = |v: &str| AttributeValue::S(v.to_string());
    let n = |v: usize| AttributeValue::N(v.to_string());
    HashMap::from([
        ("pk".to_string(), s(PARTITION)),
        ("sk".to_string(), s(&format!("order-{i:05}"))),
        ("version".to_string(), n(1)),
        ("total".to_string(), n(i * 3 + 7)),
        ("status".to_string(), s("shipped")),
        (
            "lines".to_string(),
            AttributeValue::L(vec![s("a-1"), s("b-7")]),
        ),
    ])
}

/// The partition, written 25 items a `BatchWriteItem`.
async fn fill(client: &Client, table: &str) {
    raw::batch_write(client, table, (0..ITEMS).map(order).collect()).await;
}

/// Every page through optimist; how many items.
async fn optimist_pages(store: &DynamoDbStore) -> usize {
    let mut count = 0;
    let mut cursor = None;
    loop {
        let options = QueryOptions::new().limit(PAGE).cursor(cursor);
        let page = store
            .query(PARTITION, SortRange::All, options)
            .await
            .unwrap_or_else(|e| panic!("optimist query: {e}"));
        count += page.items.len();
        black_box(&page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return count,
        }
    }
}

/// Every page through the bare SDK, the same requests; how many items.
async fn raw_pages(client: &Client, table: &str) -> usize {
    let mut count = 0;
    let mut start: Option<Item> = None;
    loop {
        let output = client
            .query()
            .table_name(table)
            .consistent_read(true)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_values(":pk", AttributeValue::S(PARTITION.to_string()))
            .scan_index_forward(true)
            .set_exclusive_start_key(start.take())
            .limit(i32::try_from(PAGE + 1).unwrap_or(i32::MAX))
            .send()
            .await
            .unwrap_or_else(|e| panic!("raw query: {e}"));
        let mut items = output.items.unwrap_or_default();
        let more = items.len() > PAGE;
        items.truncate(PAGE);
        count += items.len();
        if more {
            start = items.last().map(|last| {
                ["pk", "sk"]
                    .into_iter()
                    .filter_map(|name| Some((name.to_string(), last.get(name)?.clone())))
                    .collect()
            });
        } else if let Some(position) = output.last_evaluated_key {
            start = Some(position);
        }
        black_box(&items);
        if start.is_none() {
            return count;
        }
    }
}

fn main() {
    let Ok(endpoint) = std::env::var("OPTIMIST_DYNAMODB_ENDPOINT") else {
        println!(
            "skipped the DynamoDB benches: OPTIMIST_DYNAMODB_ENDPOINT is not set (scripts/services/dynamodb.sh starts moto)"
        );
        return;
    };
    let rt = Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let client = client(&endpoint);
    let table = TableDescription::new(format!("bench-{:08x}", rand::random::<u32>()), "pk")
        .with_sort_key("sk");
    let store = rt.block_on(async {
        create_table(&client, &table).await?;
        fill(&client, table.name()).await;
        DynamoDbStore::connect(client.clone(), table.clone()).await
    });
    let store = store.unwrap_or_else(|e| panic!("cannot set the bench table up: {e}"));
    assert_eq!(rt.block_on(optimist_pages(&store)), ITEMS);
    assert_eq!(rt.block_on(raw_pages(&client, table.name())), ITEMS);

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("query 1000 items in pages of 100");
    // Ten requests an iteration against a server that applies about 50 a second.
    group.sample_size(10);
    group.bench_function("optimist", |b| {
        b.to_async(&rt).iter(|| optimist_pages(&store))
    });
    group.bench_function("raw", |b| {
        b.to_async(&rt).iter(|| raw_pages(&client, table.name()))
    });
    group.finish();
    c.final_summary();
    let _ = rt.block_on(optimist_dynamodb::delete_table(&client, table.name()));
}

//! Paging through a 1,000-item partition in pages of 100 with `query`, beside bare sqlx
//! running the same statements (`LIMIT 101`, continuing after the last sort part) and
//! decoding the same columns, in the same run, on the same server, table and pool
//! settings. The difference is what the library costs: core's engine (input checks, the
//! retry loop, the checked cursor), the response timeout, keys and records built from
//! the rows, tokens parsed.
//!
//! `OPTIMIST_POSTGRES_URL=... cargo bench -p optimist-postgres --bench query --
//! --warm-up-time 1 --measurement-time 3`; compare `optimist/*` with its `raw/*`
//! neighbour, and read the alternating ratio the bench prints last. Without the
//! variable it prints why and measures nothing.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use optimist_core::{Key, QueryOptions, SortRange, TxOp, VersionedStore};
use optimist_postgres::PostgresStore;
use serde_json::{Value, json};
use sqlx::{PgPool, Row};
use tokio::runtime::Runtime;

const PARTITION: &str = "customer-42";
const ITEMS: usize = 1_000;
const PAGE: usize = 100;

fn value(i: usize) -> Value {
    json!({"order": i, "title": "Dune", "author": "Frank Herbert", "copies": 3, "tags": ["sf", "classic"]})
}

/// One item as the raw side decodes it: sort part, value, version, token.
type RawItem = (String, Value, i64, Option<String>);

/// The store's statement for a page, written out, run with bare sqlx on the same table:
/// the first page continues after the sort part '' (below every real one), the others
/// after the last sort part read.
struct Raw {
    pool: PgPool,
    statement: String,
}

impl Raw {
    fn new(pool: PgPool, table: &str) -> Self {
        let t = format!("\"{table}\"");
        let select = format!("SELECT sort, value::text, version, token FROM {t}");
        let order = "AND value IS NOT NULL ORDER BY sort COLLATE \"C\" ASC LIMIT $2";
        Raw {
            pool,
            statement: format!("{select} WHERE partition = $1 AND sort COLLATE \"C\" > $3 {order}"),
        }
    }

    async fn page(&self, after: Option<&str>) -> Option<Vec<RawItem>> {
        let limit = i64::try_from(PAGE + 1).ok()?;
        let rows = sqlx::query(&self.statement)
            .bind(PARTITION)
            .bind(limit)
            .bind(after.unwrap_or(""))
            .fetch_all(&self.pool)
            .await
            .ok()?;
        rows.iter()
            .map(|row| {
                let text: &str = row.try_get(1).ok()?;
                Some((
                    row.try_get(0).ok()?,
                    serde_json::from_str(text).ok()?,
                    row.try_get(2).ok()?,
                    row.try_get(3).ok()?,
                ))
            })
            .collect()
    }

    /// Every item of the partition, a page at a time; how many.
    async fn page_through(&self) -> usize {
        let mut seen = 0;
        let mut after: Option<String> = None;
        loop {
            let Some(mut rows) = self.page(after.as_deref()).await else {
                return seen;
            };
            let more = rows.len() > PAGE;
            rows.truncate(PAGE);
            seen += rows.len();
            after = rows.last().map(|item| item.0.clone());
            black_box(rows);
            if !more {
                return seen;
            }
        }
    }
}

/// Every item of the partition through `query`, a page at a time; how many.
async fn page_through(store: &PostgresStore) -> usize {
    let mut seen = 0;
    let mut cursor = None;
    loop {
        let options = QueryOptions::new().limit(PAGE).cursor(cursor);
        let Ok(page) = store.query(PARTITION, SortRange::All, options).await else {
            return seen;
        };
        seen += page.items.len();
        black_box(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return seen,
        }
    }
}

async fn setup(url: String) -> optimist_core::Result<(PostgresStore, Raw)> {
    let table = format!("optimist_bench_query_{:08x}", rand::random::<u32>());
    let store = PostgresStore::builder()
        .url(url.clone())
        .table(table.clone())
        .build()
        .await?;
    for batch in 0..ITEMS / 100 {
        let ops = (batch * 100..(batch + 1) * 100)
            .map(|i| TxOp::insert(Key::with_sort(PARTITION, format!("order-{i:04}")), value(i)))
            .collect();
        store.transact(ops).await?;
    }
    // The same pool settings as the store's, from a second store on the same table.
    let raw_store = PostgresStore::builder()
        .url(url)
        .table(table.clone())
        .build()
        .await?;
    Ok((store, Raw::new(raw_store.pool().clone(), &table)))
}

fn bench(c: &mut Criterion) {
    let Ok(url) = std::env::var("OPTIMIST_POSTGRES_URL") else {
        println!("skipped the postgres query bench: OPTIMIST_POSTGRES_URL is not set");
        return;
    };
    let Ok(rt) = Runtime::new() else {
        println!("skipped the postgres query bench: no tokio runtime");
        return;
    };
    let (store, raw) = match rt.block_on(setup(url)) {
        Ok(sides) => sides,
        Err(err) => {
            println!("skipped the postgres query bench: {err}");
            return;
        }
    };
    let counts = rt.block_on(async { (page_through(&store).await, raw.page_through().await) });
    if counts != (ITEMS, ITEMS) {
        println!("skipped the postgres query bench: the sides read {counts:?} items, not {ITEMS}");
        return;
    }
    let mut group = c.benchmark_group("postgres");
    group.bench_function("optimist/query_1000_in_pages_of_100", |b| {
        b.to_async(&rt).iter(|| page_through(&store))
    });
    group.bench_function("raw/query_1000_in_pages_of_100", |b| {
        b.to_async(&rt).iter(|| raw.page_through())
    });
    group.finish();

    // Both sides call by call in turn (swapping which goes first), so that both see the
    // same machine load; the ratio of their total times is printed.
    let rounds: u32 = std::env::var("OPTIMIST_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let (mut optimist, mut bare) = (Duration::ZERO, Duration::ZERO);
    rt.block_on(async {
        for round in 0..rounds {
            for side in [round % 2, 1 - round % 2] {
                let start = Instant::now();
                if side == 0 {
                    black_box(page_through(&store).await);
                    optimist += start.elapsed();
                } else {
                    black_box(raw.page_through().await);
                    bare += start.elapsed();
                }
            }
        }
        let table = store.table().to_string();
        let drop_table = format!("DROP TABLE IF EXISTS \"{table}\"");
        if let Err(err) = sqlx::query(&drop_table).execute(store.pool()).await {
            println!("could not drop {table}: {err}");
        }
    });
    let ratio = bare.as_secs_f64() / optimist.as_secs_f64().max(f64::MIN_POSITIVE);
    println!(
        "postgres alternating, {rounds} rounds: optimist {:?}, raw sqlx {:?} per 1,000 items; \
         throughput ratio optimist/raw = {ratio:.3}",
        optimist / rounds.max(1),
        bare / rounds.max(1)
    );
}

// What criterion_main! expands to, written out: criterion_group! would add an
// undocumented public function, which the workspace's lints refuse.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}

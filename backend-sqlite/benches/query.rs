//! Paging through a 1,000-item partition in pages of 100 with `query`, beside bare sqlx
//! running the same statements (`LIMIT 101`, continuing after the last sort part) and
//! decoding the same columns, in the same run, on the same kind of connection: one
//! in-memory connection each, or pools with the same settings on one WAL file. The
//! difference is what the library costs: core's engine (input checks, the retry loop,
//! the checked cursor), keys and records built from the rows, tokens parsed.
//!
//! `cargo bench -p optimist-sqlite --bench query -- --warm-up-time 1 --measurement-time 3`;
//! compare `optimist/*` with its `raw/*` neighbour, and read the alternating ratio the
//! bench prints last.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::Criterion;
use optimist_core::{Key, QueryOptions, SortRange, TxOp, VersionedStore};
use optimist_sqlite::SqliteStore;
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Row, SqliteConnection, SqlitePool};
use tokio::runtime::Runtime;
use tokio::sync::Mutex;

const PARTITION: &str = "customer-42";
const ITEMS: usize = 1_000;
const PAGE: usize = 100;

fn value(i: usize) -> Value {
    json!({"order": i, "title": "Dune", "author": "Frank Herbert", "copies": 3, "tags": ["sf", "classic"]})
}

const CREATE: &str = "CREATE TABLE IF NOT EXISTS optimist_items (\
    partition_key TEXT NOT NULL, \
    has_sort INTEGER NOT NULL CHECK (has_sort IN (0, 1)), \
    sort_key TEXT NOT NULL CHECK (has_sort = 1 OR sort_key = ''), \
    value TEXT, \
    version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0), \
    token TEXT, \
    deleted_at INTEGER, \
    PRIMARY KEY (partition_key, has_sort, sort_key)) STRICT";
const INSERT: &str = "INSERT INTO optimist_items (partition_key, has_sort, sort_key, value, token, version) \
    VALUES (?1, 1, ?2, ?3, ?4, 1)";
// The store's statements for the first page and for the pages after a sort part.
const FIRST: &str = "SELECT sort_key, value, version, token FROM optimist_items \
    WHERE partition_key = ?1 AND has_sort = 1 AND value IS NOT NULL \
    ORDER BY sort_key ASC LIMIT ?2";
const NEXT: &str = "SELECT sort_key, value, version, token FROM optimist_items \
    WHERE partition_key = ?1 AND has_sort = 1 AND sort_key > ?3 AND value IS NOT NULL \
    ORDER BY sort_key ASC LIMIT ?2";

/// One item as the raw side decodes it: sort part, value, version, token.
type RawItem = (String, Value, i64, Option<String>);

/// The bare-sqlx side, on the same kind of connection as the store.
enum Raw {
    Memory(Mutex<SqliteConnection>),
    Pool(SqlitePool),
}

impl Raw {
    async fn page(&self, after: Option<&str>) -> Option<Vec<RawItem>> {
        let limit = i64::try_from(PAGE + 1).ok()?;
        let query = match after {
            None => sqlx::query(FIRST).bind(PARTITION).bind(limit),
            Some(after) => sqlx::query(NEXT).bind(PARTITION).bind(limit).bind(after),
        };
        let rows = match self {
            Raw::Memory(conn) => query.fetch_all(&mut *conn.lock().await).await,
            Raw::Pool(pool) => query.fetch_all(pool).await,
        }
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

    async fn fill(&self) -> Option<()> {
        for i in 0..ITEMS {
            let text = value(i).to_string();
            let query = sqlx::query(INSERT)
                .bind(PARTITION)
                .bind(format!("order-{i:04}"))
                .bind(text)
                .bind(format!("{i:032x}"));
            match self {
                Raw::Memory(conn) => query.execute(&mut *conn.lock().await).await.ok()?,
                Raw::Pool(pool) => query.execute(pool).await.ok()?,
            };
        }
        Some(())
    }
}

/// Every item of the partition through `query`, a page at a time; how many.
async fn page_through(store: &SqliteStore) -> usize {
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

async fn fill(store: &SqliteStore) -> optimist_core::Result<()> {
    for batch in 0..ITEMS / 100 {
        let ops = (batch * 100..(batch + 1) * 100)
            .map(|i| TxOp::insert(Key::with_sort(PARTITION, format!("order-{i:04}")), value(i)))
            .collect();
        store.transact(ops).await?;
    }
    Ok(())
}

fn file_path() -> PathBuf {
    let dir = std::env::var_os("OPTIMIST_TMP")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    dir.join(format!("optimist-query-bench-{}.db", std::process::id()))
}

/// The two sides on one kind of database: an in-memory one each, or one WAL file.
async fn sides(file: Option<&PathBuf>) -> Result<(SqliteStore, Raw), String> {
    let store = match file {
        None => SqliteStore::builder().memory().build().await,
        Some(path) => SqliteStore::builder().path(path).build().await,
    }
    .map_err(|e| e.to_string())?;
    fill(&store).await.map_err(|e| e.to_string())?;
    let raw = match file {
        None => {
            let mut conn = SqliteConnectOptions::new()
                .connect()
                .await
                .map_err(|e| e.to_string())?;
            sqlx::query(CREATE)
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            let raw = Raw::Memory(Mutex::new(conn));
            raw.fill().await.ok_or("filling the raw side failed")?;
            raw
        }
        // The store's table, read by a pool of the store's settings.
        Some(path) => Raw::Pool(
            SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_lazy_with(
                    SqliteConnectOptions::new()
                        .filename(path)
                        .busy_timeout(Duration::from_secs(1))
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal),
                ),
        ),
    };
    Ok((store, raw))
}

fn bench(c: &mut Criterion) {
    let Ok(rt) = Runtime::new() else {
        println!("skipped the query bench: no tokio runtime");
        return;
    };
    let path = file_path();
    remove_db(&path);
    for (name, file) in [("sqlite_memory", None), ("sqlite_file", Some(&path))] {
        let (store, raw) = match rt.block_on(sides(file)) {
            Ok(sides) => sides,
            Err(err) => {
                println!("skipped {name}: {err}");
                continue;
            }
        };
        let counts = rt.block_on(async { (page_through(&store).await, raw.page_through().await) });
        if counts != (ITEMS, ITEMS) {
            println!("skipped {name}: the sides read {counts:?} items, not {ITEMS}");
            continue;
        }
        let mut group = c.benchmark_group(name);
        group.bench_function("optimist/query_1000_in_pages_of_100", |b| {
            b.to_async(&rt).iter(|| page_through(&store))
        });
        group.bench_function("raw/query_1000_in_pages_of_100", |b| {
            b.to_async(&rt).iter(|| raw.page_through())
        });
        group.finish();
        rt.block_on(alternate(name, &store, &raw));
        drop((store, raw));
    }
    remove_db(&path);
}

/// Removes a database file and its WAL and shared-memory files.
fn remove_db(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

/// Both sides call by call in turn (swapping which goes first), so that both see the
/// same machine load; prints the ratio of their total times.
async fn alternate(name: &str, store: &SqliteStore, raw: &Raw) {
    let rounds: u32 = std::env::var("OPTIMIST_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let (mut optimist, mut bare) = (Duration::ZERO, Duration::ZERO);
    for round in 0..rounds {
        for side in [round % 2, 1 - round % 2] {
            let start = Instant::now();
            if side == 0 {
                black_box(page_through(store).await);
                optimist += start.elapsed();
            } else {
                black_box(raw.page_through().await);
                bare += start.elapsed();
            }
        }
    }
    let ratio = bare.as_secs_f64() / optimist.as_secs_f64().max(f64::MIN_POSITIVE);
    println!(
        "{name} alternating, {rounds} rounds: optimist {:?}, raw sqlx {:?} per 1,000 items; \
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

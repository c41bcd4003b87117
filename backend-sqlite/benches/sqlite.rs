//! optimist-sqlite's operations beside the same SQL run with bare sqlx, in the same run,
//! on the same kind of connection (one in-memory connection, or a pool on a WAL file
//! with the same settings). The difference is what the library costs: core's engine
//! (input checks, the retry loop, the conflict judgement) and the error mapping.
//!
//! `cargo bench -p optimist-sqlite --bench sqlite -- --quick`; compare each `optimist_*`
//! with its `raw_*` neighbour.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use optimist_core::{Key, Version, VersionedStore};
use optimist_sqlite::SqliteStore;
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection, SqlitePool};
use tokio::runtime::Runtime;
use tokio::sync::Mutex;

fn value() -> Value {
    json!({"title": "Dune", "author": "Frank Herbert", "copies": 3, "tags": ["sf", "classic"]})
}

/// The bare-sqlx side: the store's own SQL on the same kind of connection.
enum Raw {
    Memory(Mutex<SqliteConnection>),
    Pool(SqlitePool),
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
const GET: &str = "SELECT value, version, token FROM optimist_items WHERE partition_key = ?1 AND has_sort = ?2 AND sort_key = ?3";
const INSERT: &str = "INSERT INTO optimist_items (partition_key, has_sort, sort_key, value, token, version) \
    VALUES (?1, ?2, ?3, ?4, ?5, 1) ON CONFLICT DO NOTHING";
// The store binds the new version as ?7; the raw side computes the same number here.
const UPDATE: &str = "UPDATE optimist_items SET value = ?4, token = ?5, version = ?6 + 1 \
    WHERE partition_key = ?1 AND has_sort = ?2 AND sort_key = ?3 AND version = ?6 \
    AND value IS NOT NULL";

/// A fresh write token as the store writes one: 32 hex digits, new for every write.
fn token() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{:032x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

impl Raw {
    async fn get(&self, key: &str) -> Option<(Value, i64)> {
        let query = sqlx::query(GET).bind(key).bind(0i64).bind("");
        let row = match self {
            Raw::Memory(conn) => query.fetch_optional(&mut *conn.lock().await).await,
            Raw::Pool(pool) => query.fetch_optional(pool).await,
        };
        let row = row.ok()??;
        let text: &str = row.try_get(0).ok()?;
        let _token: Option<&str> = row.try_get(2).ok()?;
        Some((serde_json::from_str(text).ok()?, row.try_get(1).ok()?))
    }

    async fn execute(
        &self,
        sql: &str,
        key: &str,
        value: Option<&str>,
        version: Option<i64>,
    ) -> u64 {
        let mut query = sqlx::query(sql).bind(key).bind(0i64).bind("");
        if let Some(value) = value {
            query = query.bind(value).bind(token());
        }
        if let Some(version) = version {
            query = query.bind(version);
        }
        let done = match self {
            Raw::Memory(conn) => query.execute(&mut *conn.lock().await).await,
            Raw::Pool(pool) => query.execute(pool).await,
        };
        done.map_or(0, |d| d.rows_affected())
    }

    async fn insert(&self, key: &str, value: &Value) -> bool {
        let text = serde_json::to_string(value).unwrap_or_default();
        self.execute(INSERT, key, Some(&text), None).await == 1
    }

    async fn update(&self, key: &str, expected: i64, value: &Value) -> bool {
        let text = serde_json::to_string(value).unwrap_or_default();
        self.execute(UPDATE, key, Some(&text), Some(expected)).await == 1
    }

    /// A refused update that, like optimist's, reads the current item under the same
    /// write lock that refused it: BEGIN IMMEDIATE, UPDATE, SELECT, ROLLBACK.
    async fn update_conflict(
        &self,
        key: &str,
        expected: i64,
        value: &Value,
    ) -> Option<(Value, i64)> {
        let text = serde_json::to_string(value).unwrap_or_default();
        let mut pooled;
        let mut guard;
        let conn: &mut SqliteConnection = match self {
            Raw::Memory(conn) => {
                guard = conn.lock().await;
                &mut guard
            }
            Raw::Pool(pool) => {
                pooled = pool.acquire().await.ok()?;
                &mut pooled
            }
        };
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.ok()?;
        let done = sqlx::query(UPDATE)
            .bind(key)
            .bind(0i64)
            .bind("")
            .bind(&text)
            .bind(token())
            .bind(expected)
            .execute(&mut *tx)
            .await
            .ok()?;
        if done.rows_affected() == 1 {
            tx.commit().await.ok()?;
            return None;
        }
        let row = sqlx::query(GET)
            .bind(key)
            .bind(0i64)
            .bind("")
            .fetch_optional(&mut *tx)
            .await
            .ok()??;
        let text: &str = row.try_get(0).ok()?;
        Some((serde_json::from_str(text).ok()?, row.try_get(1).ok()?))
    }
}

fn options() -> SqliteConnectOptions {
    SqliteConnectOptions::new().busy_timeout(optimist_sqlite::DEFAULT_BUSY_TIMEOUT)
}

async fn memory_pair() -> Option<(SqliteStore, Raw)> {
    let store = SqliteStore::builder().memory().build().await.ok()?;
    let mut conn = options().connect().await.ok()?;
    sqlx::query(CREATE).execute(&mut conn).await.ok()?;
    let raw = Raw::Memory(Mutex::new(conn));
    Some((store, raw))
}

async fn file_pair(dir: &std::path::Path) -> Option<(SqliteStore, Raw)> {
    let store = SqliteStore::builder()
        .path(dir.join("optimist.db"))
        .build()
        .await
        .ok()?;
    // The raw side gets its own file, with the store's pool settings.
    let raw_options = options()
        .filename(dir.join("raw.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    let pool = SqlitePoolOptions::new()
        .max_connections(optimist_sqlite::DEFAULT_MAX_CONNECTIONS)
        .min_connections(0)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
        .connect_lazy_with(raw_options);
    // The same table, made by the store's own builder on the raw file.
    SqliteStore::builder()
        .path(dir.join("raw.db"))
        .build()
        .await
        .ok()?
        .close()
        .await;
    Some((store, Raw::Pool(pool)))
}

fn bench_pair(
    group: &mut BenchmarkGroup<'_, WallTime>,
    runtime: &Runtime,
    store: &SqliteStore,
    raw: &Raw,
) {
    let key = Key::new("book#1");
    let versions = runtime.block_on(async {
        let v = store.put(&key, value()).await.ok()?;
        raw.insert("book#1", &value()).await.then_some(())?;
        Some(v)
    });
    let Some(v) = versions else {
        eprintln!("cannot seed the tables");
        return;
    };

    group.bench_function("optimist_get", |b| {
        b.to_async(runtime)
            .iter(|| async { black_box(store.get(black_box(&key)).await) })
    });
    group.bench_function("raw_get", |b| {
        b.to_async(runtime)
            .iter(|| async { black_box(raw.get(black_box("book#1")).await) })
    });

    let next = AtomicU64::new(0);
    group.bench_function("optimist_insert", |b| {
        b.to_async(runtime).iter(|| async {
            let key = Key::new(format!("new#{}", next.fetch_add(1, Ordering::Relaxed)));
            black_box(store.insert(&key, value()).await)
        })
    });
    group.bench_function("raw_insert", |b| {
        b.to_async(runtime).iter(|| async {
            let key = format!("new#{}", next.fetch_add(1, Ordering::Relaxed));
            black_box(raw.insert(&key, &value()).await)
        })
    });

    let version = AtomicU64::new(v.get());
    group.bench_function("optimist_update", |b| {
        b.to_async(runtime).iter(|| async {
            let expected = Version::new(version.load(Ordering::Relaxed));
            if let Ok(v) = store.update(&key, expected, value()).await {
                version.store(v.get(), Ordering::Relaxed);
            }
        })
    });
    let raw_version = AtomicU64::new(1);
    group.bench_function("raw_update", |b| {
        b.to_async(runtime).iter(|| async {
            let expected = raw_version.load(Ordering::Relaxed) as i64;
            if raw.update("book#1", expected, &value()).await {
                raw_version.store(expected as u64 + 1, Ordering::Relaxed);
            }
        })
    });

    group.bench_function("optimist_update_conflict", |b| {
        b.to_async(runtime).iter(|| async {
            black_box(
                store
                    .update(&key, Version::UNVERSIONED, value())
                    .await
                    .is_err(),
            )
        })
    });
    group.bench_function("raw_update_conflict", |b| {
        b.to_async(runtime).iter(|| async {
            black_box(raw.update_conflict("book#1", 0, &value()).await.is_some())
        })
    });
}

/// Medians of `rounds` alternating timings of `a` and `b`: on a shared machine whose load
/// drifts, alternating call by call exposes both sides to the same load, which two
/// back-to-back criterion runs do not.
fn alternate<'a>(
    runtime: &Runtime,
    rounds: usize,
    mut a: impl FnMut() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>,
    mut b: impl FnMut() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>,
) -> (Duration, Duration) {
    let mut times_a = Vec::with_capacity(rounds);
    let mut times_b = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = std::time::Instant::now();
        runtime.block_on(a());
        times_a.push(start.elapsed());
        let start = std::time::Instant::now();
        runtime.block_on(b());
        times_b.push(start.elapsed());
    }
    times_a.sort();
    times_b.sort();
    (times_a[rounds / 2], times_b[rounds / 2])
}

/// Prints optimist/raw throughput ratios measured by [`alternate`].
fn print_alternating_ratios(label: &str, runtime: &Runtime, store: &SqliteStore, raw: &Raw) {
    const ROUNDS: usize = 2000;
    let key = Key::new("alt#1");
    let Some(v) = runtime.block_on(async {
        let v = store.put(&key, value()).await.ok()?;
        raw.insert("alt#1", &value()).await.then_some(())?;
        Some(v)
    }) else {
        return;
    };
    let report = |op: &str, (optimist, raw): (Duration, Duration)| {
        println!(
            "{label} {op}: optimist {optimist:?}, raw {raw:?}, throughput optimist/raw = {:.2}",
            raw.as_secs_f64() / optimist.as_secs_f64()
        );
    };
    report(
        "get",
        alternate(
            runtime,
            ROUNDS,
            || Box::pin(async { drop(black_box(store.get(&key).await)) }),
            || Box::pin(async { drop(black_box(raw.get("alt#1").await)) }),
        ),
    );
    let next = AtomicU64::new(0);
    report(
        "insert",
        alternate(
            runtime,
            ROUNDS,
            || {
                Box::pin(async {
                    let key = Key::new(format!("alt-new#{}", next.fetch_add(1, Ordering::Relaxed)));
                    drop(black_box(store.insert(&key, value()).await));
                })
            },
            || {
                Box::pin(async {
                    let key = format!("alt-new#{}", next.fetch_add(1, Ordering::Relaxed));
                    black_box(raw.insert(&key, &value()).await);
                })
            },
        ),
    );
    let version = AtomicU64::new(v.get());
    let raw_version = AtomicU64::new(1);
    report(
        "update",
        alternate(
            runtime,
            ROUNDS,
            || {
                Box::pin(async {
                    let expected = Version::new(version.load(Ordering::Relaxed));
                    if let Ok(v) = store.update(&key, expected, value()).await {
                        version.store(v.get(), Ordering::Relaxed);
                    }
                })
            },
            || {
                Box::pin(async {
                    let expected = raw_version.load(Ordering::Relaxed) as i64;
                    if raw.update("alt#1", expected, &value()).await {
                        raw_version.store(expected as u64 + 1, Ordering::Relaxed);
                    }
                })
            },
        ),
    );
    report(
        "update_conflict",
        alternate(
            runtime,
            ROUNDS,
            || {
                Box::pin(async {
                    black_box(
                        store
                            .update(&key, Version::UNVERSIONED, value())
                            .await
                            .is_err(),
                    );
                })
            },
            || {
                Box::pin(async {
                    black_box(raw.update_conflict("alt#1", 0, &value()).await.is_some());
                })
            },
        ),
    );
}

fn bench(c: &mut Criterion) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        eprintln!("cannot build a tokio runtime");
        return;
    };
    // Only in a real bench run, not when `cargo test` runs each benchmark once.
    let alternating = std::env::args().any(|arg| arg == "--bench");
    let dir: PathBuf = std::env::var_os("OPTIMIST_TMP")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("optimist-sqlite-bench-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        eprintln!("cannot create {}", dir.display());
        return;
    }

    if let Some((store, raw)) = runtime.block_on(memory_pair()) {
        let mut group = c.benchmark_group("sqlite_memory");
        bench_pair(&mut group, &runtime, &store, &raw);
        group.finish();
        if alternating {
            print_alternating_ratios("memory", &runtime, &store, &raw);
        }
    }
    if let Some((store, raw)) = runtime.block_on(file_pair(&dir)) {
        let mut group = c.benchmark_group("sqlite_file");
        bench_pair(&mut group, &runtime, &store, &raw);
        group.finish();
        if alternating {
            print_alternating_ratios("file", &runtime, &store, &raw);
        }
        runtime.block_on(store.close());
        if let Raw::Pool(pool) = raw {
            runtime.block_on(pool.close());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// What criterion_main! expands to, written out: criterion_group! would add an
// undocumented public function, which the workspace's lints refuse.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}

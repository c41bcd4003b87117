//! optimist-sqlite's operations beside the same SQL run with bare sqlx, in the same run,
//! on the same kind of connection (one in-memory connection, or a pool on a WAL file
//! with the same settings). The difference is what the library costs: core's engine
//! (input checks, the retry loop, the conflict judgement) and the error mapping.
//!
//! `cargo bench -p optimist-sqlite --bench sqlite -- --quick`; compare each `optimist_*`
//! with its `raw_*` neighbour.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use optimist_core::{Key, Version, VersionedStore};
use optimist_sqlite::SqliteStore;
use serde_json::{Value, json};
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::runtime::Runtime;
use tokio::sync::Mutex;

mod raw;

use raw::{CREATE, Raw, options};

fn value() -> Value {
    json!({"title": "Dune", "author": "Frank Herbert", "copies": 3, "tags": ["sf", "classic"]})
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

    leave_stale_version(runtime, store, raw, &key);
    group.bench_function("optimist_update_conflict", |b| {
        b.to_async(runtime).iter(|| async {
            black_box(store.update(&key, Version::FIRST, value()).await.is_err())
        })
    });
    group.bench_function("raw_update_conflict", |b| {
        b.to_async(runtime)
            .iter(|| async { black_box(raw.update_as_store("book#1", 1, &value()).await.is_err()) })
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

/// Moves `key` past version 1 on both sides, the stale version the conflicts ask for,
/// as a client that lost a race holds (not `Version::UNVERSIONED`: that asks for an
/// item written without a version, another condition).
fn leave_stale_version(runtime: &Runtime, store: &SqliteStore, raw: &Raw, key: &Key) {
    runtime.block_on(async {
        let _ = store.update(key, Version::FIRST, value()).await;
        let _ = raw.update(key.partition(), 1, &value()).await;
    });
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
    leave_stale_version(runtime, store, raw, &key);
    report(
        "update_conflict",
        alternate(
            runtime,
            ROUNDS,
            || {
                Box::pin(async {
                    black_box(store.update(&key, Version::FIRST, value()).await.is_err());
                })
            },
            || {
                Box::pin(async {
                    black_box(raw.update_as_store("alt#1", 1, &value()).await.is_err());
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
    let Some(dir) = raw::bench_dir("optimist-sqlite-bench") else {
        return;
    };

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

//! optimist-postgres's operations beside the same statements run with bare sqlx, in the
//! same run, on the same server, on connections like the store's (see `raw/`). The
//! difference is what the library costs: core's engine (input checks, version and conflict judgement, retry policy,
//! span), JSON text encoding, the response timeout, error mapping.
//!
//! `OPTIMIST_POSTGRES_URL=... cargo bench -p optimist-postgres --bench postgres`; compare
//! each `optimist/*` with its `raw/*` neighbour. Without the variable it prints why and
//! measures nothing.

mod raw;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::Criterion;
use optimist_core::{Key, Version, VersionedStore};
use optimist_postgres::{DEFAULT_MAX_CONNECTIONS, PostgresStore};
use raw::Raw;
use serde_json::{Value, json};
use tokio::runtime::Runtime;

fn value() -> Value {
    json!({"title": "Dune", "author": "Frank Herbert", "copies": 3, "tags": ["sf", "classic"]})
}

fn bench(c: &mut Criterion) {
    let Ok(url) = std::env::var("OPTIMIST_POSTGRES_URL") else {
        println!("skipped the postgres benches: OPTIMIST_POSTGRES_URL is not set");
        return;
    };
    let Ok(rt) = Runtime::new() else {
        println!("skipped the postgres benches: no tokio runtime");
        return;
    };
    let suffix = format!("{:08x}", rand::random::<u32>());
    let made = rt.block_on(async {
        let store = PostgresStore::builder()
            .url(url.clone())
            .table(format!("optimist_bench_{suffix}"))
            .build()
            .await
            .map_err(|err| err.to_string())?;
        // Its own table, created by a second store; connections like the store's.
        let raw_table = format!("optimist_bench_raw_{suffix}");
        PostgresStore::builder()
            .url(url.clone())
            .table(raw_table.clone())
            .build()
            .await
            .map_err(|err| err.to_string())?
            .close()
            .await;
        let raw = Raw::connect(&url, &raw_table, DEFAULT_MAX_CONNECTIONS)
            .await
            .map_err(|err| err.to_string())?;
        Ok::<_, String>((store, raw))
    });
    let (store, raw) = match made {
        Ok(pair) => pair,
        Err(err) => {
            println!("skipped the postgres benches: {err}");
            return;
        }
    };
    let value = value();
    let key = Key::new("hot");
    let (seeded, raw_seeded) = rt.block_on(async {
        (
            store.insert(&key, value.clone()).await,
            raw.insert("hot", &value).await,
        )
    });
    if seeded.is_err() || raw_seeded.is_none() {
        println!("skipped the postgres benches: seeding failed");
        return;
    }

    let mut group = c.benchmark_group("postgres");
    group.bench_function("optimist/get", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(store.get(&key).await.ok()) })
    });
    group.bench_function("raw/get", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(raw.get("hot").await) })
    });

    let n = AtomicU64::new(0);
    group.bench_function("optimist/insert", |b| {
        b.to_async(&rt).iter(|| async {
            let key = Key::new(format!("new-{}", n.fetch_add(1, Ordering::Relaxed)));
            black_box(store.insert(&key, value.clone()).await.ok())
        })
    });
    let n = AtomicU64::new(0);
    group.bench_function("raw/insert", |b| {
        b.to_async(&rt).iter(|| async {
            let key = format!("new-{}", n.fetch_add(1, Ordering::Relaxed));
            black_box(raw.insert(&key, &value).await)
        })
    });

    let version = AtomicU64::new(1);
    group.bench_function("optimist/update", |b| {
        b.to_async(&rt).iter(|| async {
            let expected = Version::new(version.load(Ordering::Relaxed));
            if let Ok(v) = store.update(&key, expected, value.clone()).await {
                version.store(v.get(), Ordering::Relaxed);
            }
        })
    });
    let version = AtomicU64::new(1);
    group.bench_function("raw/update", |b| {
        b.to_async(&rt).iter(|| async {
            let expected = version.load(Ordering::Relaxed) as i64;
            if let Ok(v) = raw.update("hot", expected, &value).await {
                version.store(v as u64, Ordering::Relaxed);
            }
        })
    });

    group.bench_function("optimist/update_conflict", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(
                store
                    .update(&key, Version::new(0), value.clone())
                    .await
                    .err(),
            )
        })
    });
    group.bench_function("raw/update_conflict", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(raw.update("hot", 0, &value).await.err()) })
    });
    group.finish();

    // The machine may be busy with other work; criterion's groups above run one side
    // after the other, so drift in load shows up as a difference. Here both sides
    // alternate call by call (and swap which goes first), and the ratio of their total
    // times is printed: optimist's throughput relative to bare sqlx.
    let rounds: u32 = std::env::var("OPTIMIST_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    rt.block_on(async {
        let n = AtomicU64::new(1 << 40);
        let (mut opt_v, mut raw_v) = (
            store.get(&key).await.ok().flatten().map_or(0, |i| i.version.get()),
            raw.get("hot").await.map_or(0, |(_, v)| v),
        );
        for op in ["get", "insert", "update", "update_conflict"] {
            let (mut optimist, mut bare) = (Duration::ZERO, Duration::ZERO);
            for round in 0..rounds {
                let fresh = format!("paired-{}", n.fetch_add(1, Ordering::Relaxed));
                let fresh_key = Key::new(fresh.clone());
                for side in [round % 2, 1 - round % 2] {
                    let start = Instant::now();
                    if side == 0 {
                        match op {
                            "get" => drop(black_box(store.get(&key).await)),
                            "insert" => drop(black_box(store.insert(&fresh_key, value.clone()).await)),
                            "update" => {
                                if let Ok(v) = store.update(&key, Version::new(opt_v), value.clone()).await {
                                    opt_v = v.get();
                                }
                            }
                            _ => drop(black_box(store.update(&key, Version::new(0), value.clone()).await)),
                        }
                        optimist += start.elapsed();
                    } else {
                        match op {
                            "get" => drop(black_box(raw.get("hot").await)),
                            "insert" => drop(black_box(raw.insert(&fresh, &value).await)),
                            "update" => {
                                if let Ok(v) = raw.update("hot", raw_v, &value).await {
                                    raw_v = v;
                                }
                            }
                            _ => drop(black_box(raw.update("hot", 0, &value).await)),
                        }
                        bare += start.elapsed();
                    }
                }
            }
            let ratio = bare.as_secs_f64() / optimist.as_secs_f64().max(f64::MIN_POSITIVE);
            println!(
                "paired {op}: optimist {:?}/call, raw sqlx {:?}/call, throughput ratio optimist/raw = {ratio:.3}",
                optimist / rounds,
                bare / rounds
            );
        }
    });
}

// What criterion_main! expands to, written out: criterion_group! would add an
// undocumented public function, which the workspace's lints refuse.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}

//! optimist-postgres's operations beside the same statements run with bare sqlx, in the
//! same run, on the same server and pool settings. The difference is what the library
//! costs: core's engine (input checks, version and conflict judgement, retry policy,
//! span), JSON text encoding, the response timeout, error mapping.
//!
//! `OPTIMIST_POSTGRES_URL=... cargo bench -p optimist-postgres --bench postgres`; compare
//! each `optimist/*` with its `raw/*` neighbour. Without the variable it prints why and
//! measures nothing.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::Criterion;
use optimist_core::{Key, Version, VersionedStore};
use optimist_postgres::PostgresStore;
use serde_json::{Value, json};
use sqlx::{PgPool, Row};
use tokio::runtime::Runtime;

fn value() -> Value {
    json!({"title": "Dune", "author": "Frank Herbert", "copies": 3, "tags": ["sf", "classic"]})
}

/// The store's statements, written out, run with bare sqlx on a table of the same shape.
struct Raw {
    pool: PgPool,
    get: String,
    insert: String,
    update: String,
}

impl Raw {
    fn new(pool: PgPool, table: &str) -> Self {
        let t = format!("\"{table}\"");
        Raw {
            pool,
            get: format!(
                "SELECT value::text, version, token FROM {t} WHERE partition = $1 AND sort = $2"
            ),
            insert: format!(
                "INSERT INTO {t} AS t (partition, sort, value, version, token) \
                 VALUES ($1, $2, $3::text::json, 1, $4) \
                 ON CONFLICT (partition, sort) DO UPDATE SET version = t.version \
                 RETURNING t.xmax = 0, \
                 CASE WHEN t.xmax = 0 THEN NULL ELSE t.value::text END, t.version, \
                 CASE WHEN t.xmax = 0 THEN NULL ELSE t.token END"
            ),
            update: format!(
                "WITH cur AS MATERIALIZED (\
                 SELECT version, value, token FROM {t} WHERE partition = $1 AND sort = $2 \
                 FOR UPDATE), \
                 upd AS (UPDATE {t} AS t SET value = $4::text::json, version = t.version + 1, \
                 token = $5, deleted_at = NULL \
                 FROM cur WHERE t.partition = $1 AND t.sort = $2 AND cur.version = $3 \
                 AND (cur.value IS NULL) = false RETURNING t.version) \
                 SELECT upd.version, \
                 CASE WHEN upd.version IS NULL THEN cur.value::text END, cur.version, \
                 CASE WHEN upd.version IS NULL THEN cur.token END \
                 FROM cur LEFT JOIN upd ON true"
            ),
        }
    }

    async fn get(&self, key: &str) -> Option<(Value, i64)> {
        let row = sqlx::query(&self.get)
            .bind(key)
            .bind("")
            .fetch_optional(&self.pool)
            .await
            .ok()??;
        let text: &str = row.try_get(0).ok()?;
        let _token: Option<&str> = row.try_get(2).ok()?;
        Some((serde_json::from_str(text).ok()?, row.try_get(1).ok()?))
    }

    async fn insert(&self, key: &str, value: &Value) -> Option<i64> {
        let text = serde_json::to_string(value).ok()?;
        let row = sqlx::query(&self.insert)
            .bind(key)
            .bind("")
            .bind(text)
            .bind(token())
            .fetch_one(&self.pool)
            .await
            .ok()?;
        let inserted: bool = row.try_get(0).ok()?;
        inserted.then(|| row.try_get(2).ok()).flatten()
    }

    /// `Ok(new version)` or `Err(current item)`.
    async fn update(
        &self,
        key: &str,
        expected: i64,
        value: &Value,
    ) -> Result<i64, Option<(Value, i64)>> {
        let text = serde_json::to_string(value).map_err(|_| None)?;
        let row = sqlx::query(&self.update)
            .bind(key)
            .bind("")
            .bind(expected)
            .bind(text)
            .bind(token())
            .fetch_optional(&self.pool)
            .await
            .map_err(|_| None)?
            .ok_or(None)?;
        if let Ok(Some(version)) = row.try_get::<Option<i64>, _>(0) {
            return Ok(version);
        }
        let text: Option<&str> = row.try_get(1).map_err(|_| None)?;
        let current = serde_json::from_str(text.unwrap_or("null")).map_err(|_| None)?;
        Err(Some((current, row.try_get(2).map_err(|_| None)?)))
    }
}

/// A write token as the store makes one: 128 random bits as 32 hex digits.
fn token() -> String {
    format!("{:032x}", rand::random::<u128>())
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
            .await?;
        // Same pool settings as the store's; its own table, created by a second store.
        let raw_table = format!("optimist_bench_raw_{suffix}");
        let raw_store = PostgresStore::builder()
            .url(url)
            .table(raw_table.clone())
            .build()
            .await?;
        Ok::<_, optimist_core::Error>((store, Raw::new(raw_store.pool().clone(), &raw_table)))
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

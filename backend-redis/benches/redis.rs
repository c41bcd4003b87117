//! optimist's Redis store beside the bare driver running the same Lua script
//! (`EVALSHA` on connections like the store's, the same keys and seven arguments per
//! write, a fresh write token each; see `raw/`), per operation: get, insert, update,
//! and an update refused for a stale version. The difference is optimist's own cost: the engine (validation, versions, conflict
//! judgement, span), key spelling, JSON encoding and reply decoding. Goal: optimist at
//! ≥ 0.95× the driver's throughput.
//!
//! Needs `OPTIMIST_REDIS_URL` (scripts/services/redis.sh); without it, prints a line
//! and measures nothing. Ratios: see backend-redis/README.md.

#![allow(clippy::panic)] // a bench with a broken setup has nothing to measure

mod raw;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{BenchmarkId, Criterion};
use optimist_core::{Key, Operation, Version, VersionedStore};
use optimist_redis::RedisStore;
use raw::{Raw, decode_item, token};
use serde_json::{Value, json};

fn value() -> Value {
    json!({"customer": "c-42", "items": [{"sku": "a-1", "n": 2}, {"sku": "b-7", "n": 1}], "total": 31.5})
}

fn main() {
    let Ok(url) = std::env::var("OPTIMIST_REDIS_URL") else {
        println!(
            "skipping the Redis benches: OPTIMIST_REDIS_URL is not set (scripts/services/redis.sh starts a server)"
        );
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let prefix = format!("bench-{}", std::process::id());
    let store = rt.block_on(async {
        RedisStore::builder()
            .url(url.clone())
            .prefix(prefix.clone())
            .build()
            .await
    });
    let store = store.unwrap_or_else(|e| panic!("cannot reach the bench server: {e}"));
    let raw = rt
        .block_on(Raw::connect(&url, &prefix))
        .unwrap_or_else(|e| panic!("cannot reach the bench server: {e}"));
    let raw = Arc::new(raw);
    let store = Arc::new(store);
    let mut c = Criterion::default().configure_from_args();

    // get: one present item.
    let present = Key::new("present");
    rt.block_on(store.put(&present, value()))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut group = c.benchmark_group("get");
    group.bench_function(BenchmarkId::new("optimist", "present"), |b| {
        b.to_async(&rt)
            .iter(|| async { store.get(&present).await.unwrap_or_else(|e| panic!("{e}")) })
    });
    group.bench_function(BenchmarkId::new("raw", "present"), |b| {
        b.to_async(&rt)
            .iter(|| async { raw.read(&raw.key("present")).await })
    });
    group.finish();

    // insert: a new key each time.
    let n = AtomicU64::new(0);
    let mut group = c.benchmark_group("insert");
    group.bench_function(BenchmarkId::new("optimist", "new key"), |b| {
        b.to_async(&rt).iter(|| async {
            let key = Key::new(format!("o-{}", n.fetch_add(1, Ordering::Relaxed)));
            store
                .insert(&key, value())
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    group.bench_function(BenchmarkId::new("raw", "new key"), |b| {
        b.to_async(&rt).iter(|| async {
            let partition = format!("r-{}", n.fetch_add(1, Ordering::Relaxed));
            let json = serde_json::to_vec(&value()).unwrap_or_default();
            let token = token();
            raw.write(
                Operation::Insert,
                &partition,
                [b"absent", b"", b"put", &json, token.as_bytes()],
            )
            .await
        })
    });
    group.finish();

    // update: the same key, at its current version each time.
    let mut group = c.benchmark_group("update");
    let mine = Key::new("updated-o");
    let version = AtomicU64::new(
        rt.block_on(store.put(&mine, value()))
            .map_or(0, Version::get),
    );
    group.bench_function(BenchmarkId::new("optimist", "at version"), |b| {
        b.to_async(&rt).iter(|| async {
            let expected = Version::new(version.load(Ordering::Relaxed));
            let next = store
                .update(&mine, expected, value())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            version.store(next.get(), Ordering::Relaxed);
        })
    });
    let raw_version = AtomicU64::new(
        rt.block_on(store.put(&Key::new("updated-r"), value()))
            .map_or(0, Version::get),
    );
    group.bench_function(BenchmarkId::new("raw", "at version"), |b| {
        b.to_async(&rt).iter(|| async {
            let expected = raw_version.load(Ordering::Relaxed);
            let json = serde_json::to_vec(&value()).unwrap_or_default();
            let reply = raw.update("updated-r", expected, &json).await;
            raw_version.store(raw.next_after(reply, expected), Ordering::Relaxed);
        })
    });
    group.finish();

    // failing update: a stale version, refused with the current item.
    let mut group = c.benchmark_group("update_conflict");
    group.bench_function(BenchmarkId::new("optimist", "stale version"), |b| {
        b.to_async(&rt).iter(|| async {
            let err = store.update(&present, Version::new(0), value()).await;
            assert!(err.is_err());
            err
        })
    });
    group.bench_function(BenchmarkId::new("raw", "stale version"), |b| {
        b.to_async(&rt).iter(|| async {
            let json = serde_json::to_vec(&value()).unwrap_or_default();
            raw.update("present", 0, &json).await
        })
    });
    group.finish();

    c.final_summary();

    // `cargo test --all-targets` runs this binary without `--bench` to check that each
    // bench works once; the paired rounds are for `cargo bench` only.
    if std::env::args().any(|arg| arg == "--bench") {
        paired(&rt, &store, &raw);
    }
}

/// Ratios measured side by side: rounds alternate a batch of optimist calls with a
/// batch of driver calls (order swapped every round), so load from other processes
/// hits both alike. Ratio = driver time / optimist time, i.e. optimist's throughput as
/// a fraction of the driver's (1.0: no overhead). Prints the median over rounds.
fn paired(rt: &tokio::runtime::Runtime, store: &Arc<RedisStore>, raw: &Arc<Raw>) {
    let rounds: usize = std::env::var("OPTIMIST_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(21);
    const BATCH: u64 = 200;
    let present = Key::new("present");
    let n = AtomicU64::new(1_000_000_000);
    let o_ver = AtomicU64::new(
        rt.block_on(store.put(&Key::new("p-o"), value()))
            .map_or(0, Version::get),
    );
    let r_ver = AtomicU64::new(
        rt.block_on(store.put(&Key::new("p-r"), value()))
            .map_or(0, Version::get),
    );

    let mut report = Vec::new();
    for name in ["get", "insert", "update", "update_conflict"] {
        let mut ratios = Vec::with_capacity(rounds);
        let mut decoded = Vec::with_capacity(rounds);
        for round in 0..rounds {
            // References, so the `async move` driver closure copies them.
            let (n, r_ver) = (&n, &r_ver);
            let optimist = || async {
                let start = std::time::Instant::now();
                for _ in 0..BATCH {
                    match name {
                        "get" => drop(store.get(&present).await),
                        "insert" => {
                            let key = Key::new(format!("o-{}", n.fetch_add(1, Ordering::Relaxed)));
                            drop(store.insert(&key, value()).await);
                        }
                        "update" => {
                            let expected = Version::new(o_ver.load(Ordering::Relaxed));
                            let next = store.update(&Key::new("p-o"), expected, value()).await;
                            o_ver.store(next.map_or(0, Version::get), Ordering::Relaxed);
                        }
                        _ => drop(store.update(&present, Version::new(0), value()).await),
                    }
                }
                start.elapsed()
            };
            // `decode`: also parse the item's JSON out of the reply, as any caller that
            // wants the value must (optimist returns it as a `Value`).
            let driver = |decode: bool| async move {
                let start = std::time::Instant::now();
                for _ in 0..BATCH {
                    match name {
                        "get" => {
                            let reply = raw.read(&raw.key("present")).await;
                            if decode {
                                drop(decode_item(reply, 0));
                            }
                        }
                        "insert" => {
                            let partition = format!("r-{}", n.fetch_add(1, Ordering::Relaxed));
                            let json = serde_json::to_vec(&value()).unwrap_or_default();
                            let token = token();
                            let args: [&[u8]; 5] =
                                [b"absent", b"", b"put", &json, token.as_bytes()];
                            drop(raw.write(Operation::Insert, &partition, args).await);
                        }
                        "update" => {
                            let expected = r_ver.load(Ordering::Relaxed);
                            let json = serde_json::to_vec(&value()).unwrap_or_default();
                            let reply = raw.update("p-r", expected, &json).await;
                            r_ver.store(raw.next_after(reply, expected), Ordering::Relaxed);
                        }
                        _ => {
                            let json = serde_json::to_vec(&value()).unwrap_or_default();
                            let reply = raw.update("present", 0, &json).await;
                            if decode {
                                drop(decode_item(reply, 1));
                            }
                        }
                    }
                }
                start.elapsed()
            };
            // Rotate the order of the three batches so none always runs first.
            let (o, bare, json) = rt.block_on(async {
                match round % 3 {
                    0 => {
                        let o = optimist().await;
                        let bare = driver(false).await;
                        (o, bare, driver(true).await)
                    }
                    1 => {
                        let bare = driver(false).await;
                        let json = driver(true).await;
                        (optimist().await, bare, json)
                    }
                    _ => {
                        let json = driver(true).await;
                        let o = optimist().await;
                        (o, driver(false).await, json)
                    }
                }
            });
            ratios.push(bare.as_secs_f64() / o.as_secs_f64());
            decoded.push(json.as_secs_f64() / o.as_secs_f64());
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            (v[v.len() / 2], v[0], v[v.len() - 1])
        };
        let (bare, low, high) = median(ratios);
        let mut line =
            format!("{name:<16} vs bare driver: median {bare:.3} (range {low:.3}..{high:.3})");
        if matches!(name, "get" | "update_conflict") {
            let (json, low, high) = median(decoded);
            line +=
                &format!("; vs driver + JSON decode: median {json:.3} (range {low:.3}..{high:.3})");
        }
        report.push(line);
    }
    println!(
        "\npaired optimist/driver throughput ratios, {rounds} rounds of {BATCH} calls (1.0 = no overhead; goal >= 0.95):"
    );
    for line in report {
        println!("  {line}");
    }
}

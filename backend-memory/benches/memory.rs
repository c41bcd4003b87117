//! The memory store's operations beside the same work done on a bare
//! `Mutex<HashMap>` in the same run: the difference is what the contract costs (input
//! checks, the write token, the conflict judgement, the async call).
//!
//! Each pair does the same thing on both sides: `update` is one compare-and-swap at
//! the version the previous one returned, with one fresh value built per call (moved
//! into the map); `update_conflict` is a compare-and-swap at a stale version, refused
//! with a copy of the current item; `get` is a copy of the item. The store's calls run
//! in batches inside one `block_on`, as they would inside an application's task.
//!
//! `cargo bench -p optimist-memory --bench memory` prints criterion's times, then
//! paired ratios (rounds alternating a batch of store calls with a batch of map calls,
//! `OPTIMIST_BENCH_ROUNDS` of them): bare map time / store time, so 1.0 means the store
//! costs nothing over a map (goal ≥ 0.8).

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

mod bare;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use optimist_core::{Key, Version, VersionedStore};
use optimist_memory::MemoryStore;
use serde_json::{Value, json};
use tokio::runtime::Runtime;

use bare::Bare;

fn value() -> Value {
    json!({"title": "Dune", "author": "Frank Herbert", "copies": 3, "tags": ["sf", "classic"]})
}

/// The version the conflicts ask for: one the item has left behind, as a client that
/// lost a race holds (not `Version::UNVERSIONED`, which asks for an item written
/// without a version, another condition).
const STALE: u64 = 1;

/// The store and the map, each holding `key` at version 2 (past [`STALE`]).
fn setup(runtime: &Runtime) -> (MemoryStore, Bare, Key) {
    let store = MemoryStore::new();
    let key = Key::new("book#1");
    runtime.block_on(async {
        let _ = store.put(&key, value()).await;
        let _ = store.put(&key, value()).await;
    });
    let bare = Bare::default();
    bare.insert(key.clone(), value());
    let _ = bare.update(&key, 1, value());
    (store, bare, key)
}

/// The operations compared, each with its store side and its map side.
#[derive(Clone, Copy, Debug)]
enum Op {
    Get,
    Update,
    UpdateConflict,
}

/// Runs `n` calls of `op` on the store, each at the version the last one returned.
async fn store_calls(store: &MemoryStore, key: &Key, op: Op, n: u64, version: &mut Version) {
    for _ in 0..n {
        match op {
            Op::Get => drop(black_box(store.get(black_box(key)).await)),
            Op::Update => {
                if let Ok(next) = store.update(black_box(key), *version, value()).await {
                    *version = next;
                }
            }
            Op::UpdateConflict => drop(black_box(
                store
                    .update(black_box(key), Version::new(STALE), value())
                    .await,
            )),
        }
    }
}

/// Runs `n` calls of `op` on the map, each at the version the last one returned.
fn bare_calls(bare: &Bare, key: &Key, op: Op, n: u64, version: &mut u64) {
    for _ in 0..n {
        match op {
            Op::Get => drop(black_box(bare.get(black_box(key)))),
            Op::Update => {
                if let Ok(next) = bare.update(black_box(key), *version, value()) {
                    *version = next;
                }
            }
            Op::UpdateConflict => drop(black_box(bare.update(black_box(key), STALE, value()))),
        }
    }
}

fn bench(c: &mut Criterion) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        eprintln!("cannot build a tokio runtime");
        return;
    };
    let (store, bare, key) = setup(&runtime);
    let mut group = c.benchmark_group("memory");
    for (name, op) in [
        ("get", Op::Get),
        ("update", Op::Update),
        ("update_conflict", Op::UpdateConflict),
    ] {
        let mut version = runtime
            .block_on(store.get(&key))
            .ok()
            .flatten()
            .map_or(Version::FIRST, |item| item.version);
        group.bench_function(name, |b| {
            b.iter_custom(|n| {
                runtime.block_on(async {
                    let start = Instant::now();
                    store_calls(&store, &key, op, n, &mut version).await;
                    start.elapsed()
                })
            })
        });
        let mut bare_version = 2;
        group.bench_function(format!("bare_map_{name}"), |b| {
            b.iter_custom(|n| {
                let start = Instant::now();
                bare_calls(&bare, &key, op, n, &mut bare_version);
                start.elapsed()
            })
        });
    }
    group.bench_function("insert+remove", |b| {
        let fresh = Key::new("fresh");
        b.iter(|| {
            runtime.block_on(async {
                let _ = store.insert(black_box(&fresh), value()).await;
                let _ = store.remove(&fresh).await;
            })
        })
    });
    group.finish();
}

/// Paired ratios, printed after criterion's times: each round runs a batch on the
/// store and a batch on the map back to back (order swapped every round), so load from
/// other processes hits both alike. Only under `cargo bench` (`--bench`): the test
/// run of the benches checks that they work once, it measures nothing.
fn paired() {
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        eprintln!("cannot build a tokio runtime");
        return;
    };
    let rounds: usize = std::env::var("OPTIMIST_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2001);
    const BATCH: u64 = 200;
    let (store, bare, key) = setup(&runtime);
    let (mut version, mut bare_version) = (Version::new(2), 2);
    println!(
        "\npaired memory store / bare map throughput ratios, {rounds} rounds of {BATCH} calls \
         (1.0 = no overhead; goal >= 0.8); load average {}:",
        load_average()
    );
    for (name, op) in [
        ("get", Op::Get),
        ("update", Op::Update),
        ("update_conflict", Op::UpdateConflict),
    ] {
        let mut ratios = Vec::with_capacity(rounds);
        for round in 0..rounds {
            let mut timed_store = || {
                runtime.block_on(async {
                    let start = Instant::now();
                    store_calls(&store, &key, op, BATCH, &mut version).await;
                    start.elapsed()
                })
            };
            let mut timed_bare = || {
                let start = Instant::now();
                bare_calls(&bare, &key, op, BATCH, &mut bare_version);
                start.elapsed()
            };
            let (s, b): (Duration, Duration) = if round % 2 == 0 {
                let s = timed_store();
                (s, timed_bare())
            } else {
                let b = timed_bare();
                (timed_store(), b)
            };
            ratios.push(b.as_secs_f64() / s.as_secs_f64());
        }
        ratios.sort_by(f64::total_cmp);
        let at = |q: f64| ratios[((ratios.len() - 1) as f64 * q) as usize];
        println!(
            "  {name:<16} median {:.3} (quartiles {:.3}..{:.3})",
            at(0.5),
            at(0.25),
            at(0.75)
        );
    }
    println!("  load average after: {}", load_average());
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` gives them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_string())
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    paired();
}

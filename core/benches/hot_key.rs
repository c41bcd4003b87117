//! Hot key, 16 writers: every writer increments one counter through `update_with`.
//! Compares the default policy (exponential backoff, full jitter), the same with write
//! combining (contract R25: the 16 writers share one context, whose `update_with`
//! calls coalesce), and a naive loop that retries at once, in the same run, on the
//! memory store as it is and behind a simulated 1 ms round trip (where writers overlap
//! as they do on a real server).
//!
//! Reports goodput (increments per second, criterion's throughput) and, on stderr,
//! the attempts per successful increment (p50, p99, max) of each strategy; with write
//! combining, the writes per increment instead.

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.
#![allow(clippy::expect_used)] // a bench that cannot set up should stop at once

use std::convert::Infallible;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use optimist_core::retry::RetryPolicy;
use optimist_core::typed::{Context, Entity};
use optimist_core::{
    Capabilities, Key, Page, QueryOptions, Result, ScanOptions, SortRange, StoreFuture, TxOp,
    Value, Version, Versioned, VersionedStore, async_trait,
};
use optimist_memory::MemoryStore;
use serde::{Deserialize, Serialize};

const WRITERS: usize = 16;
const INCREMENTS: usize = 25;

#[derive(Entity, Serialize, Deserialize)]
struct Counter {
    #[entity(partition_key)]
    id: String,
    count: u64,
    #[entity(version)]
    version: Option<u64>,
}

/// One writer's view of the shared store: adds a round trip to every call and counts
/// its own update attempts.
struct Writer {
    store: MemoryStore,
    rtt: Duration,
    updates: AtomicU32,
}

impl Writer {
    async fn trip(&self) {
        if !self.rtt.is_zero() {
            tokio::time::sleep(self.rtt).await;
        }
    }
}

#[async_trait]
impl VersionedStore for Writer {
    fn capabilities(&self) -> &Capabilities {
        self.store.capabilities()
    }
    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>> {
        StoreFuture::new(async move {
            self.trip().await;
            self.store.get(key).await
        })
    }
    fn insert<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            self.trip().await;
            self.store.insert(key, value).await
        })
    }
    fn update<'a>(
        &'a self,
        key: &'a Key,
        expected: Version,
        value: Value,
    ) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            self.updates.fetch_add(1, Ordering::Relaxed);
            self.trip().await;
            self.store.update(key, expected, value).await
        })
    }
    fn delete<'a>(&'a self, key: &'a Key, expected: Version) -> StoreFuture<'a, ()> {
        StoreFuture::new(async move {
            self.trip().await;
            self.store.delete(key, expected).await
        })
    }
    fn put<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            self.trip().await;
            self.store.put(key, value).await
        })
    }
    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Version>> {
        StoreFuture::new(async move {
            self.trip().await;
            self.store.remove(key).await
        })
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        self.trip().await;
        self.store.transact(ops).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Value>>>> {
        self.trip().await;
        self.store.get_many(keys).await
    }
    async fn query(
        &self,
        partition: &str,
        range: SortRange,
        options: QueryOptions,
    ) -> Result<Page> {
        self.trip().await;
        self.store.query(partition, range, options).await
    }
    async fn scan(&self, options: ScanOptions) -> Result<Page> {
        self.trip().await;
        self.store.scan(options).await
    }
}

/// Retries at once, without backoff, until it succeeds.
fn naive() -> RetryPolicy {
    RetryPolicy::new(u32::MAX, Duration::ZERO, Duration::ZERO)
}

#[derive(Default)]
struct Tally {
    attempts: Vec<u32>,
    exhausted: usize,
    successes: usize,
    elapsed: Duration,
    /// Writes sent, with write combining.
    writes: u64,
}

/// 16 writers × INCREMENTS increments on one key; records attempts per success. With
/// `combining`, the writers share one context (and one counting store) whose calls
/// combine.
async fn run(
    policy: &RetryPolicy,
    combining: bool,
    rtt: Duration,
    tally: &Mutex<Tally>,
) -> Duration {
    let store = MemoryStore::new();
    Context::new(store.clone())
        .save(&mut Counter {
            id: "hot".into(),
            count: 0,
            version: None,
        })
        .await
        .expect("seed the counter");
    let shared = Context::new(Arc::new(Writer {
        store: store.clone(),
        rtt,
        updates: AtomicU32::new(0),
    }))
    .with_write_combining(true);
    let start = Instant::now();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|_| {
            let ctx = if combining {
                shared.clone()
            } else {
                Context::new(Arc::new(Writer {
                    store: store.clone(),
                    rtt,
                    updates: AtomicU32::new(0),
                }))
            };
            let policy = policy.clone();
            tokio::spawn(async move {
                let mut attempts = Vec::with_capacity(INCREMENTS);
                let mut exhausted = 0;
                for _ in 0..INCREMENTS {
                    let before = ctx.store().updates.load(Ordering::Relaxed);
                    let result = ctx
                        .update_with::<Counter, _, _>("hot", &policy, |c| {
                            c.count += 1;
                            Ok::<_, Infallible>(())
                        })
                        .await;
                    let used = ctx.store().updates.load(Ordering::Relaxed) - before;
                    match result {
                        // Shared by all writers: counted once, at the end.
                        Ok(_) if combining => {}
                        Ok(_) => attempts.push(used),
                        Err(_) => exhausted += 1,
                    }
                }
                (attempts, exhausted)
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("writer task"));
    }
    let elapsed = start.elapsed();
    let mut tally = tally.lock().expect("tally");
    if combining {
        let writes = shared.store().updates.load(Ordering::Relaxed);
        tally.writes += u64::from(writes);
        tally.successes += WRITERS * INCREMENTS;
    }
    for (attempts, exhausted) in results {
        tally.successes += attempts.len();
        tally.attempts.extend(attempts);
        tally.exhausted += exhausted;
    }
    tally.elapsed += elapsed;
    elapsed
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn hot_key(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("runtime");
    for (setting, rtt) in [
        ("memory", Duration::ZERO),
        ("rtt_1ms", Duration::from_millis(1)),
    ] {
        let mut group = c.benchmark_group(format!("hot_key_16_writers/{setting}"));
        group.throughput(Throughput::Elements((WRITERS * INCREMENTS) as u64));
        group.sample_size(10);
        let mut lines = Vec::new();
        for (name, policy, combining) in [
            ("default_policy", RetryPolicy::default(), false),
            ("write_combining", RetryPolicy::default(), true),
            ("naive_no_backoff", naive(), false),
        ] {
            let tally = Mutex::new(Tally::default());
            group.bench_with_input(BenchmarkId::from_parameter(name), &policy, |b, policy| {
                b.to_async(&rt).iter_custom(|iters| {
                    let tally = &tally;
                    async move {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            total += run(policy, combining, rtt, tally).await;
                        }
                        total
                    }
                });
            });
            let mut tally = tally.into_inner().expect("tally");
            tally.attempts.sort_unstable();
            let goodput = tally.successes as f64 / tally.elapsed.as_secs_f64();
            lines.push((name, goodput, tally));
        }
        group.finish();
        let naive_goodput = lines
            .iter()
            .find(|l| l.0 == "naive_no_backoff")
            .map_or(1.0, |l| l.1);
        for (name, goodput, tally) in &lines {
            // A strategy a filter left out ran nothing: no line for it.
            if tally.successes + tally.exhausted == 0 {
                continue;
            }
            if tally.writes > 0 {
                eprintln!(
                    "hot_key {setting} {name}: goodput {goodput:.0} increments/s ({:.2}x naive), {:.2} writes per increment, exhausted {} of {}",
                    goodput / naive_goodput,
                    tally.writes as f64 / tally.successes as f64,
                    tally.exhausted,
                    tally.successes + tally.exhausted,
                );
                continue;
            }
            eprintln!(
                "hot_key {setting} {name}: goodput {goodput:.0} increments/s ({:.2}x naive), attempts per success p50 {} p99 {} max {}, exhausted {} of {}",
                goodput / naive_goodput,
                percentile(&tally.attempts, 50.0),
                percentile(&tally.attempts, 99.0),
                tally.attempts.last().copied().unwrap_or(0),
                tally.exhausted,
                tally.successes + tally.exhausted,
            );
        }
    }
}

criterion_group!(benches, hot_key);
criterion_main!(benches);

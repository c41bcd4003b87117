//! Paging through a 1,000-item partition in pages of 100: optimist's `query` beside
//! the bare driver sending the same script (`EVALSHA` of `query.lua` on the same
//! connection, its arguments spelled by hand, each page continuing after the last sort
//! part of the one before). The driver is measured twice: bare (the reply left as
//! the driver's `redis::Value`) and with every item's JSON, version and key decoded,
//! which a caller that wants the items has to do and optimist does. The difference is
//! optimist's own cost: the engine (validation, cursor, span), key spelling and reply
//! decoding. Goal: optimist at >= 0.9x the driver's throughput.
//!
//! Needs `OPTIMIST_REDIS_URL` (scripts/services/redis.sh); without it, prints a line
//! and measures nothing. Ratios: see backend-redis/README.md.

#![allow(clippy::panic)] // a bench with a broken setup has nothing to measure

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use optimist_core::{Key, Operation, QueryOptions, SortRange, VersionedStore};
use optimist_redis::RedisConnection;
use optimist_redis::{Prefix, RedisStore};
use serde_json::{Value, json};

const ITEMS: usize = 1000;
const PAGE: usize = 100;
const PARTITION: &str = "customer-42";

fn value(i: usize) -> Value {
    json!({"order": i, "items": [{"sku": "a-1", "n": 2}, {"sku": "b-7", "n": 1}], "total": 31.5})
}

/// The bare driver: `query.lua` by its SHA1, keys and bounds spelled by hand.
struct Raw {
    conn: RedisConnection,
    sha: String,
    index: Vec<u8>,
    base: Vec<u8>,
}

impl Raw {
    /// One page after `after` (the first page for `None`).
    async fn page(&self, after: Option<&[u8]>) -> redis::Value {
        let min = match after {
            Some(sort) => [b"(", sort].concat(),
            None => b"(".to_vec(),
        };
        let mut conn = self.conn.clone();
        redis::cmd("EVALSHA")
            .arg(&self.sha)
            .arg(1)
            .arg(&self.index)
            .arg(&self.base)
            .arg("asc")
            .arg(min)
            .arg("+")
            .arg(PAGE)
            .query_async(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("raw page: {e}"))
    }

    /// Every page; `decode` also turns each item into its key, JSON value and version.
    /// Answers how many items came.
    async fn all(&self, decode: bool) -> usize {
        let mut after: Option<Vec<u8>> = None;
        let mut count = 0;
        loop {
            let reply = self.page(after.as_deref()).await;
            let parts: Vec<redis::Value> = redis::from_redis_value(reply).unwrap_or_default();
            let mut parts = parts.into_iter();
            let position: Vec<Vec<u8>> = parts
                .next()
                .and_then(|p| redis::from_redis_value(p).ok())
                .unwrap_or_default();
            for entry in parts {
                count += 1;
                if decode {
                    drop(decode_entry(entry));
                }
            }
            match position.into_iter().next() {
                Some(last) => after = Some(last),
                None => return count,
            }
        }
    }
}

/// An entry `{sort, version, token, json}` as a caller would decode it.
fn decode_entry(entry: redis::Value) -> Option<(Key, Value, u64)> {
    let fields: Vec<Vec<u8>> = redis::from_redis_value(entry).ok()?;
    let sort = String::from_utf8(fields.first()?.clone()).ok()?;
    let version = std::str::from_utf8(fields.get(1)?).ok()?.parse().ok()?;
    let json = serde_json::from_slice(fields.get(3)?).ok()?;
    Some((Key::with_sort(PARTITION, sort), json, version))
}

/// Every page through optimist; answers how many items came.
async fn optimist_all(store: &RedisStore) -> usize {
    let mut cursor = None;
    let mut count = 0;
    loop {
        let page = store
            .query(
                PARTITION,
                SortRange::All,
                QueryOptions::new().limit(PAGE).cursor(cursor),
            )
            .await
            .unwrap_or_else(|e| panic!("query: {e}"));
        count += page.items.len();
        match page.next {
            Some(next) => cursor = Some(next),
            None => return count,
        }
    }
}

fn main() {
    let Ok(url) = std::env::var("OPTIMIST_REDIS_URL") else {
        println!(
            "skipping the Redis paging bench: OPTIMIST_REDIS_URL is not set (scripts/services/redis.sh starts a server)"
        );
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let prefix = format!("bench-pages-{}", std::process::id());
    let store = rt
        .block_on(
            RedisStore::builder()
                .url(url)
                .prefix(prefix.clone())
                .build(),
        )
        .unwrap_or_else(|e| panic!("cannot reach the bench server: {e}"));
    rt.block_on(async {
        for i in 0..ITEMS {
            let key = Key::with_sort(PARTITION, format!("order-{i:05}"));
            store
                .put(&key, value(i))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
    });
    let prefix = Prefix::new(prefix).unwrap_or_else(|e| panic!("{e}"));
    let source = optimist_redis::lua_source(Operation::Query).unwrap_or_default();
    let raw = Raw {
        conn: store.connection(),
        sha: redis::Script::new(source).get_hash().to_string(),
        index: prefix.index_key(PARTITION),
        base: prefix.redis_key(&Key::new(PARTITION)),
    };
    // Both sides read the same thing.
    assert_eq!(rt.block_on(optimist_all(&store)), ITEMS);
    assert_eq!(rt.block_on(raw.all(true)), ITEMS);

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("query_1000_items_pages_of_100");
    group.bench_function(BenchmarkId::new("optimist", "query"), |b| {
        b.to_async(&rt).iter(|| optimist_all(&store))
    });
    group.bench_function(BenchmarkId::new("raw", "bare"), |b| {
        b.to_async(&rt).iter(|| raw.all(false))
    });
    group.bench_function(BenchmarkId::new("raw", "decoded"), |b| {
        b.to_async(&rt).iter(|| raw.all(true))
    });
    group.finish();
    c.final_summary();

    // `cargo test --all-targets` runs this binary without `--bench` to check that it
    // works once; the paired rounds are for `cargo bench` only.
    if std::env::args().any(|arg| arg == "--bench") {
        paired(&rt, &store, &raw);
    }
}

/// Ratios measured side by side: each round times a batch of full pagings on each
/// side, the order rotated every round, so load from other processes hits all alike.
/// Ratio = driver time / optimist time: optimist's throughput as a fraction of the
/// driver's. Prints the median over rounds.
fn paired(rt: &tokio::runtime::Runtime, store: &RedisStore, raw: &Raw) {
    let rounds: usize = std::env::var("OPTIMIST_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(21);
    const BATCH: usize = 5;
    let time = |side: u8| {
        rt.block_on(async {
            let start = Instant::now();
            for _ in 0..BATCH {
                match side {
                    0 => drop(optimist_all(store).await),
                    1 => drop(raw.all(false).await),
                    _ => drop(raw.all(true).await),
                }
            }
            start.elapsed()
        })
    };
    let mut bare = Vec::with_capacity(rounds);
    let mut decoded = Vec::with_capacity(rounds);
    let mut optimist_total = Duration::ZERO;
    for round in 0..rounds {
        let mut times = [Duration::ZERO; 3];
        for step in 0..3 {
            let side = (round + step) % 3;
            times[side] = time(side as u8);
        }
        optimist_total += times[0];
        bare.push(times[1].as_secs_f64() / times[0].as_secs_f64());
        decoded.push(times[2].as_secs_f64() / times[0].as_secs_f64());
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    let (b, b_low, b_high) = median(bare);
    let (d, d_low, d_high) = median(decoded);
    let per_paging = optimist_total / (rounds * BATCH) as u32;
    println!(
        "\npaired optimist/driver throughput ratios, paging {ITEMS} items in pages of {PAGE}, {rounds} rounds of {BATCH} pagings (1.0 = no overhead; goal >= 0.9):"
    );
    println!("  vs bare driver:          median {b:.3} (range {b_low:.3}..{b_high:.3})");
    println!("  vs driver + JSON decode: median {d:.3} (range {d_low:.3}..{d_high:.3})");
    println!("  optimist: {per_paging:?} per paging of {ITEMS} items");
}

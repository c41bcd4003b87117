//! Redis's part of BENCHMARKS.md: optimist beside the bare driver sending the store's
//! own Lua scripts (`EVALSHA`, the same keys and arguments, a fresh write token each)
//! on as many connections as the store's pool, with its configuration, on the same
//! items of one server (see `optimist-bench-report`). Both sides decode what a caller
//! needs: a read's and a refusal's item, its JSON value included. Run by
//! `scripts/bench-report`; alone: `OPTIMIST_REDIS_URL=... cargo bench -p
//! optimist-redis --bench report`.

#![allow(missing_docs)] // a bench's items are not a public API
#![allow(clippy::panic)] // a bench with a broken setup has nothing to measure

mod raw;

use std::sync::Arc;

use async_trait::async_trait;
use optimist_bench_report::{Optimist, Report, Subject, item_name, item_value};
use optimist_redis::RedisStore;
use raw::{Raw, decode_item};

#[async_trait]
impl Subject for Raw {
    async fn get(&self, n: u64) -> bool {
        let reply = self.read(&self.key(&item_name(n))).await;
        decode_item(reply, 0).is_some()
    }

    async fn update(&self, n: u64, expected: u64) -> Result<u64, u64> {
        let json = serde_json::to_vec(&item_value()).unwrap_or_default();
        let reply = Raw::update(self, &item_name(n), expected, &json).await;
        // `{applied, previous...}`, or `{refused, version, token, json}`.
        let applied = matches!(&reply, redis::Value::Array(parts)
            if matches!(parts.first(), Some(redis::Value::BulkString(s)) if s == b"applied"));
        if applied {
            return Ok(expected + 1);
        }
        Err(decode_item(reply, 1).map_or(0, |(_, version, _)| version))
    }

    async fn fill(&self, from: u64, to: u64) {
        let json = serde_json::to_vec(&item_value()).unwrap_or_default();
        Raw::fill(self, from, to, item_name, &json).await;
    }
}

fn main() {
    let Some(report) = Report::from_env("redis") else {
        return;
    };
    let Ok(url) = std::env::var("OPTIMIST_REDIS_URL") else {
        println!(
            "skipping the Redis report: OPTIMIST_REDIS_URL is not set (scripts/services/redis.sh starts a server)"
        );
        return;
    };
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("cannot build a tokio runtime");
        return;
    };
    let prefix = format!("report-{}", std::process::id());
    runtime.block_on(async {
        let store = RedisStore::builder()
            .url(url.clone())
            .prefix(prefix.clone())
            .build()
            .await
            .unwrap_or_else(|e| panic!("cannot reach the bench server: {e}"));
        let raw = Raw::connect(&url, &prefix)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the bench server: {e}"));
        let optimist = Arc::new(Optimist::new(store, item_value));
        report.run(optimist, Arc::new(raw)).await;
        // The items are left to the server, which scripts/bench-report stops.
    });
}

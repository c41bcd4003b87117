//! The memory store's part of BENCHMARKS.md: optimist beside a bare `Mutex<HashMap>`
//! doing the same compare-and-swap (see `optimist-bench-report`). Run by
//! `scripts/bench-report`; alone: `cargo bench -p optimist-memory --bench report`.

#![allow(missing_docs)] // a bench's items are not a public API

mod bare;

use std::sync::Arc;

use async_trait::async_trait;
use bare::Bare;
use optimist_bench_report::{Optimist, Report, Subject, item_name};
use optimist_core::Key;
use optimist_memory::MemoryStore;
use serde_json::{Value, json};

fn value() -> Value {
    json!({"title": "Dune", "author": "Frank Herbert", "copies": 3, "tags": ["sf", "classic"]})
}

#[async_trait]
impl Subject for Bare {
    async fn get(&self, n: u64) -> bool {
        Bare::get(self, &Key::new(item_name(n))).is_some()
    }

    async fn update(&self, n: u64, expected: u64) -> Result<u64, u64> {
        Bare::update(self, &Key::new(item_name(n)), expected, value())
            .map_err(|current| current.map_or(0, |(_, version)| version))
    }

    async fn fill(&self, from: u64, to: u64) {
        for n in from..to {
            self.insert(Key::new(item_name(n)), value());
        }
    }
}

fn main() {
    let Some(report) = Report::from_env("memory") else {
        return;
    };
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("cannot build a tokio runtime");
        return;
    };
    let optimist = Arc::new(Optimist::new(MemoryStore::new(), value));
    runtime.block_on(
        report
            .separate_storage()
            .run(optimist, Arc::new(Bare::default())),
    );
}

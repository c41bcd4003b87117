//! The memory store's part of BENCHMARKS.md: optimist beside a bare `Mutex<HashMap>`
//! doing the same compare-and-swap (see `optimist-bench-report`). Run by
//! `scripts/bench-report`; alone: `cargo bench -p optimist-memory --bench report`.

#![allow(missing_docs)] // a bench's items are not a public API

mod bare;

use std::sync::Arc;

use async_trait::async_trait;
use bare::Bare;
use optimist_bench_report::{Optimist, Report, Subject, item_name, item_value};
use optimist_core::Key;
use optimist_memory::MemoryStore;

#[async_trait]
impl Subject for Bare {
    async fn get(&self, n: u64) -> bool {
        Bare::get(self, &Key::new(item_name(n))).is_some()
    }

    async fn update(&self, n: u64, expected: u64) -> Result<u64, u64> {
        Bare::update(self, &Key::new(item_name(n)), expected, item_value())
            .map_err(|current| current.map_or(0, |(_, version)| version))
    }

    async fn fill(&self, from: u64, to: u64) {
        for n in from..to {
            self.insert(Key::new(item_name(n)), item_value());
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
    let optimist = Arc::new(Optimist::new(MemoryStore::new(), item_value));
    runtime.block_on(
        report
            .separate_storage()
            .run(optimist, Arc::new(Bare::default())),
    );
}

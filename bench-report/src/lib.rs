//! # optimist-bench-report
//!
//! One bench shape for every backend, so that `BENCHMARKS.md` answers the same
//! questions for each: optimist beside the backend's raw driver doing the same
//! statements, in interleaved rounds of one run.
//!
//! - clients: 1 and 16 concurrent clients (tokio tasks) doing `get`, `update` (each
//!   client its own item) and a conflicting update (all clients on one item, at a stale
//!   version, refused with the current item): ops/s, p50 and p99 latency, and the
//!   process's CPU time per call;
//! - sizes: the cost of one `get` and one `update` on a random item of a store
//!   holding 1k, 100k or 1M items.
//!
//! A backend's `benches/report.rs` implements [`Subject`] for its raw driver, wraps its
//! store in [`Optimist`], and calls [`Report::run`]. The tables go to the file named by
//! `OPTIMIST_BENCH_REPORT` (appended), or to stdout.
//!
//! The same benches also count instructions per call (`scripts/instructions`, under
//! valgrind): with `OPTIMIST_COUNT=side,workload,clients,calls` set, [`Report::run`]
//! makes that many calls on one side and writes no table.

mod clients;
mod count;
mod measure;
mod optimist;
mod report;
mod sizes;
mod subject;

pub use optimist::Optimist;
pub use report::Report;
pub use subject::{Subject, item_name, item_value};

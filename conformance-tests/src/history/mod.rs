//! Concurrent histories of a key-value store: generated ([`plan`](fn@plan)), run against a store
//! with every call's start and answer stamped from one global atomic counter
//! ([`run_plan`]), and checked for linearizability against the [`model`](crate::model)
//! (contract R13), with `Indeterminate` calls treated as maybe applied.
//!
//! ```
//! use std::sync::Arc;
//! use optimist_conformance::history::{check_history, plan, run_plan, PlanOptions};
//! use optimist_conformance::rng::SplitMix64;
//! use optimist_core::Key;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = Arc::new(optimist_memory::MemoryStore::new());
//! let plan = plan(&mut SplitMix64::new(42), &PlanOptions::default());
//! let keys: Vec<Key> = (0..plan.keys).map(|i| Key::new(format!("doc-k{i}"))).collect();
//! let history = run_plan(store, keys, &plan).await.unwrap();
//! assert!(check_history(&history, plan.keys).is_ok());
//! # });
//! ```

mod exec;
mod plan;
mod report;
mod run;

pub use exec::{KvModel, Observed, execute, item_of, value_for, value_id};
pub use plan::{HistoryPlan, PlanOptions, plan};
pub use report::{HistoryFailure, check_history, check_history_from};
pub use run::{Recorded, run_plan};

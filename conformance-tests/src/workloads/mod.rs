//! Workloads for a networked backend under injected network faults: a store built as
//! a user builds it, pointed at a [`FaultProxy`] in front of its server, runs
//! concurrent clients while the proxy drops answers, answers errors, holds answers
//! past the client's timeout, refuses connections and cuts them; then the proxy heals
//! and the workload reads what was stored and compares it with what every call
//! returned (contract R12, R13, R14):
//!
//! - [`counters`]: clients call `update_with` on a few keys, each call appending a
//!   unique id to the item, so a change applied twice shows as a duplicated id;
//! - [`transfers`]: clients move amounts between accounts in transactions, each
//!   transfer recorded on both accounts, the total kept;
//! - [`histories`]: generated concurrent histories of every operation, checked by the
//!   linearizability checker, an `Indeterminate` call taken as maybe applied at any
//!   time after its start.
//!
//! Each returns a report with its figures (calls, faults per kind, lost, duplicated,
//! late, false conflicts, `Indeterminate` calls) and the broken promises, if any;
//! the test prints the report and asserts that the list of problems is empty.
//!
//! ```
//! use std::sync::Arc;
//! use optimist_conformance::network::{FaultProxy, FaultRates};
//! use optimist_conformance::workloads::{counters, Workload};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // A networked store is built as usual, pointed at `proxy.address()` instead of
//! // its server. The memory store of this example has no server: nothing goes
//! // through the proxy, so no fault reaches it.
//! let proxy = FaultProxy::start("127.0.0.1:6379").await.map_err(|e| e.to_string())?;
//! let store = Arc::new(optimist_memory::MemoryStore::new());
//! let faults = FaultRates { drop_answer: 30, ..FaultRates::none() };
//! let workload = Workload { clients: 2, calls: 5, ..Workload::new(7, faults) };
//! let report = counters(store, &proxy, &workload).await?;
//! println!("{report}");
//! assert!(report.problems.is_empty(), "{report}");
//! assert_eq!(report.figures.ok, 10);
//! # Ok::<(), String>(())
//! # }).unwrap();
//! ```
//!
//! [`FaultProxy`]: crate::network::FaultProxy

mod counters;
mod expect;
mod histories;
mod report;
mod snapshot;
mod transfers;

pub use counters::counters;
pub use expect::{
    expect_counters_exactly_once, expect_linearizable_histories, expect_transfers_whole_and_once,
};
pub use histories::{HistoryReport, histories};
pub use report::{Figures, Report};
pub use transfers::transfers;

use std::time::Duration;

use crate::network::FaultRates;

/// The size of a workload and the faults it runs under.
///
/// ```
/// use optimist_conformance::network::FaultRates;
/// use optimist_conformance::workloads::Workload;
/// let workload = Workload { clients: 4, ..Workload::new(1, FaultRates::none()) };
/// assert_eq!(workload.clients, 4);
/// ```
#[derive(Clone, Debug)]
pub struct Workload {
    /// Seeds the faults and the clients' choices.
    pub seed: u64,
    /// Concurrent clients.
    pub clients: usize,
    /// Calls each client makes (counters: increments; transfers: transfers;
    /// histories: histories run one after the other).
    pub calls: usize,
    /// Keys the calls share (counters, accounts; histories use 3).
    pub keys: usize,
    /// The faults the proxy injects while the clients run.
    pub faults: FaultRates,
    /// How long to wait, once every call returned and the proxy healed, between the
    /// two final reads that must agree (a write landing in between is late).
    pub settle: Duration,
}

impl Workload {
    /// 8 clients of 20 calls on 3 keys, a 1 s settling pause.
    ///
    /// ```
    /// use optimist_conformance::workloads::Workload;
    /// let w = Workload::new(7, optimist_conformance::network::FaultRates::none());
    /// assert_eq!((w.clients, w.calls, w.keys), (8, 20, 3));
    /// ```
    pub fn new(seed: u64, faults: FaultRates) -> Self {
        Self {
            seed,
            clients: 8,
            calls: 20,
            keys: 3,
            faults,
            settle: Duration::from_secs(1),
        }
    }
}

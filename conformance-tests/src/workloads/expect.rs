//! The verdict every backend's fault-workload test gives: the workload ran, the proxy
//! injected faults (a run without any proves nothing), and no promise was broken.
//! Each prints its report, so `--nocapture` shows the figures.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use optimist_core::VersionedStore;

use super::{HistoryReport, Report, Workload, counters, histories, transfers};
use crate::network::FaultProxy;

/// What the verdict needs of a workload's report.
trait Verdict: Display {
    /// How many faults the proxy injected.
    fn faults(&self) -> u64;
    /// Whether every promise held.
    fn kept(&self) -> bool;
}

impl Verdict for Report {
    fn faults(&self) -> u64 {
        self.figures.faults.faults()
    }
    fn kept(&self) -> bool {
        self.problems.is_empty()
    }
}

impl Verdict for HistoryReport {
    fn faults(&self) -> u64 {
        self.faults.faults()
    }
    fn kept(&self) -> bool {
        self.problem.is_none()
    }
}

#[allow(clippy::panic)] // a test's verdict: it fails by panicking
async fn expect<R: Verdict>(
    backend: &str,
    workload: &str,
    run: impl Future<Output = Result<R, String>>,
) {
    let started = Instant::now();
    let report = run
        .await
        .unwrap_or_else(|why| panic!("{backend}: the {workload} workload could not run: {why}"));
    println!("{backend} {report}; took {:.1?}", started.elapsed());
    assert!(
        report.faults() > 0,
        "{backend}: no fault was injected: {report}"
    );
    assert!(report.kept(), "{backend}: {report}");
}

/// Runs [`counters`] on `store` behind `proxy`, prints the report under `backend`'s
/// name, and fails unless faults were injected and every change landed exactly once.
pub async fn expect_counters_exactly_once<S: VersionedStore + 'static>(
    backend: &str,
    store: Arc<S>,
    proxy: &FaultProxy,
    workload: &Workload,
) {
    expect(backend, "counters", counters(store, proxy, workload)).await;
}

/// Runs [`transfers`] on `store` behind `proxy`, prints the report under `backend`'s
/// name, and fails unless faults were injected, the total was kept and every transfer
/// landed once.
pub async fn expect_transfers_whole_and_once<S: VersionedStore + 'static>(
    backend: &str,
    store: Arc<S>,
    proxy: &FaultProxy,
    workload: &Workload,
) {
    expect(backend, "transfers", transfers(store, proxy, workload)).await;
}

/// Runs [`histories`] on `store` behind `proxy`, prints the report under `backend`'s
/// name, and fails unless faults were injected and the history is linearizable.
pub async fn expect_linearizable_histories<S: VersionedStore + 'static>(
    backend: &str,
    store: Arc<S>,
    proxy: &FaultProxy,
    workload: &Workload,
) {
    expect(backend, "histories", histories(store, proxy, workload)).await;
}

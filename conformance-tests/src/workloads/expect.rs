//! The verdict every backend's fault-workload test gives: the workload ran, the proxy
//! injected faults (a run without any proves nothing), and no promise was broken.
//! Each prints its report, so `--nocapture` shows the figures.

use std::sync::Arc;
use std::time::Instant;

use optimist_core::VersionedStore;

use super::{Workload, counters, histories, transfers};
use crate::network::FaultProxy;

/// Runs [`counters`] on `store` behind `proxy`, prints the report under `backend`'s
/// name, and fails unless faults were injected and every change landed exactly once.
#[allow(clippy::panic)] // a test's verdict: it fails by panicking
pub async fn expect_counters_exactly_once<S: VersionedStore + 'static>(
    backend: &str,
    store: Arc<S>,
    proxy: &FaultProxy,
    workload: &Workload,
) {
    let started = Instant::now();
    let report = match counters(store, proxy, workload).await {
        Ok(report) => report,
        Err(why) => panic!("{backend}: the counters workload could not run: {why}"),
    };
    println!("{backend} {report}; took {:.1?}", started.elapsed());
    assert!(
        report.figures.faults.faults() > 0,
        "{backend}: no fault was injected: {report}"
    );
    assert!(report.problems.is_empty(), "{backend}: {report}");
}

/// Runs [`transfers`] on `store` behind `proxy`, prints the report under `backend`'s
/// name, and fails unless faults were injected, the total was kept and every transfer
/// landed once.
#[allow(clippy::panic)] // a test's verdict: it fails by panicking
pub async fn expect_transfers_whole_and_once<S: VersionedStore + 'static>(
    backend: &str,
    store: Arc<S>,
    proxy: &FaultProxy,
    workload: &Workload,
) {
    let started = Instant::now();
    let report = match transfers(store, proxy, workload).await {
        Ok(report) => report,
        Err(why) => panic!("{backend}: the transfers workload could not run: {why}"),
    };
    println!("{backend} {report}; took {:.1?}", started.elapsed());
    assert!(
        report.figures.faults.faults() > 0,
        "{backend}: no fault was injected: {report}"
    );
    assert!(report.problems.is_empty(), "{backend}: {report}");
}

/// Runs [`histories`] on `store` behind `proxy`, prints the report under `backend`'s
/// name, and fails unless faults were injected and the history is linearizable.
#[allow(clippy::panic)] // a test's verdict: it fails by panicking
pub async fn expect_linearizable_histories<S: VersionedStore + 'static>(
    backend: &str,
    store: Arc<S>,
    proxy: &FaultProxy,
    workload: &Workload,
) {
    let started = Instant::now();
    let report = match histories(store, proxy, workload).await {
        Ok(report) => report,
        Err(why) => panic!("{backend}: the histories workload could not run: {why}"),
    };
    println!("{backend} {report}; took {:.1?}", started.elapsed());
    assert!(
        report.faults.faults() > 0,
        "{backend}: no fault was injected: {report}"
    );
    assert!(report.problem.is_none(), "{backend}: {report}");
}

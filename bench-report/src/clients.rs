//! Concurrent clients: each a tokio task calling one subject for one window.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use crate::Subject;
use crate::measure::{Figures, Window};
use crate::report::Versions;

/// What the clients do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Workload {
    /// Client `c` reads item `c`.
    Get,
    /// Client `c` updates item `c` at its current version.
    Update,
    /// Every client updates item [`Workload::CONFLICT_ITEM`] at
    /// [`Workload::STALE_VERSION`]: every call is refused with the current item.
    Conflict,
}

impl Workload {
    /// The item every client of [`Workload::Conflict`] writes to.
    pub(crate) const CONFLICT_ITEM: u64 = 0;

    /// The version the conflicts ask for, one their item has left behind (the report
    /// moves it on after the fill), as a client that lost a race holds. Not 0: that asks
    /// for an item written without a version (contract R3), another condition.
    pub(crate) const STALE_VERSION: u64 = 1;

    /// One call of this workload by a client on `item`; `expected` is the version the
    /// client last saw, moved on by an update. Whether the call answered as the
    /// workload expects: the item read, the update applied, the conflict refused with
    /// the current version (an error instead would be measured as if it were a call).
    pub(crate) async fn call(self, subject: &dyn Subject, item: u64, expected: &mut u64) -> bool {
        match self {
            Workload::Get => black_box(subject.get(item).await),
            Workload::Update => match subject.update(item, *expected).await {
                Ok(version) => {
                    *expected = version;
                    true
                }
                Err(version) => {
                    *expected = version;
                    false
                }
            },
            Workload::Conflict => {
                let refused = subject
                    .update(Self::CONFLICT_ITEM, Self::STALE_VERSION)
                    .await;
                matches!(black_box(refused), Err(current) if current > Self::STALE_VERSION)
            }
        }
    }

    /// Its name in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::Get => "get",
            Workload::Update => "update",
            Workload::Conflict => "conflicting update",
        }
    }
}

/// Runs `count` clients of `workload` on `subject` for `window`; client `c` owns item
/// `c + 1` (item 0 is the conflicts' item).
pub(crate) async fn clients(
    subject: Arc<dyn Subject>,
    workload: Workload,
    count: u64,
    window: Window,
    versions: &Versions,
) -> Figures {
    let start = Instant::now();
    let tasks: Vec<_> = (0..count)
        .map(|client| {
            let subject = Arc::clone(&subject);
            let item = client + 1;
            let versions = versions.clone();
            tokio::spawn(async move {
                let mut expected = versions.get(item);
                let mut figures = Figures::default();
                for start in window.starts() {
                    // The report's tables count every call; the counting run checks
                    // the answers (see `Count::run`).
                    let _ = workload.call(subject.as_ref(), item, &mut expected).await;
                    figures.record(start.elapsed());
                }
                versions.set(item, expected);
                figures
            })
        })
        .collect();
    let mut all = Figures::default();
    let mut done = Vec::with_capacity(tasks.len());
    for task in tasks {
        if let Ok(figures) = task.await {
            done.push(figures);
        }
    }
    all.ran_for(start.elapsed());
    for figures in &done {
        all.merge(figures);
    }
    all
}

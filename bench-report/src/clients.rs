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
                    match workload {
                        Workload::Get => {
                            black_box(subject.get(item).await);
                        }
                        Workload::Update => {
                            expected = match subject.update(item, expected).await {
                                Ok(version) | Err(version) => version,
                            };
                        }
                        Workload::Conflict => {
                            let _ = black_box(
                                subject
                                    .update(Workload::CONFLICT_ITEM, Workload::STALE_VERSION)
                                    .await,
                            );
                        }
                    }
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

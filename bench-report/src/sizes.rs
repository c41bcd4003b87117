//! The cost of one call as the store grows: one client, a random item each call.

use std::hint::black_box;
use std::sync::Arc;

use std::time::Instant;

use rand::{Rng, SeedableRng};

use crate::Subject;
use crate::clients::Workload;
use crate::measure::{Figures, Window};
use crate::report::Versions;

/// One client calling `workload` (`Get` or `Update`) on random items of `0..items`
/// for `window`.
pub(crate) async fn sizes(
    subject: Arc<dyn Subject>,
    workload: Workload,
    items: u64,
    window: Window,
    versions: &Versions,
) -> Figures {
    let mut figures = Figures::default();
    let mut picks = rand::rngs::StdRng::from_entropy();
    let started = Instant::now();
    for _ in window.starts() {
        let item = picks.gen_range(0..items);
        let expected = versions.get(item);
        // Timed from here: the pick and the version lookup are the harness's.
        let start = Instant::now();
        match workload {
            Workload::Get => {
                black_box(subject.get(item).await);
            }
            _ => {
                let now = match subject.update(item, expected).await {
                    Ok(version) | Err(version) => version,
                };
                figures.record(start.elapsed());
                versions.set(item, now);
                continue;
            }
        }
        figures.record(start.elapsed());
    }
    figures.ran_for(started.elapsed());
    figures
}

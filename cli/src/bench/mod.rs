//! `optimist bench URL`: a workload from N concurrent clients for a while, on a fresh
//! table or prefix removed at the end; throughput, latency, attempts and conflicts.

mod report;
mod workload;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::{BenchArgs, Workload};
use crate::check::runtime;
use crate::exit::{self, Failure};
use crate::io::Io;
use crate::namespace::Fresh;
use crate::target::Target;

pub(crate) use report::BenchReport;
pub(crate) use workload::Tally;

/// Runs the benchmark and prints its report; [`exit::FAILED`] when an operation
/// failed or the counts do not add up.
pub(crate) fn run(target: &Target, args: &BenchArgs, io: &mut Io) -> Result<u8, Failure> {
    let keys = args.keys.unwrap_or(match args.workload {
        Workload::Get => 100,
        Workload::Conflict => 4,
        Workload::Update => args.clients,
        Workload::HotKey => 1,
    });
    let fresh = Fresh::new(target, "bench");
    let runtime = runtime()?;
    let outcome = runtime.block_on(async {
        let store = fresh.make().await.map_err(|err| Failure::setup(&err))?;
        let plan = workload::Plan {
            workload: args.workload,
            clients: args.clients,
            keys,
        };
        plan.prepare(&*store).await.map_err(|err| {
            Failure::failed(format!("preparing the items: {}", exit::one_line(&err)))
        })?;
        let done = Arc::new(AtomicU64::new(0));
        let progress = progress_bar(io, args.duration);
        let ticker = {
            let progress = progress.clone();
            let done = Arc::clone(&done);
            let started = Instant::now();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    progress.set_position(started.elapsed().as_millis() as u64);
                    progress.set_message(format!("{} ops", done.load(Ordering::Relaxed)));
                }
            })
        };
        let started = Instant::now();
        let tally = plan.run(Arc::clone(&store), args.duration, done).await;
        let elapsed = started.elapsed();
        ticker.abort();
        progress.finish_and_clear();
        let consistency = plan.verify(&*store, &tally).await;
        Ok::<_, Failure>(BenchReport::new(
            fresh.describe(),
            &plan,
            args.duration,
            elapsed,
            tally,
            consistency,
        ))
    });
    let removal = runtime.block_on(fresh.remove_all());
    // After a store that could not be made, its removal's echo of the same
    // failure is noise.
    let made = !matches!(&outcome, Err(failure) if failure.code == exit::BAD_INPUT);
    for failure in removal.failures.iter().filter(|_| made) {
        io.err(&format!("optimist: warning: {failure}\n"));
    }
    let report = outcome?;
    io.out(&if args.json {
        report.json()
    } else {
        report.table()
    });
    Ok(if report.ok() { exit::OK } else { exit::FAILED })
}

fn progress_bar(io: &Io, duration: Duration) -> ProgressBar {
    let target = if io.progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(duration.as_millis() as u64), target);
    if let Ok(style) = ProgressStyle::with_template("[{bar:30}] {elapsed}/{duration} {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

//! The whole report of one backend: the client runs, then the size runs, each pair in
//! interleaved rounds, written as markdown tables.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::Subject;
use crate::clients::{Workload, clients};
use crate::count::Count;
use crate::measure::{Figures, Window, process_cpu};
use crate::sizes::sizes;

/// The version each item is at, as the last call on it left it (1 after a fill).
#[derive(Clone, Debug, Default)]
pub(crate) struct Versions(Arc<Mutex<HashMap<u64, u64>>>);

impl Versions {
    pub(crate) fn get(&self, item: u64) -> u64 {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&item).copied().unwrap_or(1)
    }

    pub(crate) fn set(&self, item: u64, version: u64) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.insert(item, version);
    }
}

/// What to measure for one backend, read from the environment:
/// `OPTIMIST_BENCH_WINDOW_MS` (each side's window per round, default 300),
/// `OPTIMIST_BENCH_ROUNDS` (default 13), `OPTIMIST_BENCH_SIZES` (store sizes, default
/// `1000,100000,1000000`), `OPTIMIST_BENCH_REPORT` (the file the tables are appended
/// to; stdout without it). With `OPTIMIST_COUNT` (see `scripts/instructions`) it makes a
/// fixed number of calls on one side instead, and writes nothing.
#[derive(Clone, Debug)]
pub struct Report {
    backend: String,
    window: Window,
    rounds: usize,
    sizes: Vec<u64>,
    note: String,
    separate: bool,
    count: Option<Count>,
}

impl Report {
    /// The report of `backend`, or `None` outside `cargo bench` (the test run of the
    /// benches checks that they build, it measures nothing).
    pub fn from_env(backend: &str) -> Option<Self> {
        if !std::env::args().any(|arg| arg == "--bench") {
            println!("{backend} report bench: measures only under `cargo bench`");
            return None;
        }
        let number = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let sizes = std::env::var("OPTIMIST_BENCH_SIZES")
            .ok()
            .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![1_000, 100_000, 1_000_000]);
        Some(Self {
            backend: backend.to_string(),
            window: Window(Duration::from_millis(number(
                "OPTIMIST_BENCH_WINDOW_MS",
                300,
            ))),
            rounds: number("OPTIMIST_BENCH_ROUNDS", 13).max(1) as usize,
            sizes,
            note: String::new(),
            separate: false,
            count: Count::from_env(),
        })
    }

    /// Other store sizes than asked (a backend where filling 1M items is not
    /// practical), with the reason, printed under the table.
    pub fn with_sizes(mut self, sizes: Vec<u64>, why: &str) -> Self {
        self.sizes = sizes;
        self.note = why.to_string();
        self
    }

    /// For a pair that does not share its rows (the memory store beside a bare map):
    /// both sides are filled, and each keeps its own versions.
    pub fn separate_storage(mut self) -> Self {
        self.separate = true;
        self
    }

    /// Fills items `from..to`: through the raw side, or both sides when they do not
    /// share rows.
    async fn fill(&self, optimist: &Arc<dyn Subject>, raw: &Arc<dyn Subject>, from: u64, to: u64) {
        raw.fill(from, to).await;
        if self.separate {
            optimist.fill(from, to).await;
        }
    }

    /// Moves the conflicts' item past [`Workload::STALE_VERSION`] (a fill leaves it
    /// there, or beyond it when the table was filled before).
    async fn leave_stale_version(&self, optimist: &Arc<dyn Subject>, raw: &Arc<dyn Subject>) {
        let item = Workload::CONFLICT_ITEM;
        let _ = raw.update(item, Workload::STALE_VERSION).await;
        if self.separate {
            let _ = optimist.update(item, Workload::STALE_VERSION).await;
        }
    }

    /// Measures `optimist` beside `raw` (the same rows, the same statements) and
    /// writes the tables.
    pub async fn run(self, optimist: Arc<dyn Subject>, raw: Arc<dyn Subject>) {
        let o_versions = Versions::default();
        let versions = (
            o_versions.clone(),
            if self.separate {
                Versions::default()
            } else {
                o_versions
            },
        );
        // Items 0..=16: the conflicts' item and one per client; the conflicts' item
        // then leaves the version its callers ask for.
        self.fill(&optimist, &raw, 0, 17).await;
        self.leave_stale_version(&optimist, &raw).await;
        if let Some(count) = self.count {
            let (subject, versions) = if count.optimist {
                (optimist, &versions.0)
            } else {
                (raw, &versions.1)
            };
            if let Err(why) = count.run(subject, versions).await {
                // scripts/instructions reads a failed run from the exit status.
                eprintln!("{} counting run: {why}", self.backend);
                std::process::exit(1);
            }
            return;
        }
        let mut out = format!("## {}\n\n", self.backend);
        let _ = writeln!(
            out,
            "Concurrent clients ({} rounds of {} ms per side, interleaved):\n",
            self.rounds,
            self.window.0.as_millis()
        );
        out += "| workload | clients | optimist ops/s | raw ops/s | ratio (quartiles) | optimist p50 / p99 | raw p50 / p99 | client CPU per call, optimist / raw |\n";
        out += "|---|---:|---:|---:|---:|---:|---:|---:|\n";
        for workload in [Workload::Get, Workload::Update, Workload::Conflict] {
            for count in [1, 16] {
                let paired = self
                    .pair(&optimist, &raw, &versions, |subject, versions| {
                        clients(subject, workload, count, self.window, versions)
                    })
                    .await;
                out += &row(workload.name(), &count.to_string(), &paired);
            }
        }
        let _ = writeln!(
            out,
            "\nOne client, a random item per call, as the store grows ({} rounds of {} ms per side):\n",
            self.rounds,
            self.window.0.as_millis()
        );
        out += "| operation | items | optimist ops/s | raw ops/s | ratio (quartiles) | optimist p50 / p99 | raw p50 / p99 | client CPU per call, optimist / raw |\n";
        out += "|---|---:|---:|---:|---:|---:|---:|---:|\n";
        let mut filled = 17;
        let mut flat: Vec<(Workload, f64, f64)> = Vec::new();
        for &items in &self.sizes {
            if items > filled {
                self.fill(&optimist, &raw, filled, items).await;
                filled = items;
            }
            for workload in [Workload::Get, Workload::Update] {
                let paired = self
                    .pair(&optimist, &raw, &versions, |subject, versions| {
                        sizes(subject, workload, items, self.window, versions)
                    })
                    .await;
                out += &row(workload.name(), &items.to_string(), &paired);
                flat.push((
                    workload,
                    paired.optimist.ops_per_second(),
                    paired.raw.ops_per_second(),
                ));
            }
        }
        if !self.note.is_empty() {
            let _ = writeln!(out, "\n{}", self.note);
        }
        for workload in [Workload::Get, Workload::Update] {
            let rates: Vec<(f64, f64)> = flat
                .iter()
                .filter(|(w, _, _)| *w == workload)
                .map(|(_, o, r)| (*o, *r))
                .collect();
            if let (Some(first), Some(last)) = (rates.first(), rates.last()) {
                let _ = writeln!(
                    out,
                    "\n{} at the largest size, as a share of its ops/s at the smallest: optimist {:.2}x, raw {:.2}x (goal: optimist within 20%).",
                    workload.name(),
                    last.0 / first.0,
                    last.1 / first.1
                );
            }
        }
        out += "\n";
        emit(&out);
    }

    /// Runs `measure` on each side, `rounds` times, the order swapped every round:
    /// each side's figures summed, and the throughput ratios of the rounds.
    async fn pair<'v, F, Fut>(
        &self,
        optimist: &Arc<dyn Subject>,
        raw: &Arc<dyn Subject>,
        versions: &'v (Versions, Versions),
        measure: F,
    ) -> Paired
    where
        F: Fn(Arc<dyn Subject>, &'v Versions) -> Fut,
        Fut: std::future::Future<Output = Figures>,
    {
        let (mut o, mut r) = (Figures::default(), Figures::default());
        let mut ratios = Vec::with_capacity(self.rounds);
        for round in 0..self.rounds {
            let timed = |subject: &Arc<dyn Subject>, versions: &'v Versions| {
                let calls = measure(Arc::clone(subject), versions);
                async move {
                    let before = process_cpu();
                    let mut figures = calls.await;
                    let after = process_cpu();
                    figures.used_cpu(after.zip(before).and_then(|(a, b)| a.checked_sub(b)));
                    figures
                }
            };
            let (optimist_round, raw_round) = if round % 2 == 0 {
                let o = timed(optimist, &versions.0).await;
                (o, timed(raw, &versions.1).await)
            } else {
                let r = timed(raw, &versions.1).await;
                (timed(optimist, &versions.0).await, r)
            };
            ratios.push(ratio(&optimist_round, &raw_round));
            o.merge(&optimist_round);
            r.merge(&raw_round);
        }
        Paired {
            optimist: o,
            raw: r,
            ratios,
        }
    }
}

/// Both sides' figures over every round, and each round's throughput ratio.
struct Paired {
    optimist: Figures,
    raw: Figures,
    /// optimist ÷ raw ops/s of each round: the two sides ran back to back, so a burst
    /// of load from elsewhere falls on one round's pair, not on one side's total.
    ratios: Vec<f64>,
}

impl Paired {
    /// The median of the rounds' ratios and their quartiles (nearest rank).
    fn ratio(&self) -> (f64, f64, f64) {
        let mut sorted = self.ratios.clone();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let last = sorted.len().saturating_sub(1);
            sorted
                .get((q * last as f64).round() as usize)
                .copied()
                .unwrap_or(f64::NAN)
        };
        (at(0.5), at(0.25), at(0.75))
    }
}

/// optimist ÷ raw ops/s.
fn ratio(o: &Figures, r: &Figures) -> f64 {
    o.ops_per_second() / r.ops_per_second().max(f64::MIN_POSITIVE)
}

/// One table row: the workload, its parameter, both sides' figures and the median of
/// the rounds' throughput ratios with their quartiles (optimist / raw: 1.0 costs
/// nothing over the driver).
fn row(name: &str, parameter: &str, paired: &Paired) -> String {
    let (o, r) = (&paired.optimist, &paired.raw);
    let (median, low, high) = paired.ratio();
    format!(
        "| {name} | {parameter} | {:.0} | {:.0} | {median:.2} ({low:.2}–{high:.2}) | {} / {} | {} / {} | {} / {} |\n",
        o.ops_per_second(),
        r.ops_per_second(),
        micros(o.latency(0.5)),
        micros(o.latency(0.99)),
        micros(r.latency(0.5)),
        micros(r.latency(0.99)),
        cpu(o),
        cpu(r),
    )
}

/// A side's CPU time per call, or "n/a" where the process's could not be read.
fn cpu(figures: &Figures) -> String {
    // Two decimals: an in-process store's call costs well under a microsecond.
    figures.cpu_per_call().map_or_else(
        || "n/a".to_string(),
        |per_call| format!("{:.2} µs", per_call.as_secs_f64() * 1e6),
    )
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// Appends the tables to `OPTIMIST_BENCH_REPORT`, or prints them.
fn emit(tables: &str) {
    let Ok(path) = std::env::var("OPTIMIST_BENCH_REPORT") else {
        print!("{tables}");
        return;
    };
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(tables.as_bytes()));
    if let Err(err) = written {
        eprintln!("cannot append to {path}: {err}; the tables:\n{tables}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paired(ratios: &[f64]) -> Paired {
        Paired {
            optimist: Figures::default(),
            raw: Figures::default(),
            ratios: ratios.to_vec(),
        }
    }

    #[test]
    fn the_ratio_is_the_median_round_with_its_quartiles() {
        // Nine rounds, out of order, one of them hit by a burst of load.
        let (median, low, high) =
            paired(&[0.97, 0.40, 0.99, 0.95, 1.01, 0.96, 0.98, 1.00, 0.94]).ratio();
        assert_eq!((median, low, high), (0.97, 0.95, 0.99));
        assert_eq!(paired(&[0.9]).ratio(), (0.9, 0.9, 0.9));
        assert!(paired(&[]).ratio().0.is_nan());
    }
}

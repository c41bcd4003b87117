//! The report of a benchmark: a table for people, JSON for machines.

use std::time::Duration;

use comfy_table::Table;
use serde_json::json;

use super::Tally;
use super::workload::Plan;
use crate::args::Workload;

/// Everything a run measured.
pub(crate) struct BenchReport {
    store: String,
    workload: Workload,
    clients: u32,
    keys: u32,
    duration: Duration,
    elapsed: Duration,
    tally: Tally,
    consistency: Result<(), String>,
}

impl BenchReport {
    pub(crate) fn new(
        store: String,
        plan: &Plan,
        duration: Duration,
        elapsed: Duration,
        tally: Tally,
        consistency: Result<(), String>,
    ) -> Self {
        Self {
            store,
            workload: plan.workload,
            clients: plan.clients,
            keys: plan.keys,
            duration,
            elapsed,
            tally,
            consistency,
        }
    }

    /// No error, and the store's state matches the counts.
    pub(crate) fn ok(&self) -> bool {
        self.tally.errors == 0 && self.consistency.is_ok()
    }

    fn workload_name(&self) -> &'static str {
        match self.workload {
            Workload::Get => "get",
            Workload::Update => "update",
            Workload::Conflict => "conflict",
            Workload::HotKey => "hot-key",
        }
    }

    fn ops_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.tally.successes as f64 / secs
        } else {
            0.0
        }
    }

    fn attempts_per_success(&self) -> Option<f64> {
        (self.tally.successes > 0).then(|| self.tally.attempts as f64 / self.tally.successes as f64)
    }

    fn percentile_us(&self, q: f64) -> Option<u64> {
        (!self.tally.latency.is_empty()).then(|| self.tally.latency.value_at_quantile(q))
    }

    /// The report as a table.
    pub(crate) fn table(&self) -> String {
        let ms = |us: Option<u64>| {
            us.map_or("-".to_string(), |us| {
                format!("{:.3} ms", us as f64 / 1000.0)
            })
        };
        let mut table = Table::new();
        table.load_preset(comfy_table::presets::ASCII_MARKDOWN);
        table.set_header(["measure", "value"]);
        let rows = [
            ("workload", self.workload_name().to_string()),
            ("clients", self.clients.to_string()),
            ("items", self.keys.to_string()),
            ("duration", format!("{:.2} s", self.elapsed.as_secs_f64())),
            ("operations", self.tally.successes.to_string()),
            ("ops/s", format!("{:.1}", self.ops_per_sec())),
            ("latency p50", ms(self.percentile_us(0.5))),
            ("latency p99", ms(self.percentile_us(0.99))),
            ("latency p99.9", ms(self.percentile_us(0.999))),
            (
                "latency max",
                ms((!self.tally.latency.is_empty()).then(|| self.tally.latency.max())),
            ),
            ("requests", self.tally.attempts.to_string()),
            (
                "attempts per success",
                self.attempts_per_success()
                    .map_or("-".to_string(), |a| format!("{a:.3}")),
            ),
            ("conflicts", self.tally.conflicts.to_string()),
            ("errors", self.tally.errors.to_string()),
            (
                "consistent",
                match &self.consistency {
                    Ok(()) => "yes: the items hold every counted success".to_string(),
                    Err(why) => format!("NO: {why}"),
                },
            ),
        ];
        for (measure, value) in rows {
            table.add_row([measure.to_string(), value]);
        }
        format!("optimist bench: {}\n{table}\n", self.store)
    }

    /// The report as one JSON document; latencies in microseconds.
    pub(crate) fn json(&self) -> String {
        let report = json!({
            "store": self.store,
            "workload": self.workload_name(),
            "clients": self.clients,
            "items": self.keys,
            "duration_ms": self.duration.as_millis() as u64,
            "elapsed_ms": self.elapsed.as_millis() as u64,
            "operations": self.tally.successes,
            "ops_per_sec": self.ops_per_sec(),
            "latency_us": {
                "p50": self.percentile_us(0.5),
                "p99": self.percentile_us(0.99),
                "p99_9": self.percentile_us(0.999),
                "max": (!self.tally.latency.is_empty()).then(|| self.tally.latency.max()),
                "count": self.tally.latency.len(),
            },
            "requests": self.tally.attempts,
            "attempts_per_success": self.attempts_per_success(),
            "conflicts": self.tally.conflicts,
            "errors": self.tally.errors,
            "misses": self.tally.misses,
            "first_error": self.tally.first_error,
            "consistent": self.consistency.is_ok(),
            "inconsistency": self.consistency.as_ref().err(),
        });
        format!(
            "{}\n",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        )
    }
}

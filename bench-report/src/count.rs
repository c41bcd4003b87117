//! The counting run behind `scripts/instructions`: a fixed number of calls on one side,
//! no clock read and no table written, so that valgrind's count of the process's
//! instructions, taken at two numbers of calls, gives each call's cost.
//!
//! Throughput on a machine the client shares with the server and with other jobs
//! moves by 5 to 10% from run to run; an instruction count by under half a percent on
//! the memory store and by a few percent on a networked one (the polls a call takes
//! depend on whether its answer is already there), and the inclusive cost of the
//! store's own functions in callgrind's files not at all.

use std::sync::Arc;

use crate::Subject;
use crate::clients::Workload;
use crate::report::Versions;

/// What one counting run does, read from `OPTIMIST_COUNT` (`side,workload,clients,calls`,
/// for example `optimist,get,16,1000`; the workloads are `get`, `update` and
/// `conflict`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Count {
    /// Whether optimist's side runs (else the raw driver's).
    pub(crate) optimist: bool,
    pub(crate) workload: Workload,
    pub(crate) clients: u64,
    pub(crate) calls: u64,
}

impl Count {
    /// The run `OPTIMIST_COUNT` asks for; `None` without it, or (said on stderr) when it
    /// cannot be read.
    pub(crate) fn from_env() -> Option<Self> {
        let asked = std::env::var("OPTIMIST_COUNT").ok()?;
        let count = Self::parse(&asked);
        if count.is_none() {
            eprintln!(
                "OPTIMIST_COUNT={asked:?}: expected side,workload,clients,calls (optimist|raw, get|update|conflict, two numbers)"
            );
        }
        count
    }

    fn parse(asked: &str) -> Option<Self> {
        let mut fields = asked.split(',').map(str::trim);
        let optimist = match fields.next()? {
            "optimist" => true,
            "raw" => false,
            _ => return None,
        };
        let workload = match fields.next()? {
            "get" => Workload::Get,
            "update" => Workload::Update,
            "conflict" => Workload::Conflict,
            _ => return None,
        };
        let clients = fields.next()?.parse().ok().filter(|&c| c > 0)?;
        let calls = fields.next()?.parse().ok()?;
        fields.next().is_none().then_some(Self {
            optimist,
            workload,
            clients,
            calls,
        })
    }

    /// Makes the calls: `clients` tasks sharing them, client `c` on item `c + 1` as in
    /// the report's client runs (the conflicts all on item 0, at the stale version).
    /// Fails if any call did not answer as its workload expects (a store that errs
    /// would be counted as cheap), or a client task failed.
    pub(crate) async fn run(
        self,
        subject: Arc<dyn Subject>,
        versions: &Versions,
    ) -> Result<(), String> {
        let tasks: Vec<_> = (0..self.clients)
            .map(|client| {
                let subject = Arc::clone(&subject);
                let item = client + 1;
                let versions = versions.clone();
                // The first clients take one more call each when they do not divide
                // evenly: the total is `calls` either way.
                let calls =
                    self.calls / self.clients + u64::from(client < self.calls % self.clients);
                let workload = self.workload;
                tokio::spawn(async move {
                    let mut expected = versions.get(item);
                    let mut unexpected = 0u64;
                    for _ in 0..calls {
                        if !workload.call(subject.as_ref(), item, &mut expected).await {
                            unexpected += 1;
                        }
                    }
                    versions.set(item, expected);
                    unexpected
                })
            })
            .collect();
        let mut unexpected = 0;
        for task in tasks {
            unexpected += task
                .await
                .map_err(|err| format!("a counting client failed: {err}"))?;
        }
        if unexpected > 0 {
            return Err(format!(
                "{unexpected} of {} {} calls did not answer as expected: the count would measure failures",
                self.calls,
                self.workload.name()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_is_read_from_four_fields() {
        assert_eq!(
            Count::parse("optimist,get,16,1000"),
            Some(Count {
                optimist: true,
                workload: Workload::Get,
                clients: 16,
                calls: 1000
            })
        );
        assert_eq!(
            Count::parse("raw, conflict, 1, 0").map(|c| (c.optimist, c.workload)),
            Some((false, Workload::Conflict))
        );
        for wrong in [
            "",
            "optimist,get,16",
            "optimist,get,0,10",
            "both,get,1,10",
            "optimist,scan,1,10",
            "optimist,get,1,10,extra",
        ] {
            assert_eq!(Count::parse(wrong), None, "{wrong:?}");
        }
    }
}

//! The workloads: what each client does, what is counted, and the check that the
//! store's final state matches the counts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use optimist::{Error, Key, VersionedStore};
use rand::Rng;
use serde_json::json;

use crate::args::Workload;

/// What a run does.
pub(crate) struct Plan {
    pub(crate) workload: Workload,
    pub(crate) clients: u32,
    /// Items the get and conflict workloads spread over.
    pub(crate) keys: u32,
}

/// What the clients counted.
pub(crate) struct Tally {
    /// Operations that succeeded: gets that found their item, writes applied.
    pub(crate) successes: u64,
    /// Requests sent: every get, every conditional write (a refused one included).
    pub(crate) attempts: u64,
    /// Writes refused because another client wrote first.
    pub(crate) conflicts: u64,
    /// Requests that failed otherwise (their outcome may be unknown).
    pub(crate) errors: u64,
    /// Gets that found no item (none should).
    pub(crate) misses: u64,
    /// The first error, as an example.
    pub(crate) first_error: Option<String>,
    /// Latency of each successful operation in microseconds, its retries included.
    pub(crate) latency: Histogram<u64>,
}

impl Tally {
    fn new() -> Self {
        Self {
            successes: 0,
            attempts: 0,
            conflicts: 0,
            errors: 0,
            misses: 0,
            first_error: None,
            latency: latency_histogram(),
        }
    }

    fn add(&mut self, other: Tally) {
        self.successes += other.successes;
        self.attempts += other.attempts;
        self.conflicts += other.conflicts;
        self.errors += other.errors;
        self.misses += other.misses;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        let _ = self.latency.add(&other.latency);
    }

    fn error(&mut self, err: &Error) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(crate::exit::one_line(err));
        }
    }

    fn record(&mut self, since: Instant) {
        let micros = u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.latency.saturating_record(micros.max(1));
    }
}

/// 1 µs to 10 minutes, 3 significant digits.
#[allow(clippy::expect_used)] // constant bounds, which hdrhistogram accepts: no input reaches this
fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid constant histogram bounds")
}

impl Plan {
    fn key(&self, n: u32) -> Key {
        Key::new(format!("bench-{n}"))
    }

    /// The items the workload needs, written before the clock starts.
    pub(crate) async fn prepare(&self, store: &dyn VersionedStore) -> Result<(), Error> {
        let items = match self.workload {
            Workload::Get | Workload::Conflict => self.keys,
            Workload::Update => self.clients,
            Workload::HotKey => 1,
        };
        for n in 0..items {
            store.put(&self.key(n), json!({"n": 0})).await?;
        }
        Ok(())
    }

    /// Runs every client for `duration`; `done` counts successes as they come.
    pub(crate) async fn run(
        &self,
        store: Arc<dyn VersionedStore>,
        duration: Duration,
        done: Arc<AtomicU64>,
    ) -> Tally {
        let deadline = Instant::now() + duration;
        let mut clients = Vec::new();
        for client in 0..self.clients {
            let store = Arc::clone(&store);
            let done = Arc::clone(&done);
            let (workload, keys) = (self.workload, self.keys);
            clients.push(tokio::spawn(async move {
                let mut tally = Tally::new();
                while Instant::now() < deadline {
                    let key = match workload {
                        Workload::Get | Workload::Conflict => {
                            Key::new(format!("bench-{}", rand::thread_rng().gen_range(0..keys)))
                        }
                        Workload::Update => Key::new(format!("bench-{client}")),
                        Workload::HotKey => Key::new("bench-0"),
                    };
                    let started = Instant::now();
                    let succeeded = match workload {
                        Workload::Get => get(&*store, &key, &mut tally).await,
                        _ => increment(&*store, &key, &mut tally).await,
                    };
                    if succeeded {
                        tally.successes += 1;
                        tally.record(started);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
                tally
            }));
        }
        let mut total = Tally::new();
        for client in clients {
            match client.await {
                Ok(tally) => total.add(tally),
                Err(err) => {
                    total.errors += 1;
                    total
                        .first_error
                        .get_or_insert(format!("a client stopped: {err}"));
                }
            }
        }
        total
    }

    /// Whether the store's final state matches the counts: every increment is in the
    /// items (each success added exactly one to a counter and one to a version), and
    /// every get found its item. `Err` says what does not add up.
    pub(crate) async fn verify(
        &self,
        store: &dyn VersionedStore,
        tally: &Tally,
    ) -> Result<(), String> {
        if tally.attempts != tally.successes + tally.conflicts + tally.errors + tally.misses {
            return Err(format!(
                "{} attempts are not {} successes + {} conflicts + {} errors + {} misses",
                tally.attempts, tally.successes, tally.conflicts, tally.errors, tally.misses
            ));
        }
        if tally.errors > 0 {
            return Err(format!(
                "{} requests failed (first: {})",
                tally.errors,
                tally.first_error.as_deref().unwrap_or("?")
            ));
        }
        if self.workload == Workload::Get {
            return match tally.misses {
                0 => Ok(()),
                misses => Err(format!("{misses} gets found no item")),
            };
        }
        let items = match self.workload {
            Workload::Update => self.clients,
            Workload::HotKey => 1,
            _ => self.keys,
        };
        let (mut counted, mut versions) = (0u64, 0u64);
        for n in 0..items {
            match store.get(&self.key(n)).await {
                Ok(Some(item)) => {
                    counted += item.value["n"].as_u64().unwrap_or(0);
                    versions += item.version.get() - 1;
                }
                Ok(None) => return Err(format!("item bench-{n} is gone")),
                Err(err) => {
                    return Err(format!(
                        "reading bench-{n}: {}",
                        crate::exit::one_line(&err)
                    ));
                }
            }
        }
        if counted != tally.successes || versions != tally.successes {
            return Err(format!(
                "{} successful increments, but the items count {counted} and their versions \
                 advanced by {versions}",
                tally.successes
            ));
        }
        Ok(())
    }
}

/// One get; a success when it finds the item.
async fn get(store: &dyn VersionedStore, key: &Key, tally: &mut Tally) -> bool {
    tally.attempts += 1;
    match store.get(key).await {
        Ok(Some(_)) => true,
        Ok(None) => {
            tally.misses += 1;
            false
        }
        Err(err) => {
            tally.error(&err);
            false
        }
    }
}

/// One read-modify-write increment, retried from the conflict's item (no second read)
/// until it lands; `false` after an error.
async fn increment(store: &dyn VersionedStore, key: &Key, tally: &mut Tally) -> bool {
    let mut item = match store.get(key).await {
        Ok(Some(item)) => item,
        Ok(None) => {
            tally.attempts += 1;
            tally.misses += 1;
            return false;
        }
        Err(err) => {
            tally.attempts += 1;
            tally.error(&err);
            return false;
        }
    };
    loop {
        let n = item.value["n"].as_u64().unwrap_or(0);
        tally.attempts += 1;
        match store.update(key, item.version, json!({"n": n + 1})).await {
            Ok(_) => return true,
            Err(Error::Conflict { conflict, .. }) => match conflict.into_current() {
                Some(current) => {
                    tally.conflicts += 1;
                    item = current;
                }
                // Not found: nothing deletes the items, so this is counted as a miss.
                None => {
                    tally.misses += 1;
                    return false;
                }
            },
            Err(err) => {
                tally.error(&err);
                return false;
            }
        }
    }
}

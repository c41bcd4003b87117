//! Exactly once under lost answers (contract R12, R14), end to end through the engine:
//! a storage that loses answers (after applying, or while the request is still
//! travelling and lands later), refuses requests before sending them, and a workload
//! of `update_with` increments and transfers on top of it. Every increment that
//! returned `Ok` is in the item exactly once, none is there twice, no failed one is
//! there, and nothing lands after the workload ended.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use optimist_core::retry::RetryPolicy;
use optimist_core::typed::{Context, Entity, Error as TypedError};
use optimist_core::{
    Capabilities, Change, CommitOutcome, Error, ErrorKind, Expect, Key, Outcome, Record, Storage,
    StorageError, TxOp, Value, VersionedStore, Write, WriteToken, async_trait,
};
use optimist_memory::MemoryStore;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// What happened to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Fault {
    Pass,
    /// Applied, then the answer lost.
    LostAnswer,
    /// Still travelling when the client gives up; it lands a little later.
    LandsLate,
    /// Refused before it was sent: nothing applied.
    Refused,
}

/// A memory store behind a network that loses answers.
struct Lossy {
    inner: Arc<MemoryStore>,
    rng: Mutex<StdRng>,
    faults: Mutex<HashMap<Fault, u64>>,
    late: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    policy: RetryPolicy,
}

impl Lossy {
    fn new(inner: MemoryStore, seed: u64) -> Self {
        Self {
            inner: Arc::new(inner),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            faults: Mutex::default(),
            late: Arc::default(),
            policy: RetryPolicy::new(6, Duration::from_micros(200), Duration::from_millis(2)),
        }
    }

    fn roll(&self) -> Fault {
        let n: u32 = self.rng.lock().unwrap().gen_range(0..100);
        let fault = match n {
            0..=14 => Fault::LostAnswer,
            15..=24 => Fault::LandsLate,
            25..=34 => Fault::Refused,
            _ => Fault::Pass,
        };
        *self.faults.lock().unwrap().entry(fault).or_default() += 1;
        fault
    }

    fn delay(&self) -> Duration {
        Duration::from_micros(self.rng.lock().unwrap().gen_range(100..3000))
    }

    fn counts(&self) -> HashMap<Fault, u64> {
        self.faults.lock().unwrap().clone()
    }

    /// Waits until every late request has landed.
    async fn settle(&self) {
        let late: Vec<_> = std::mem::take(&mut *self.late.lock().unwrap());
        for handle in late {
            handle.await.unwrap();
        }
    }
}

fn lost() -> StorageError {
    StorageError::maybe_applied(ErrorKind::Timeout, "the proxy lost the answer")
}

/// An owned copy of a write, to send after the caller's borrow ended.
struct OwnedWrite {
    key: Key,
    expect: Expect,
    value: Option<Value>,
    delete: bool,
    token: WriteToken,
}

impl OwnedWrite {
    fn of(write: &Write<'_>) -> Self {
        Self {
            key: write.key.clone(),
            expect: write.expect,
            value: write.value().cloned(),
            delete: write.change == Change::Delete,
            token: write.token,
        }
    }

    fn write(&self) -> Write<'_> {
        let change = match (&self.value, self.delete) {
            (Some(value), _) => Change::Put(value),
            (None, true) => Change::Delete,
            (None, false) => Change::Keep,
        };
        Write::new(&self.key, self.expect, change).with_token(self.token)
    }
}

#[async_trait]
impl Storage for Lossy {
    fn backend_name(&self) -> &'static str {
        "lossy memory"
    }
    fn capabilities(&self) -> &Capabilities {
        Storage::capabilities(&*self.inner)
    }
    fn retry_policy(&self) -> &RetryPolicy {
        &self.policy
    }
    async fn read(&self, key: &Key) -> Result<Option<Record>, StorageError> {
        self.inner.read(key).await
    }
    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        match self.roll() {
            Fault::Pass => self.inner.write(write).await,
            Fault::LostAnswer => {
                self.inner.write(write).await?;
                Err(lost())
            }
            Fault::LandsLate => {
                let (inner, owned, delay) =
                    (Arc::clone(&self.inner), OwnedWrite::of(write), self.delay());
                self.late.lock().unwrap().push(tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = inner.write(&owned.write()).await;
                }));
                Err(lost())
            }
            Fault::Refused => Err(StorageError::not_applied(ErrorKind::Unavailable, "refused")),
        }
    }
    async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
        match self.roll() {
            Fault::Pass => self.inner.commit(writes).await,
            Fault::LostAnswer => {
                self.inner.commit(writes).await?;
                Err(lost())
            }
            Fault::LandsLate => {
                let owned: Vec<OwnedWrite> = writes.iter().map(OwnedWrite::of).collect();
                let (inner, delay) = (Arc::clone(&self.inner), self.delay());
                self.late.lock().unwrap().push(tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let writes: Vec<Write<'_>> = owned.iter().map(OwnedWrite::write).collect();
                    let _ = inner.commit(&writes).await;
                }));
                Err(lost())
            }
            Fault::Refused => Err(StorageError::not_applied(ErrorKind::Unavailable, "refused")),
        }
    }
}

#[derive(Entity, Serialize, Deserialize, Debug, Clone)]
struct Counter {
    #[entity(partition_key)]
    id: String,
    /// One unique id per increment, so a duplicate shows.
    increments: Vec<u64>,
    #[entity(version)]
    version: Option<u64>,
}

/// How one increment ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    Ok,
    Indeterminate,
    Failed,
}

async fn counters(tombstones: bool, seed: u64) {
    let store = Arc::new(Lossy::new(
        MemoryStore::with_capabilities(Capabilities::new().with_tombstones(tombstones)),
        seed,
    ));
    let ctx = Context::new(Arc::clone(&store));
    let keys = ["a", "b"];
    for key in keys {
        let mut counter = Counter {
            id: key.into(),
            increments: vec![],
            version: None,
        };
        // Setting up goes through the lossy network too: retry until it is there.
        while ctx.load::<Counter>(key).await.ok().flatten().is_none() {
            let _ = ctx.save(&mut counter).await;
            counter.version = None;
        }
    }
    let (writers, each) = (8u64, 25u64);
    let mut tasks = Vec::new();
    for w in 0..writers {
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            let mut ended = Vec::new();
            for i in 0..each {
                let id = w * 1000 + i;
                let key = keys[(id % 2) as usize];
                let policy =
                    RetryPolicy::new(50, Duration::from_micros(100), Duration::from_millis(2));
                let result = ctx
                    .update_with(key, &policy, |c: &mut Counter| {
                        c.increments.push(id);
                        Ok::<(), std::convert::Infallible>(())
                    })
                    .await;
                let how = match &result {
                    Ok(_) => Ended::Ok,
                    Err(TypedError::Store(Error::Indeterminate { .. })) => Ended::Indeterminate,
                    Err(_) => Ended::Failed,
                };
                ended.push((id, key, how));
            }
            ended
        }));
    }
    let mut ended = Vec::new();
    for task in tasks {
        ended.extend(task.await.unwrap());
    }
    store.settle().await;
    let mut found: HashMap<u64, usize> = HashMap::new();
    let mut versions = Vec::new();
    for key in keys {
        let counter: Counter = ctx.load(key).await.unwrap().unwrap();
        versions.push(counter.version);
        for id in counter.increments {
            *found.entry(id).or_default() += 1;
        }
    }
    let count = |how| ended.iter().filter(|e| e.2 == how).count();
    let lost = ended
        .iter()
        .filter(|e| e.2 == Ended::Ok && !found.contains_key(&e.0))
        .count();
    let duplicated = found.values().filter(|n| **n > 1).count();
    let failed_but_applied = ended
        .iter()
        .filter(|e| e.2 == Ended::Failed && found.contains_key(&e.0))
        .count();
    println!(
        "tombstones={tombstones} seed={seed}: {} increments: ok {}, indeterminate {}, failed {}; \
         faults {:?}; lost {lost}, duplicated {duplicated}, failed but applied {failed_but_applied}",
        ended.len(),
        count(Ended::Ok),
        count(Ended::Indeterminate),
        count(Ended::Failed),
        store.counts(),
    );
    assert_eq!(lost, 0, "increments that returned Ok are missing");
    assert_eq!(duplicated, 0, "increments applied twice: {found:?}");
    assert_eq!(
        failed_but_applied, 0,
        "increments reported failed were applied"
    );
    assert!(
        store.counts().get(&Fault::LostAnswer).copied().unwrap_or(0) > 0,
        "no fault injected"
    );
    // Nothing lands after the workload: every late request has been delivered, and
    // a second look finds the same versions.
    tokio::time::sleep(Duration::from_millis(10)).await;
    for (key, version) in keys.iter().zip(versions) {
        let counter: Counter = ctx.load(*key).await.unwrap().unwrap();
        assert_eq!(counter.version, version, "{key} changed after the workload");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn increments_land_exactly_once_despite_lost_answers() {
    for seed in 1..=3 {
        counters(false, seed).await;
        counters(true, seed).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transfers_keep_the_total_despite_lost_answers() {
    let store = Arc::new(Lossy::new(MemoryStore::new(), 7));
    let accounts: Vec<Key> = (0..4).map(|i| Key::new(format!("acct-{i}"))).collect();
    for key in &accounts {
        while store.inner.get(key).await.unwrap().is_none() {
            let _ = store.insert(key, serde_json::json!(100)).await;
        }
    }
    let mut tasks = Vec::new();
    for t in 0..6usize {
        let (store, accounts) = (Arc::clone(&store), accounts.clone());
        tasks.push(tokio::spawn(async move {
            let mut indeterminate = 0;
            for i in 0..20usize {
                let (from, to) = (&accounts[(t + i) % 4], &accounts[(t + i + 1) % 4]);
                let (Ok(Some(a)), Ok(Some(b))) = (store.get(from).await, store.get(to).await)
                else {
                    continue;
                };
                let (x, y) = (a.value.as_i64().unwrap(), b.value.as_i64().unwrap());
                let ops = vec![
                    TxOp::update(from.clone(), a.version, serde_json::json!(x - 1)),
                    TxOp::update(to.clone(), b.version, serde_json::json!(y + 1)),
                ];
                if let Err(err) = store.transact(ops).await {
                    indeterminate += usize::from(err.is_indeterminate());
                }
            }
            indeterminate
        }));
    }
    let mut indeterminate = 0;
    for task in tasks {
        indeterminate += task.await.unwrap();
    }
    store.settle().await;
    let mut total = 0;
    for key in &accounts {
        total += store
            .inner
            .get(key)
            .await
            .unwrap()
            .unwrap()
            .value
            .as_i64()
            .unwrap();
    }
    println!(
        "transfers: indeterminate {indeterminate}, faults {:?}",
        store.counts()
    );
    assert_eq!(total, 400, "transfers are atomic, lost answers included");
}

#![allow(clippy::panic)] // a test fails by panicking

//! Write combining on the memory store behind a simulated round trip: every change lands
//! exactly once, in fewer writes than changes; a change that gives up fails alone;
//! cancelled callers never stall the lane.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use optimist_core::retry::RetryPolicy;
use optimist_core::typed::{Context, Entity, Error};
use optimist_core::{
    Capabilities, Key, Result, StoreFuture, TxOp, Value, Version, Versioned, VersionedStore,
    async_trait,
};
use serde::{Deserialize, Serialize};

#[derive(Entity, Serialize, Deserialize, Debug, Clone)]
struct Log {
    #[entity(partition_key)]
    id: String,
    entries: Vec<u32>,
    #[entity(version)]
    version: Option<u64>,
}

/// The memory store with a round trip on every write, counting writes.
struct Slow {
    store: optimist_memory::MemoryStore,
    writes: AtomicU32,
}

#[async_trait]
impl VersionedStore for Slow {
    fn capabilities(&self) -> &Capabilities {
        self.store.capabilities()
    }
    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>> {
        self.store.get(key)
    }
    fn insert<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        self.store.insert(key, value)
    }
    fn update<'a>(
        &'a self,
        key: &'a Key,
        expected: Version,
        value: Value,
    ) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            self.writes.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(2)).await;
            self.store.update(key, expected, value).await
        })
    }
    fn delete<'a>(&'a self, key: &'a Key, expected: Version) -> StoreFuture<'a, ()> {
        self.store.delete(key, expected)
    }
    fn put<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        self.store.put(key, value)
    }
    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Version>> {
        self.store.remove(key)
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        self.store.transact(ops).await
    }
}

async fn seeded() -> (Context<Arc<Slow>>, optimist_memory::MemoryStore) {
    let store = optimist_memory::MemoryStore::new();
    let slow = Arc::new(Slow {
        store: store.clone(),
        writes: AtomicU32::new(0),
    });
    let ctx = Context::new(slow).with_write_combining(true);
    let mut log = Log {
        id: "log".into(),
        entries: Vec::new(),
        version: None,
    };
    ctx.save(&mut log)
        .await
        .unwrap_or_else(|e| panic!("seed: {e}"));
    (ctx, store)
}

fn append(n: u32) -> impl FnMut(&mut Log) -> std::result::Result<(), Infallible> {
    move |log| {
        log.entries.push(n);
        Ok(())
    }
}

async fn stored(ctx: &Context<Arc<Slow>>) -> Log {
    match ctx.load::<Log>("log").await {
        Ok(Some(log)) => log,
        other => panic!("the log is gone: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_lands_exactly_once_in_fewer_writes() {
    let (ctx, _) = seeded().await;
    let policy = RetryPolicy::default();
    let calls = (0..32u32)
        .map(|n| {
            let ctx = ctx.clone();
            let policy = policy.clone();
            tokio::spawn(async move {
                ctx.update_with::<Log, _, _>("log", &policy, append(n))
                    .await
            })
        })
        .collect::<Vec<_>>();
    let mut versions = BTreeSet::new();
    for call in calls {
        let log = match call.await {
            Ok(Ok(log)) => log,
            other => panic!("a call failed: {other:?}"),
        };
        versions.insert(log.version);
    }
    let log = stored(&ctx).await;
    let mut entries = log.entries.clone();
    entries.sort_unstable();
    assert_eq!(
        entries,
        (0..32).collect::<Vec<_>>(),
        "each change exactly once"
    );
    let writes = ctx.store().writes.load(Ordering::SeqCst);
    assert!(
        writes < 32,
        "32 changes took {writes} writes: nothing was combined"
    );
    // Each caller learned the version its change landed in; those versions are the
    // store's successive versions, the last one the item's.
    assert_eq!(versions.last().copied().flatten(), log.version);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_gives_up_fails_alone() {
    let (ctx, _) = seeded().await;
    let policy = RetryPolicy::default();
    let calls = (0..12u32)
        .map(|n| {
            let ctx = ctx.clone();
            let policy = policy.clone();
            tokio::spawn(async move {
                ctx.update_with::<Log, _, _>("log", &policy, move |log| {
                    if n % 4 == 3 {
                        return Err("not this one");
                    }
                    log.entries.push(n);
                    Ok(())
                })
                .await
            })
        })
        .collect::<Vec<_>>();
    let mut aborted = 0;
    for (n, call) in calls.into_iter().enumerate() {
        match call.await {
            Ok(Ok(log)) => assert!(log.entries.contains(&(n as u32))),
            Ok(Err(Error::Aborted { .. })) if n % 4 == 3 => aborted += 1,
            other => panic!("call {n}: {other:?}"),
        }
    }
    assert_eq!(aborted, 3);
    let mut entries = stored(&ctx).await.entries;
    entries.sort_unstable();
    let expected: Vec<u32> = (0..12).filter(|n| n % 4 != 3).collect();
    assert_eq!(entries, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_writers_conflict_and_every_change_is_applied_again() {
    let (ctx, store) = seeded().await;
    let policy = RetryPolicy::default();
    let outsider = tokio::spawn({
        let plain = Context::new(store.clone());
        let policy = policy.clone();
        async move {
            for n in 1000..1010u32 {
                plain
                    .update_with::<Log, _, _>("log", &policy, append(n))
                    .await
                    .map(|_| ())?;
            }
            Ok::<_, Error>(())
        }
    });
    let calls = (0..24u32)
        .map(|n| {
            let ctx = ctx.clone();
            let policy = policy.clone();
            tokio::spawn(async move {
                ctx.update_with::<Log, _, _>("log", &policy, append(n))
                    .await
            })
        })
        .collect::<Vec<_>>();
    for call in calls {
        assert!(matches!(call.await, Ok(Ok(_))));
    }
    assert!(matches!(outsider.await, Ok(Ok(()))));
    let mut entries = stored(&ctx).await.entries;
    entries.sort_unstable();
    let expected: Vec<u32> = (0..24).chain(1000..1010).collect();
    assert_eq!(entries, expected, "no change lost or applied twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_callers_never_stall_the_lane() {
    let (ctx, _) = seeded().await;
    let policy = RetryPolicy::default();
    let calls = (0..40u32)
        .map(|n| {
            let ctx = ctx.clone();
            let policy = policy.clone();
            tokio::spawn(async move {
                // Every third call gives up waiting at some point: leaders and followers,
                // before, during or after their write.
                let wait = Duration::from_micros(u64::from(n % 7) * 700);
                let call = ctx.update_with::<Log, _, _>("log", &policy, append(n));
                if n % 3 == 0 {
                    (n, tokio::time::timeout(wait, call).await.ok())
                } else {
                    (n, Some(call.await))
                }
            })
        })
        .collect::<Vec<_>>();
    let mut landed = BTreeSet::new();
    let mut unknown = BTreeSet::new();
    for call in calls {
        match call.await {
            Ok((n, Some(Ok(_)))) => {
                landed.insert(n);
            }
            Ok((n, None)) => {
                unknown.insert(n);
            }
            Ok((n, Some(Err(err)))) if err.to_string().contains("outcome unknown") => {
                unknown.insert(n);
            }
            other => panic!("{other:?}"),
        }
    }
    // The lane still works, and the stored log holds every change that was reported
    // done, once, and no change that was never asked for.
    ctx.update_with::<Log, _, _>("log", &policy, append(99))
        .await
        .unwrap_or_else(|e| panic!("the lane stalled or failed: {e}"));
    let entries = stored(&ctx).await.entries;
    let set: BTreeSet<u32> = entries.iter().copied().collect();
    assert_eq!(
        set.len(),
        entries.len(),
        "a change applied twice: {entries:?}"
    );
    assert!(landed.is_subset(&set), "a reported change is missing");
    assert!(
        set.iter()
            .all(|n| *n == 99 || landed.contains(n) || unknown.contains(n))
    );
}

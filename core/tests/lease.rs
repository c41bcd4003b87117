//! Tests of the lease logic (contract R19), on the memory store, with every store call counted
//! so the round trips each operation costs are checked too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use optimist_core::async_trait;
use optimist_memory::MemoryStore;
use serde_json::{Value, json};

use optimist_core::lease::{Lease, LeaseConflict, LeaseOptions, current_holder};
use optimist_core::{
    Capabilities, Conflict, Error, Key, Result, StoreFuture, TxOp, Version, Versioned,
    VersionedStore,
};

/// The memory store, counting the calls made to it.
#[derive(Default)]
struct Counted {
    inner: MemoryStore,
    calls: [AtomicUsize; 6],
}

const GET: usize = 0;
const INSERT: usize = 1;
const UPDATE: usize = 2;
const TRANSACT: usize = 3;
const OTHER: usize = 4;

impl Counted {
    fn with_capabilities(caps: Capabilities) -> Self {
        Self {
            inner: MemoryStore::with_capabilities(caps),
            calls: Default::default(),
        }
    }

    fn count(&self, call: usize) {
        self.calls[call].fetch_add(1, Ordering::SeqCst);
    }

    /// The calls so far, as (get, insert, update, transact, other), and starts again.
    fn take(&self) -> (usize, usize, usize, usize, usize) {
        let c = |i: usize| self.calls[i].swap(0, Ordering::SeqCst);
        (c(GET), c(INSERT), c(UPDATE), c(TRANSACT), c(OTHER))
    }
}

#[async_trait]
impl VersionedStore for Counted {
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>> {
        StoreFuture::new(async move {
            self.count(GET);
            self.inner.get(key).await
        })
    }
    fn insert<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            self.count(INSERT);
            self.inner.insert(key, value).await
        })
    }
    fn update<'a>(
        &'a self,
        key: &'a Key,
        expected: Version,
        value: Value,
    ) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            self.count(UPDATE);
            self.inner.update(key, expected, value).await
        })
    }
    fn delete<'a>(&'a self, key: &'a Key, expected: Version) -> StoreFuture<'a, ()> {
        StoreFuture::new(async move {
            self.count(OTHER);
            self.inner.delete(key, expected).await
        })
    }
    fn put<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            self.count(OTHER);
            self.inner.put(key, value).await
        })
    }
    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Version>> {
        StoreFuture::new(async move {
            self.count(OTHER);
            self.inner.remove(key).await
        })
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        self.count(TRANSACT);
        self.inner.transact(ops).await
    }
}

fn lease_key() -> Key {
    Key::new("lease#shard-1")
}

fn options(owner: &str, ms: u64) -> LeaseOptions {
    LeaseOptions::new(owner, Duration::from_millis(ms))
}

async fn version_of(store: &Counted, key: &Key) -> Option<Version> {
    store.inner.get(key).await.ok().flatten().map(|i| i.version)
}

fn lost_holder(err: &Error) -> Option<(String, u64)> {
    match err.lease_conflict() {
        Some(LeaseConflict::Lost { holder, .. }) => {
            holder.as_ref().map(|h| (h.owner.clone(), h.token))
        }
        other => panic!("expected a lost lease, got {other:?} from {err}"),
    }
}

#[tokio::test]
async fn a_free_key_is_one_insert_and_renew_release_guarded_writes_one_call_each() {
    let store = Arc::new(Counted::default());
    let lease = Lease::try_acquire(store.clone(), lease_key(), &options("a", 60_000))
        .await
        .unwrap();
    assert_eq!(lease.token().get(), 1);
    assert_eq!(store.take(), (0, 1, 0, 0, 0), "acquire on a free key");

    lease.renew().await.unwrap();
    assert_eq!(store.take(), (0, 0, 1, 0, 0), "renew");
    assert_eq!(lease.record_version(), Version::new(2));
    assert_eq!(lease.token().get(), 1, "a renewal keeps the token");

    let data = Key::new("data");
    let guard = lease.guard();
    let v1 = guard.insert(&data, json!({"n": 1})).await.unwrap();
    let v2 = guard.update(&data, v1, json!({"n": 2})).await.unwrap();
    let v3 = guard.put(&data, json!({"n": 3})).await.unwrap();
    guard.delete(&data, v3).await.unwrap();
    guard
        .transact(vec![TxOp::insert(data.clone(), json!({"n": 5}))])
        .await
        .unwrap();
    assert_eq!(
        (v1, v2, v3),
        (Version::new(1), Version::new(2), Version::new(3))
    );
    assert_eq!(
        store.take(),
        (0, 0, 0, 5, 0),
        "one transaction per guarded write"
    );

    lease.release().await.unwrap();
    assert_eq!(store.take(), (0, 0, 1, 0, 0), "release");
    let record = store.inner.get(&lease_key()).await.unwrap().unwrap();
    assert_eq!(record.version, Version::new(3));
    assert_eq!(record.value["released"], json!(true));
    assert_eq!(record.value["owner"], json!("a"));
}

#[tokio::test]
async fn a_released_record_is_taken_at_once_with_a_greater_token() {
    let store = Arc::new(Counted::default());
    let first = Lease::try_acquire(store.clone(), lease_key(), &options("a", 60_000))
        .await
        .unwrap();
    first.release().await.unwrap();
    store.take();
    let second = Lease::try_acquire(store.clone(), lease_key(), &options("b", 60_000))
        .await
        .unwrap();
    assert_eq!(
        second.token().get(),
        3,
        "the release moved the version to 2"
    );
    assert_eq!(
        store.take(),
        (0, 1, 1, 0, 0),
        "an insert answered with the record, one update"
    );
    // A waiting acquire of a released record does not wait either.
    second.release().await.unwrap();
    store.take();
    let third = Lease::acquire(
        store.clone(),
        lease_key(),
        &options("c", 60_000),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(third.token().get(), 5);
    assert_eq!(store.take(), (0, 1, 1, 0, 0));
}

#[tokio::test]
async fn a_held_lease_is_taken_over_only_after_a_full_unchanged_duration() {
    let store = Arc::new(Counted::default());
    let duration = Duration::from_millis(60);
    let crashed = Lease::try_acquire(store.clone(), lease_key(), &options("a", 60))
        .await
        .unwrap();
    let old_token = crashed.token().get();
    drop(crashed);
    let err = Lease::try_acquire(store.clone(), lease_key(), &options("b", 60))
        .await
        .unwrap_err();
    match err.lease_conflict() {
        Some(LeaseConflict::Held { holder }) => {
            assert_eq!((holder.owner.as_str(), holder.token), ("a", 1))
        }
        other => panic!("expected Held, got {other:?}"),
    }
    store.take();
    let started = tokio::time::Instant::now();
    let next = Lease::acquire(
        store.clone(),
        lease_key(),
        &options("b", 60).with_poll_interval(duration),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    // The waiter counts from its first look, after `started`: a lower bound only.
    assert!(started.elapsed() >= duration);
    assert!(next.token().get() > old_token);
    // With the poll interval at the duration: the insert that answers with the record,
    // a sleep to the expiry, and the takeover's update (the last look).
    assert_eq!(store.take(), (0, 1, 1, 0, 0));
}

#[tokio::test]
async fn renewals_restart_the_waiters_count_and_the_timeout_names_the_holder() {
    let store = Arc::new(Counted::default());
    let holder = Arc::new(
        Lease::try_acquire(store.clone(), lease_key(), &options("a", 80))
            .await
            .unwrap(),
    );
    let heart = holder.clone();
    let beating = tokio::spawn(async move {
        for _ in 0..12 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            heart.renew().await.unwrap();
        }
    });
    // The holder renews every 20 ms of an 80 ms lease: a waiter never sees it unchanged
    // for 80 ms, and gives up after its timeout, naming the holder.
    let err = Lease::acquire(
        store.clone(),
        lease_key(),
        &options("b", 80),
        Duration::from_millis(200),
    )
    .await
    .unwrap_err();
    match err.lease_conflict() {
        Some(LeaseConflict::Held { holder }) => {
            assert_eq!((holder.owner.as_str(), holder.token), ("a", 1))
        }
        other => panic!("expected Held, got {other:?} ({err})"),
    }
    beating.await.unwrap();
    assert_eq!(
        current_holder(&*store, &lease_key())
            .await
            .unwrap()
            .map(|h| h.token),
        Some(1)
    );
}

#[tokio::test]
async fn a_lost_lease_writes_nothing_and_names_the_new_holder() {
    let store = Arc::new(Counted::default());
    let old = Lease::try_acquire(store.clone(), lease_key(), &options("old", 30))
        .await
        .unwrap();
    let data = Key::new("data");
    let v1 = old
        .guard()
        .insert(&data, json!({"by": "old"}))
        .await
        .unwrap();
    // `old` pauses; `new` sees the record unchanged for 30 ms and takes over.
    let new = Lease::acquire(
        store.clone(),
        lease_key(),
        &options("new", 60_000),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    let record = version_of(&store, &lease_key()).await;
    let expected = Some(("new".to_string(), new.token().get()));
    let guard = old.guard();
    assert_eq!(
        lost_holder(
            &guard
                .update(&data, v1, json!({"late": 1}))
                .await
                .unwrap_err()
        ),
        expected
    );
    assert_eq!(
        lost_holder(&guard.put(&data, json!({"late": 2})).await.unwrap_err()),
        expected
    );
    assert_eq!(
        lost_holder(&guard.delete(&data, v1).await.unwrap_err()),
        expected
    );
    assert_eq!(
        lost_holder(&guard.remove(&data).await.unwrap_err()),
        expected
    );
    assert_eq!(
        lost_holder(
            &guard
                .insert(&Key::new("other"), json!(1))
                .await
                .unwrap_err()
        ),
        expected
    );
    assert_eq!(
        lost_holder(
            &guard
                .transact(vec![TxOp::put(data.clone(), json!(3))])
                .await
                .unwrap_err()
        ),
        expected
    );
    assert_eq!(lost_holder(&old.renew().await.unwrap_err()), expected);
    assert_eq!(lost_holder(&old.release().await.unwrap_err()), expected);
    let err = old.renew().await.unwrap_err();
    assert!(err.to_string().contains("\"new\" with token"), "{err}");
    // Nothing was written: the data and the record are as they were.
    let item = store.inner.get(&data).await.unwrap().unwrap();
    assert_eq!((item.value, item.version), (json!({"by": "old"}), v1));
    assert!(store.inner.get(&Key::new("other")).await.unwrap().is_none());
    assert_eq!(version_of(&store, &lease_key()).await, record);
}

#[tokio::test]
async fn the_holders_own_renewal_is_not_a_lost_lease() {
    let store = Arc::new(Counted::default());
    let lease = Lease::try_acquire(store.clone(), lease_key(), &options("a", 60_000))
        .await
        .unwrap();
    // Another task of the same holder renewed behind this handle's back: the record
    // moved on, still this acquisition's.
    let mut record = store.inner.get(&lease_key()).await.unwrap().unwrap();
    record.value["renewals"] = json!(1);
    store
        .inner
        .update(&lease_key(), record.version, record.value)
        .await
        .unwrap();
    store.take();
    let v = lease
        .guard()
        .put(&Key::new("data"), json!(1))
        .await
        .unwrap();
    assert_eq!(v, Version::FIRST);
    assert_eq!(
        store.take(),
        (0, 0, 0, 2, 0),
        "refused once, sent again with the new version"
    );
    assert_eq!(lease.record_version(), Version::new(2));
    // Renew and release find their way the same way.
    let mut record = store.inner.get(&lease_key()).await.unwrap().unwrap();
    record.value["renewals"] = json!(7);
    store
        .inner
        .update(&lease_key(), record.version, record.value)
        .await
        .unwrap();
    lease.renew().await.unwrap();
    lease.release().await.unwrap();
    assert_eq!(
        version_of(&store, &lease_key()).await,
        Some(Version::new(5))
    );
}

#[tokio::test]
async fn concurrent_renewals_and_guarded_writes_of_one_holder_all_pass() {
    let store = Arc::new(Counted::default());
    let lease = Arc::new(
        Lease::try_acquire(store.clone(), lease_key(), &options("a", 60_000))
            .await
            .unwrap(),
    );
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let lease = lease.clone();
            tokio::spawn(async move {
                for j in 0..10 {
                    if i % 2 == 0 {
                        lease.renew().await?;
                    } else {
                        lease
                            .guard()
                            .put(&Key::new(format!("d{i}")), json!(j))
                            .await?;
                    }
                }
                Ok::<(), Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(
        version_of(&store, &lease_key()).await,
        Some(Version::new(41))
    );
    assert_eq!(lease.record_version(), Version::new(41));
}

#[tokio::test]
async fn bad_options_are_invalid_input_and_nothing_is_sent() {
    let store = Arc::new(Counted::default());
    let cases = [
        LeaseOptions::new("a", Duration::ZERO),
        LeaseOptions::new("a", Duration::from_micros(500)),
        LeaseOptions::new("a", Duration::from_micros(1500)),
        LeaseOptions::new("a", Duration::from_secs(24 * 3600 + 1)),
        LeaseOptions::new("a", Duration::MAX),
        LeaseOptions::new("", Duration::from_secs(1)),
        LeaseOptions::new(" \t", Duration::from_secs(1)),
        LeaseOptions::new("a\u{0}b", Duration::from_secs(1)),
        LeaseOptions::new("x".repeat(257), Duration::from_secs(1)),
        LeaseOptions::new("a", Duration::from_secs(1)).with_poll_interval(Duration::ZERO),
        LeaseOptions::new("a", Duration::from_secs(1)).with_poll_interval(Duration::from_secs(2)),
    ];
    for options in cases {
        let err = Lease::try_acquire(store.clone(), lease_key(), &options)
            .await
            .unwrap_err();
        assert!(err.is_invalid_input(), "{options:?}: {err}");
        let err = Lease::acquire(store.clone(), lease_key(), &options, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(err.is_invalid_input(), "{options:?}: {err}");
    }
    assert_eq!(store.take(), (0, 0, 0, 0, 0));
    // A timeout too long to count is no error: the lease is free.
    let lease = Lease::acquire(
        store.clone(),
        lease_key(),
        &options("a", 1000),
        Duration::MAX,
    )
    .await;
    assert_eq!(lease.unwrap().token().get(), 1);
}

#[tokio::test]
async fn a_released_handle_and_a_foreign_token_are_invalid_input() {
    let store = Arc::new(Counted::default());
    let lease = Lease::try_acquire(store.clone(), lease_key(), &options("a", 60_000))
        .await
        .unwrap();
    lease.release().await.unwrap();
    store.take();
    assert!(lease.renew().await.unwrap_err().is_invalid_input());
    assert!(lease.release().await.unwrap_err().is_invalid_input());
    assert!(
        lease
            .guard()
            .put(&Key::new("d"), json!(1))
            .await
            .unwrap_err()
            .is_invalid_input()
    );
    let token = lease.token();
    let err = Lease::resume(
        store.clone(),
        Key::new("lease#shard-2"),
        &token,
        &options("a", 60_000),
    )
    .await
    .unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    assert_eq!(store.take(), (0, 0, 0, 0, 0), "nothing sent");
    // Resuming a released acquisition: lost, nobody holds it.
    let err = Lease::resume(store.clone(), lease_key(), &token, &options("a", 60_000))
        .await
        .unwrap_err();
    assert_eq!(lost_holder(&err), None);
    assert_eq!(store.take(), (1, 0, 0, 0, 0), "one read, nothing written");
}

#[tokio::test]
async fn resume_continues_a_held_acquisition() {
    let store = Arc::new(Counted::default());
    let first = Lease::try_acquire(store.clone(), lease_key(), &options("a", 60_000))
        .await
        .unwrap();
    first.renew().await.unwrap();
    store.take();
    let again = Lease::resume(
        store.clone(),
        lease_key(),
        &first.token(),
        &options("a", 60_000),
    )
    .await
    .unwrap();
    assert_eq!(store.take(), (1, 0, 1, 0, 0), "a read and a renewal");
    assert_eq!(again.record_version(), Version::new(3));
    again.guard().put(&Key::new("d"), json!(1)).await.unwrap();
    // Another owner name cannot resume it.
    let err = Lease::resume(
        store.clone(),
        lease_key(),
        &first.token(),
        &options("b", 60_000),
    )
    .await
    .unwrap_err();
    assert_eq!(lost_holder(&err), Some(("a".to_string(), 1)));
}

#[tokio::test]
async fn an_item_that_is_not_a_lease_record_is_left_alone() {
    let store = Arc::new(Counted::default());
    store
        .inner
        .insert(&lease_key(), json!({"unrelated": true}))
        .await
        .unwrap();
    let err = Lease::acquire(
        store.clone(),
        lease_key(),
        &options("a", 10),
        Duration::from_secs(1),
    )
    .await
    .unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    assert!(
        current_holder(&*store, &lease_key())
            .await
            .unwrap_err()
            .is_invalid_input()
    );
    let item = store.inner.get(&lease_key()).await.unwrap().unwrap();
    assert_eq!(
        (item.value, item.version),
        (json!({"unrelated": true}), Version::FIRST)
    );
}

#[tokio::test]
async fn without_transactions_guarded_writes_are_unsupported_and_write_nothing() {
    let store = Arc::new(Counted::with_capabilities(
        Capabilities::new().with_transactions(false),
    ));
    let lease = Lease::try_acquire(store.clone(), lease_key(), &options("a", 60_000))
        .await
        .unwrap();
    store.take();
    let guard = lease.guard();
    let data = Key::new("d");
    for result in [
        guard.put(&data, json!(1)).await,
        guard.insert(&data, json!(1)).await,
        guard.update(&data, Version::FIRST, json!(1)).await,
    ] {
        assert!(
            matches!(result, Err(Error::Unsupported { .. })),
            "{result:?}"
        );
    }
    assert!(matches!(
        guard.delete(&data, Version::FIRST).await,
        Err(Error::Unsupported { .. })
    ));
    assert!(matches!(
        guard.remove(&data).await,
        Err(Error::Unsupported { .. })
    ));
    assert!(matches!(
        guard
            .transact(vec![TxOp::put(data.clone(), json!(1))])
            .await,
        Err(Error::Unsupported { .. })
    ));
    assert_eq!(store.take(), (0, 0, 0, 0, 0));
    assert!(store.inner.get(&data).await.unwrap().is_none());
}

#[tokio::test]
async fn guarded_bad_input_and_item_conflicts_are_the_callers() {
    let store = Arc::new(Counted::with_capabilities(
        Capabilities::new().with_max_transaction_ops(3),
    ));
    let lease = Lease::try_acquire(store.clone(), lease_key(), &options("a", 60_000))
        .await
        .unwrap();
    store.take();
    let guard = lease.guard();
    assert_eq!(
        guard.capabilities().max_transaction_ops,
        2,
        "the check takes one op"
    );
    let invalid = [
        guard.put(&lease_key(), json!(1)).await.map(|_| ()),
        guard.transact(vec![]).await.map(|_| ()),
        guard
            .transact(vec![
                TxOp::put(Key::new("a"), json!(1)),
                TxOp::remove(lease_key()),
            ])
            .await
            .map(|_| ()),
        guard
            .transact(
                (0..3)
                    .map(|i| TxOp::put(Key::new(format!("k{i}")), json!(i)))
                    .collect(),
            )
            .await
            .map(|_| ()),
        guard.put(&Key::new(""), json!(1)).await.map(|_| ()),
    ];
    for result in invalid {
        assert!(
            result.as_ref().is_err_and(Error::is_invalid_input),
            "{result:?}"
        );
    }
    assert_eq!(store.take(), (0, 0, 0, 0, 0), "nothing sent");

    // The write's own conflicts are a plain store's, with the caller's op indices.
    let data = Key::new("data");
    let v1 = guard.insert(&data, json!(1)).await.unwrap();
    guard.update(&data, v1, json!(2)).await.unwrap();
    let err = guard.update(&data, v1, json!(3)).await.unwrap_err();
    assert!(
        matches!(err.conflict_ref(), Some(Conflict::VersionMismatch { .. })),
        "{err}"
    );
    let err = guard.insert(&data, json!(3)).await.unwrap_err();
    assert!(
        matches!(err.conflict_ref(), Some(Conflict::AlreadyExists { .. })),
        "{err}"
    );
    let err = guard
        .transact(vec![
            TxOp::put(Key::new("x"), json!(1)),
            TxOp::check(data.clone(), v1),
        ])
        .await
        .unwrap_err();
    match err {
        Error::TransactionConflict { failures } => {
            assert_eq!(failures.len(), 1);
            assert_eq!((failures[0].index, &failures[0].key), (1, &data));
        }
        other => panic!("expected a transaction conflict, got {other}"),
    }
    // Remove answers the removed version, and None on an absent key.
    assert_eq!(guard.remove(&data).await.unwrap(), Some(Version::new(2)));
    assert_eq!(guard.remove(&data).await.unwrap(), None);
    assert!(store.inner.get(&data).await.unwrap().is_none());
}

#[tokio::test]
async fn tokens_strictly_increase_across_holders() {
    let store = Arc::new(Counted::default());
    let mut tokens = Vec::new();
    for round in 0..5 {
        let owner = format!("w{round}");
        let lease = Lease::acquire(
            store.clone(),
            lease_key(),
            &options(&owner, 20),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        tokens.push(lease.token().get());
        lease.renew().await.unwrap();
        if round % 2 == 0 {
            lease.release().await.unwrap();
        } // else: crashed, taken over after 20 ms unchanged
    }
    assert!(tokens.windows(2).all(|w| w[0] < w[1]), "{tokens:?}");
}

#[tokio::test]
async fn a_record_deleted_in_tombstone_mode_still_gives_greater_tokens() {
    let store = Arc::new(Counted::with_capabilities(
        Capabilities::new().with_tombstones(true),
    ));
    let first = Lease::try_acquire(store.clone(), lease_key(), &options("a", 60_000))
        .await
        .unwrap();
    // Someone deletes the record (they should not); the tombstone keeps its version.
    store.inner.remove(&lease_key()).await.unwrap();
    let second = Lease::try_acquire(store.clone(), lease_key(), &options("b", 60_000))
        .await
        .unwrap();
    assert!(second.token().get() > first.token().get());
    let record = store.inner.get(&lease_key()).await.unwrap().unwrap();
    assert_eq!(
        record.value["token"],
        json!(second.token().get()),
        "the record names the real token"
    );
    let again = Lease::resume(
        store.clone(),
        lease_key(),
        &second.token(),
        &options("b", 60_000),
    )
    .await;
    assert_eq!(again.unwrap().token(), second.token());
}

#[test]
fn the_root_readme_shows_the_lease_example_that_runs_as_a_doc_test() {
    let example = include_str!("../README-leases.md");
    let start = example.find("```rust\n").map(|i| i + "```rust\n".len());
    let code = start.and_then(|s| example[s..].find("```\n").map(|e| &example[s..s + e]));
    let code = code.unwrap_or_else(|| panic!("core/README-leases.md has no rust block"));
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(code),
        "README.md's lease example differs from core/README-leases.md's (which runs as a doc test)"
    );
}

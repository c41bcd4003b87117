//! contract R19: leases with fencing tokens (`optimist_core::lease`) on the store under
//! test. Short leases (100-150 ms) and few contenders keep every case well under two
//! seconds; no case asserts that something was fast, only what may and may not happen.

use std::sync::Arc;
use std::time::Duration;

use optimist_core::lease::{Lease, LeaseConflict, LeaseOptions, current_holder};
use optimist_core::retry::RetryPolicy;
use optimist_core::typed::{self, Context, Entity};
use optimist_core::{Error, Key, TxOp, Value, Version, VersionedStore};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::env;
use crate::rng::SplitMix64;
use crate::support::{assert_absent, assert_invalid, assert_item, doc, key, must_get, ok};
use crate::verdict::{check, check_eq, fail};

/// Long enough that a waiter never gives up on a lease it could take (the cases never
/// wait on a timeout), short enough to end a hung case.
const PATIENCE: Duration = Duration::from_secs(20);

/// A lease that no case waits out.
const LONG: Duration = Duration::from_secs(60);

fn options(owner: &str, duration: Duration) -> LeaseOptions {
    LeaseOptions::new(owner, duration)
}

/// Acquires, waiting as long as a case may, and panics on failure.
async fn acquire<S: VersionedStore + 'static>(
    store: &Arc<S>,
    lease_key: &Key,
    options: &LeaseOptions,
) -> Lease<Arc<S>> {
    let result = Lease::acquire(store.clone(), lease_key.clone(), options, PATIENCE).await;
    ok(result, &format!("{} acquires {lease_key}", options.owner()))
}

/// The holder a lost-lease error names, as (owner, token); panics on another error.
#[track_caller]
fn lost_to<T: std::fmt::Debug>(
    result: optimist_core::Result<T>,
    context: &str,
) -> Option<(String, u64)> {
    match result {
        Err(Error::Lease {
            conflict: LeaseConflict::Lost { holder, .. },
            ..
        }) => holder.map(|h| (h.owner, h.token)),
        other => fail(
            format!(
                "{context}: refused with Error::Lease, LeaseConflict::Lost, naming the current holder and its token"
            ),
            format!("{context}: expected a lost lease, got {other:?}"),
        ),
    }
}

/// The lease record's version, read past the lease.
async fn record_version<S: VersionedStore + ?Sized>(store: &S, lease_key: &Key) -> Version {
    must_get(store, lease_key).await.version
}

/// contract R19: acquiring a free key gives the record's first version as the token; a
/// renewal moves the record's version on and keeps the token; a release keeps the record
/// (marked released) and frees the lease at once; the next holder's token is greater.
pub async fn r19_acquire_renew_release_and_tokens_grow<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R19
    let lease_key = key(&*store, "lease");
    let first = ok(
        Lease::try_acquire(store.clone(), lease_key.clone(), &options("a", LONG)).await,
        "try_acquire on a free key",
    );
    check_eq(
        &first.token().get(),
        &1,
        "the first holder's token is the record's version 1",
    );
    let holder = ok(current_holder(&*store, &lease_key).await, "current_holder");
    check_eq(
        &holder.map(|h| (h.owner, h.token)),
        &Some(("a".to_string(), 1)),
        "after acquiring a free key, the current holder is its owner with token 1",
    );

    ok(first.renew().await, "renew");
    check_eq(
        &record_version(&*store, &lease_key).await,
        &Version::new(2),
        "a renewal is a write",
    );
    check_eq(
        &first.record_version(),
        &Version::new(2),
        "the holder keeps track of the record's version: v2 after one renewal",
    );
    check_eq(&first.token().get(), &1, "a renewal keeps the token");

    // Held: another owner cannot take it without waiting, and is told who holds it.
    match Lease::try_acquire(store.clone(), lease_key.clone(), &options("b", LONG)).await {
        Err(Error::Lease {
            conflict: LeaseConflict::Held { holder },
            lease,
            ..
        }) => {
            check_eq(
                &lease,
                &lease_key,
                "try_acquire of a held lease names the lease key",
            );
            check_eq(
                &(holder.owner.as_str(), holder.token),
                &("a", 1),
                "try_acquire of a held lease is LeaseConflict::Held naming the holder and its token",
            );
        }
        other => fail(
            "try_acquire of a held lease never waits: Error::Lease with LeaseConflict::Held",
            format!("try_acquire of a held lease: expected Held, got {other:?}"),
        ),
    }
    check_eq(
        &record_version(&*store, &lease_key).await,
        &Version::new(2),
        "a refused try_acquire writes nothing: the record stays at v2",
    );

    ok(first.release().await, "release");
    let record = must_get(&*store, &lease_key).await;
    check_eq(
        &record.version,
        &Version::new(3),
        "a release keeps the record and counts",
    );
    check_eq(
        &ok(current_holder(&*store, &lease_key).await, "current_holder"),
        &None,
        "after a release, the lease has no current holder",
    );

    // Free at once, waiting or not.
    let second = ok(
        Lease::try_acquire(store.clone(), lease_key.clone(), &options("b", LONG)).await,
        "try_acquire of a released lease",
    );
    check_eq(
        &second.token().get(),
        &4,
        "the next holder takes the released record with an update: token v4, greater than every earlier one",
    );
    ok(second.release().await, "release");
    let third = acquire(&store, &lease_key, &options("c", LONG)).await;
    check_eq(
        &third.token().get(),
        &6,
        "after a release by the second holder, the third holder's token is v6, greater again",
    );
}

/// contract R19: a holder that crashed (its handle dropped, never released) is taken
/// over by a waiter, only after the waiter saw its record unchanged for the lease
/// duration; the new token is greater.
pub async fn r19_crashed_holder_is_taken_over_after_the_duration<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // contract R19
    let lease_key = key(&*store, "lease");
    let duration = Duration::from_millis(150);
    let crashed = acquire(&store, &lease_key, &options("crashed", duration)).await;
    let crashed_token = crashed.token().get();
    drop(crashed);
    let waiting_since = tokio::time::Instant::now();
    let next = acquire(&store, &lease_key, &options("next", duration)).await;
    // A lower bound, which no slow machine can break: the waiter's count starts after
    // `waiting_since`.
    check(
        waiting_since.elapsed() >= duration,
        "the waiter takes over a crashed holder's lease only after seeing its record unchanged for the full lease duration",
        || {
            format!(
                "taken over after {:?}, before the lease duration {duration:?}",
                waiting_since.elapsed()
            )
        },
    );
    check(
        next.token().get() > crashed_token,
        format!("the new holder's token is greater than the crashed holder's v{crashed_token}"),
        || format!("v{}", next.token().get()),
    );
    let holder = ok(current_holder(&*store, &lease_key).await, "current_holder");
    check_eq(
        &holder.map(|h| (h.owner, h.token)),
        &Some(("next".to_string(), next.token().get())),
        "after the takeover, the current holder is the waiter, with its token",
    );
}

/// contract R19, R10: a holder paused past its lease and taken over is refused on every
/// guarded write (insert, update, put, delete, remove, transaction), on renew and on
/// release, with an error naming the new holder and its token; nothing is written.
pub async fn r19_paused_holder_writes_are_all_refused<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R19
    let s = &*store;
    let lease_key = key(s, "lease");
    let data = key(s, "data");
    let other = key(s, "other");
    let duration = Duration::from_millis(100);
    let old = acquire(&store, &lease_key, &options("old", duration)).await;
    let v1 = ok(
        old.guard()
            .insert(&data, doc(s, json!({"by": "old"})))
            .await,
        "guarded insert",
    );

    // `old` pauses (it neither renews nor writes); a waiter takes over.
    let new = acquire(&store, &lease_key, &options("new", LONG)).await;
    let record = record_version(s, &lease_key).await;
    let expected = Some(("new".to_string(), new.token().get()));
    let guard = old.guard();
    let late = doc(s, json!({"by": "old, late"}));
    check_eq(
        &lost_to(guard.update(&data, v1, late.clone()).await, "update"),
        &expected,
        "a guarded update by a holder whose lease was taken over is refused with LeaseConflict::Lost naming the new holder and its token",
    );
    check_eq(
        &lost_to(guard.put(&data, late.clone()).await, "put"),
        &expected,
        "a guarded put by a holder whose lease was taken over is refused with LeaseConflict::Lost naming the new holder and its token",
    );
    check_eq(
        &lost_to(guard.delete(&data, v1).await, "delete"),
        &expected,
        "a guarded delete by a holder whose lease was taken over is refused with LeaseConflict::Lost naming the new holder and its token",
    );
    check_eq(
        &lost_to(guard.remove(&data).await, "remove"),
        &expected,
        "a guarded remove by a holder whose lease was taken over is refused with LeaseConflict::Lost naming the new holder and its token",
    );
    check_eq(
        &lost_to(guard.insert(&other, late.clone()).await, "insert"),
        &expected,
        "a guarded insert by a holder whose lease was taken over is refused with LeaseConflict::Lost naming the new holder and its token",
    );
    let tx = guard
        .transact(vec![
            TxOp::put(data.clone(), late.clone()),
            TxOp::put(other.clone(), late),
        ])
        .await;
    check_eq(
        &lost_to(tx, "transact"),
        &expected,
        "a guarded transaction by a holder whose lease was taken over is refused with LeaseConflict::Lost naming the new holder and its token",
    );
    check_eq(
        &lost_to(old.renew().await, "renew"),
        &expected,
        "a guarded renew by a holder whose lease was taken over is refused with LeaseConflict::Lost naming the new holder and its token",
    );
    check_eq(
        &lost_to(old.release().await, "release"),
        &expected,
        "a guarded release by a holder whose lease was taken over is refused with LeaseConflict::Lost naming the new holder and its token",
    );

    assert_item(
        s,
        &data,
        &doc(s, json!({"by": "old"})),
        v1,
        "after the refused writes",
    )
    .await;
    assert_absent(s, &other, "after the refused insert").await;
    check_eq(
        &record_version(s, &lease_key).await,
        &record,
        "the record is untouched",
    );
    // The new holder writes.
    let v2 = ok(
        new.guard()
            .update(&data, v1, doc(s, json!({"by": "new"})))
            .await,
        "new holder",
    );
    check_eq(
        &v2,
        &Version::new(2),
        "the holder's guarded update landed before the pause: v2",
    );
}

/// One contender's account: the tokens it got, and the appends the store accepted and
/// refused, as (token, contender, step).
#[derive(Default)]
struct Account {
    tokens: Vec<u64>,
    accepted: Vec<(u64, u64, u64)>,
    refused: Vec<(u64, u64, u64)>,
}

/// The log's entries, as (token, contender, step).
fn entries(log: &Value) -> Vec<(u64, u64, u64)> {
    log.get("entries")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    let n = |i: usize| e.get(i).and_then(Value::as_u64).unwrap_or(u64::MAX);
                    (n(0), n(1), n(2))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One guarded append of (token, contender, step) to the log: read it, write it back
/// longer, expecting the version read, in one transaction with the lease's check.
async fn append<S: VersionedStore + 'static>(
    lease: &Lease<Arc<S>>,
    log: &Key,
    entry: (u64, u64, u64),
) -> optimist_core::Result<Version> {
    let s = &**lease.store();
    let current = s.get(log).await?;
    let mut list = current
        .as_ref()
        .map(|c| entries(&c.value))
        .unwrap_or_default();
    list.push(entry);
    // An object already, as stores that hold only objects need.
    let value =
        json!({"entries": list.iter().map(|(t, c, n)| json!([t, c, n])).collect::<Vec<_>>()});
    match current {
        Some(current) => lease.guard().update(log, current.version, value).await,
        None => lease.guard().insert(log, value).await,
    }
}

/// contract R19: contenders with random pauses longer than the lease (a holder stalls,
/// as in a stop-the-world pause, without renewing) take turns on one lease and append,
/// under it, entries carrying their token to one log. The log shows tokens only
/// growing: no holder's write lands after a newer token's, so no two holders' writes
/// interleave. Every accepted append is in the log once, no refused one is, and every
/// acquisition's token is distinct and greater than the same contender's previous one.
pub async fn r19_contenders_never_interleave_guarded_writes<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // contract R19
    let (contenders, rounds, steps) = (3u64, 2, 3u64);
    let duration = Duration::from_millis(150);
    let pause = duration * 2;
    let seed = env::seed().unwrap_or_else(SplitMix64::fresh_seed);
    let lease_key = key(&*store, "lease");
    let log = key(&*store, "log");
    let accounts: Vec<_> = (0..contenders)
        .map(|c| {
            let store = store.clone();
            let (lease_key, log) = (lease_key.clone(), log.clone());
            tokio::spawn(async move {
                let mut rng = SplitMix64::new(seed ^ c.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let owner = format!("contender-{c}");
                let options = options(&owner, duration).with_poll_interval(duration / 3);
                let mut account = Account::default();
                for _ in 0..rounds {
                    let lease = acquire(&store, &lease_key, &options).await;
                    let token = lease.token().get();
                    account.tokens.push(token);
                    // At most one pause per turn, at a random step, or none.
                    let pause_at = rng.below(steps + 1);
                    for step in 0..steps {
                        if step == pause_at {
                            tokio::time::sleep(pause).await;
                        }
                        let entry = (token, c, step);
                        match append(&lease, &log, entry).await {
                            Ok(_) => account.accepted.push(entry),
                            Err(Error::Lease { .. }) => {
                                account.refused.push(entry);
                                break;
                            }
                            Err(err) => fail("a guarded append succeeds or is refused with Error::Lease, nothing else", format!("{owner} appending {entry:?} (seed {seed}): {err}")),
                        }
                        match lease.renew().await {
                            Ok(()) | Err(Error::Lease { .. }) => {}
                            Err(err) => fail("a renewal succeeds or is refused with Error::Lease, nothing else", format!("{owner} renewing (seed {seed}): {err}")),
                        }
                    }
                    match lease.release().await {
                        Ok(()) | Err(Error::Lease { .. }) => {}
                        Err(err) => fail("a release succeeds or is refused with Error::Lease, nothing else", format!("{owner} releasing (seed {seed}): {err}")),
                    }
                }
                account
            })
        })
        .collect();
    let mut all = Vec::new();
    for handle in accounts {
        match handle.await {
            Ok(account) => all.push(account),
            Err(join) => match join.try_into_panic() {
                Ok(payload) => std::panic::resume_unwind(payload),
                Err(join) => fail(
                    "every contender finishes (its task was not cancelled)",
                    format!("a contender was cancelled: {join}"),
                ),
            },
        }
    }
    let logged = entries(&must_get(&*store, &log).await.value);
    let context = format!("seed {seed}, log {logged:?}");
    check(
        logged.windows(2).all(|w| w[0].0 <= w[1].0),
        "the log's entries come in the order of their fencing tokens: no holder wrote after a newer token's write",
        || format!("a holder wrote after a newer token's write: {context}"),
    );
    let mut tokens: Vec<u64> = Vec::new();
    for (c, account) in all.iter().enumerate() {
        check(
            account.tokens.windows(2).all(|w| w[0] < w[1]),
            "each contender's fencing tokens grow from one acquisition to the next",
            || {
                format!(
                    "contender {c}'s tokens do not grow: {:?}; {context}",
                    account.tokens
                )
            },
        );
        tokens.extend(&account.tokens);
        for entry in &account.accepted {
            let times = logged.iter().filter(|e| *e == entry).count();
            check_eq(
                &times,
                &1,
                format!("accepted append {entry:?} is in the log {times} times: {context}"),
            );
        }
        for entry in &account.refused {
            check(
                !logged.contains(entry),
                "an append refused for a lost lease wrote nothing",
                || format!("refused append {entry:?} is in the log: {context}"),
            );
        }
    }
    let accepted: usize = all.iter().map(|a| a.accepted.len()).sum();
    check_eq(
        &logged.len(),
        &accepted,
        format!("the log holds exactly the accepted appends: {context}"),
    );
    let distinct: std::collections::HashSet<_> = tokens.iter().collect();
    check_eq(
        &distinct.len(),
        &tokens.len(),
        format!("two acquisitions had one token: {tokens:?}; {context}"),
    );
}

/// contract R19: a holder renewing from one task while writing from another keeps its
/// lease: a guarded write whose check met the holder's own renewal is sent again, not
/// reported as a lost lease.
pub async fn r19_own_renewals_do_not_lose_the_lease<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R19
    let lease_key = key(&*store, "lease");
    let lease = Arc::new(acquire(&store, &lease_key, &options("w", LONG)).await);
    let renewals = 10;
    let heart = lease.clone();
    let beating = tokio::spawn(async move {
        for _ in 0..renewals {
            heart.renew().await?;
            tokio::task::yield_now().await;
        }
        Ok::<(), Error>(())
    });
    let data = key(&*store, "data");
    for n in 0..10u64 {
        let s = &*store;
        ok(
            lease.guard().put(&data, doc(s, json!({"n": n}))).await,
            "guarded put during renewals",
        );
    }
    ok(
        beating
            .await
            .unwrap_or_else(|e| fail("a holder renewing from one task while writing from another keeps its lease: a guarded write whose check met the holder's own renewal is sent again, not reported as a lost lease", format!("the renewing task: {e}"))),
        "renew",
    );
    check_eq(
        &record_version(&*store, &lease_key).await,
        &Version::new(1 + renewals),
        "every renewal landed",
    );
    check_eq(
        &lease.record_version(),
        &Version::new(1 + renewals),
        "the holder keeps track of the record's version through its own renewals",
    );
    assert_item(
        &*store,
        &data,
        &doc(&*store, json!({"n": 9})),
        Version::new(10),
        "after the puts",
    )
    .await;
}

/// contract R19: bad input to a lease is `InvalidInput` and writes nothing: a zero, a
/// sub-millisecond or an absurd duration, an empty or blank owner, a fencing token of
/// another lease key, a lease released by the same handle, a key holding an item that
/// is not a lease record.
pub async fn r19_bad_lease_input_writes_nothing<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R19
    let s = &*store;
    let lease_key = key(s, "lease");
    for bad in [
        options("w", Duration::ZERO),
        options("w", Duration::from_micros(10)),
        options("w", Duration::from_secs(400 * 24 * 3600)),
        options("", LONG),
        options("   ", LONG),
    ] {
        let context = format!("{bad:?}");
        assert_invalid(
            Lease::try_acquire(store.clone(), lease_key.clone(), &bad).await,
            &context,
        );
        assert_invalid(
            Lease::acquire(store.clone(), lease_key.clone(), &bad, PATIENCE).await,
            &context,
        );
    }
    assert_absent(s, &lease_key, "after bad options").await;

    let lease = acquire(&store, &lease_key, &options("w", LONG)).await;
    let other_key = key(s, "another-lease");
    assert_invalid(
        Lease::resume(
            store.clone(),
            other_key.clone(),
            &lease.token(),
            &options("w", LONG),
        )
        .await,
        "resume with a token of another lease",
    );
    assert_absent(s, &other_key, "after the foreign token").await;
    ok(lease.release().await, "release");
    let released = record_version(s, &lease_key).await;
    assert_invalid(lease.renew().await, "renew of a released lease");
    assert_invalid(lease.release().await, "release of a released lease");
    check_eq(
        &record_version(s, &lease_key).await,
        &released,
        "nothing written",
    );

    // Renew and release of a lease another owner holds now: lost, nothing written.
    let next = acquire(&store, &lease_key, &options("next", LONG)).await;
    let held = record_version(s, &lease_key).await;
    let stale = Lease::resume(
        store.clone(),
        lease_key.clone(),
        &lease.token(),
        &options("w", LONG),
    )
    .await;
    let expected = Some(("next".to_string(), next.token().get()));
    check_eq(
        &lost_to(stale, "resume of a lease taken since"),
        &expected,
        "resuming a lease taken since is refused with LeaseConflict::Lost naming the new holder",
    );
    check_eq(
        &record_version(s, &lease_key).await,
        &held,
        "nothing written",
    );

    let not_a_lease = key(s, "not-a-lease");
    let v = ok(
        s.insert(&not_a_lease, doc(s, json!({"mine": true}))).await,
        "insert",
    );
    assert_invalid(
        Lease::acquire(
            store.clone(),
            not_a_lease.clone(),
            &options("w", LONG),
            PATIENCE,
        )
        .await,
        "acquire on an item that is not a lease record",
    );
    assert_item(
        s,
        &not_a_lease,
        &doc(s, json!({"mine": true})),
        v,
        "left alone",
    )
    .await;
}

/// contract R19, R10: guarded writes refuse bad input before sending anything: a write
/// to the lease record itself, an empty transaction, one op more than fits beside the
/// lease's check.
pub async fn r19_guarded_bad_input_writes_nothing<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R19
    let s = &*store;
    let lease_key = key(s, "lease");
    let lease = acquire(&store, &lease_key, &options("w", LONG)).await;
    let guard = lease.guard();
    let max = store.capabilities().max_transaction_ops;
    check_eq(
        &guard.capabilities().max_transaction_ops,
        &(max - 1),
        "the check takes one op",
    );
    assert_invalid(
        guard.put(&lease_key, doc(s, json!(1))).await,
        "guarded put of the lease record",
    );
    assert_invalid(guard.transact(vec![]).await, "empty guarded transaction");
    let data = key(s, "data");
    assert_invalid(
        guard
            .transact(vec![
                TxOp::put(data.clone(), doc(s, json!(1))),
                TxOp::remove(lease_key.clone()),
            ])
            .await,
        "guarded transaction writing the lease record",
    );
    let too_many: Vec<TxOp> = (0..max)
        .map(|i| TxOp::put(key(s, &format!("k{i}")), doc(s, json!(i))))
        .collect();
    assert_invalid(
        guard.transact(too_many).await,
        "one op more than fits beside the check",
    );
    check_eq(
        &record_version(s, &lease_key).await,
        &Version::FIRST,
        "the record is untouched",
    );
    assert_absent(s, &data, "nothing written").await;
    assert_absent(s, &key(s, "k0"), "nothing written").await;
}

/// A shard's progress, saved under a lease by the typed layer.
#[derive(Entity, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct ShardProgress {
    #[entity(partition_key)]
    shard: String,
    done: u64,
    #[entity(version)]
    version: Option<u64>,
}

/// The lost-lease holder of a typed error.
#[track_caller]
fn typed_lost_to<T: std::fmt::Debug>(
    result: typed::Result<T>,
    context: &str,
) -> Option<(String, u64)> {
    match result {
        Err(typed::Error::Store(err)) => lost_to(Err::<(), _>(err), context),
        other => fail(
            format!(
                "{context}: a typed call refused with the store's Error::Lease, LeaseConflict::Lost"
            ),
            format!("{context}: expected a lost lease, got {other:?}"),
        ),
    }
}

/// contract R19, R21, R22, R24: the typed layer's guarded save, delete and update_with
/// write under the lease; once the lease is taken over, each is refused naming the new
/// holder, the entity is unchanged and nothing is written.
pub async fn r19_typed_guarded_writes_follow_the_lease<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R19
    let lease_key = key(&*store, "lease");
    let ctx = Context::new(store.clone());
    let old = acquire(
        &store,
        &lease_key,
        &options("old", Duration::from_millis(100)),
    )
    .await;
    let mut progress = ShardProgress {
        shard: "shard-1".into(),
        done: 0,
        version: None,
    };
    let saved = ctx.save_guarded(&mut progress, &old).await;
    check(
        saved.is_ok(),
        "a guarded save (insert) under a held lease succeeds",
        || format!("guarded insert: {saved:?}"),
    );
    progress.done = 1;
    let saved = ctx.save_guarded(&mut progress, &old).await;
    check(
        saved.is_ok(),
        "a guarded save (update) under a held lease succeeds",
        || format!("guarded update: {saved:?}"),
    );
    let bump = |p: &mut ShardProgress| -> Result<(), std::convert::Infallible> {
        p.done += 1;
        Ok(())
    };
    let bumped: typed::Result<ShardProgress> = ctx
        .update_with_guarded("shard-1", &old, &RetryPolicy::default(), bump)
        .await;
    let bumped = bumped.unwrap_or_else(|e| {
        fail(
            "a guarded update_with under a held lease succeeds",
            format!("guarded update_with: {e}"),
        )
    });
    check_eq(
        &(bumped.done, bumped.version),
        &(2, Some(3)),
        "a guarded update_with applies the change and writes the version back: done 2 at version 3",
    );
    progress = bumped;

    let new = acquire(&store, &lease_key, &options("new", LONG)).await;
    let expected = Some(("new".to_string(), new.token().get()));
    let before = progress.clone();
    progress.done = 99;
    check_eq(
        &typed_lost_to(ctx.save_guarded(&mut progress, &old).await, "save"),
        &expected,
        "a guarded save by a holder whose lease was taken over is refused with LeaseConflict::Lost naming the new holder and its token",
    );
    check_eq(
        &progress.version,
        &before.version,
        "a refused save leaves the version",
    );
    let result: typed::Result<ShardProgress> = ctx
        .update_with_guarded("shard-1", &old, &RetryPolicy::default(), bump)
        .await;
    check_eq(
        &typed_lost_to(result, "update_with"),
        &expected,
        "a guarded update_with by a holder whose lease was taken over is refused with LeaseConflict::Lost naming the new holder and its token",
    );
    check_eq(
        &typed_lost_to(ctx.delete_guarded(&before, &old).await, "delete"),
        &expected,
        "a guarded delete by a holder whose lease was taken over is refused with LeaseConflict::Lost naming the new holder and its token",
    );
    let stored: Option<ShardProgress> = ctx.load("shard-1").await.unwrap_or_else(|e| {
        fail(
            "a load after the refused writes succeeds",
            format!("load: {e}"),
        )
    });
    check_eq(
        &stored,
        &Some(before.clone()),
        "nothing written by the old holder",
    );

    let mut progress = before;
    progress.done = 3;
    let saved = ctx.save_guarded(&mut progress, &new).await;
    check(
        saved.is_ok(),
        "the new holder's guarded save succeeds",
        || format!("the new holder's save: {saved:?}"),
    );
    let deleted = ctx.delete_guarded(&progress, &new).await;
    check(
        deleted.is_ok(),
        "the new holder's guarded delete succeeds",
        || format!("the new holder's delete: {deleted:?}"),
    );
}

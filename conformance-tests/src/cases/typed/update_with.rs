//! R24: `update_with` loads, applies the change, saves, and on a conflict re-applies
//! the change to the conflict's current item without reading again, with bounded
//! attempts; the change may abort; inserting a missing item is explicit.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use optimist_core::retry::RetryPolicy;
use optimist_core::typed::{Context, Error};
use optimist_core::{Conflict, ConflictKind, VersionedStore};

use super::counting::Counting;
use super::entities::Counter;
use super::{assert_mismatch, done, failure};
use crate::verdict::{check, check_eq, fail};

fn increment(counter: &mut Counter) -> Result<(), Infallible> {
    counter.count += 1;
    Ok(())
}

/// R24: load, change, save; the saved entity comes back with its new version.
pub async fn r24_update_with_applies_the_change<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // R24
    let ctx = Context::new(store);
    done(ctx.save(&mut Counter::new("c")).await, "save");
    let policy = RetryPolicy::default();
    let saved: Counter = done(
        ctx.update_with("c", &policy, increment).await,
        "update_with",
    );
    check_eq(
        &(saved.count, saved.version),
        &(1, Some(2)),
        "R24: update_with loads, applies the change and saves: count 1 at version 2",
    );
    check_eq(
        &done(ctx.load::<Counter>("c").await, "load"),
        &Some(saved),
        "R24: the entity update_with returned is what the store holds",
    );
}

/// R24, R11: after each conflict the change is re-applied to the conflict's item: one
/// read in all, whatever the number of conflicts, and the other writer's changes are
/// kept.
pub async fn r24_update_with_reapplies_to_the_conflict_item_without_reading<
    S: VersionedStore + 'static,
>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R24
    let ctx = Context::new(Counting::new(store));
    done(ctx.save(&mut Counter::new("c")).await, "save");
    // The other writer adds 100 before each of the next two updates.
    ctx.store().interfere(2);
    let saved: Counter = done(
        ctx.update_with("c", &RetryPolicy::default(), increment)
            .await,
        "update_with",
    );
    check_eq(
        &ctx.store().gets(),
        &1,
        "one read, none after the conflicts",
    );
    check_eq(&ctx.store().updates(), &3, "two conflicts, then success");
    // The change was applied to the other writer's item, not lost nor doubled.
    check_eq(
        &(saved.count, saved.version),
        &(201, Some(4)),
        "R24, R11: after each conflict the change is re-applied to the conflict's item: one read in all, whatever the number of conflicts, and the other writer's changes are kept",
    );
}

/// R24: the attempts are bounded, and the error is `RetryExhausted` with the last
/// conflict; nothing of the change landed.
pub async fn r24_update_with_exhausts_with_the_last_conflict<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R24
    let ctx = Context::new(Counting::new(store));
    done(ctx.save(&mut Counter::new("c")).await, "save");
    ctx.store().interfere(usize::MAX);
    let policy = RetryPolicy::default().with_max_attempts(3);
    let err = failure(
        ctx.update_with::<Counter, _, _>("c", &policy, increment)
            .await,
        "update_with against a writer that always wins",
    );
    match &err {
        Error::RetryExhausted { attempts, last } => {
            check_eq(
                attempts,
                &3,
                "R24: RetryExhausted after the policy's 3 attempts",
            );
            assert_mismatch(last, 3, 4);
        }
        other => fail(
            "R24: the attempts are bounded, and the error is RetryExhausted with the last conflict",
            format!("wanted RetryExhausted, got {other:?}"),
        ),
    }
    check_eq(&ctx.store().updates(), &3, "R24: one update per attempt: 3");
    check_eq(
        &ctx.store().gets(),
        &1,
        "R24: one read in all, none after a conflict",
    );
    // Only the other writer's changes landed.
    ctx.store().interfere(0);
    let stored = done(ctx.load::<Counter>("c").await, "load");
    check_eq(
        &stored.map(|c| c.count),
        &Some(300),
        "R24: an exhausted update_with wrote nothing: the other writer's count stands",
    );
}

#[derive(Debug)]
struct LimitReached;

impl fmt::Display for LimitReached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("limit reached")
    }
}

impl std::error::Error for LimitReached {}

/// R24: the change can abort with its own error, which the caller gets back; nothing
/// is written.
pub async fn r24_update_with_abort_writes_nothing<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // R24
    let ctx = Context::new(Counting::new(store));
    done(ctx.save(&mut Counter::new("c")).await, "save");
    let err = failure(
        ctx.update_with("c", &RetryPolicy::default(), |_: &mut Counter| {
            Err(LimitReached)
        })
        .await,
        "update_with whose change aborts",
    );
    check(
        err.aborted::<LimitReached>().is_some(),
        "R24: the change's own abort error comes back to the caller",
        || format!("{err:?}"),
    );
    check_eq(
        &ctx.store().updates(),
        &0,
        "R24: an aborted change sends no update",
    );
    let stored = done(ctx.load::<Counter>("c").await, "load");
    check_eq(
        &stored.and_then(|c| c.version),
        &Some(1),
        "R24: an aborted change writes nothing: the item stays at version 1",
    );
}

/// R24: a missing item is `NotFound`, never created silently.
pub async fn r24_update_with_missing_item_is_not_found<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // R24
    let ctx = Context::new(store);
    let err = failure(
        ctx.update_with::<Counter, _, _>("nope", &RetryPolicy::default(), increment)
            .await,
        "update_with of a missing item",
    );
    check_eq(
        &err.conflict().map(Conflict::kind),
        &Some(ConflictKind::NotFound),
        "R24: update_with of a missing item is NotFound",
    );
    check_eq(
        &done(ctx.load::<Counter>("nope").await, "load"),
        &None,
        "R24: a missing item is never created silently",
    );
}

/// R24: creating a missing item is an explicit option; a default under another key
/// is refused, not written under the wrong key.
pub async fn r24_update_or_insert_with_creates_explicitly<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R24
    let ctx = Context::new(store);
    let policy = RetryPolicy::default();
    let created = done(
        ctx.update_or_insert_with("n", &policy, || Counter::new("n"), increment)
            .await,
        "update_or_insert_with of a missing item",
    );
    check_eq(
        &(created.count, created.version),
        &(1, Some(1)),
        "R24: update_or_insert_with of a missing item creates it: count 1 at version 1",
    );
    let again = done(
        ctx.update_or_insert_with("n", &policy, || Counter::new("n"), increment)
            .await,
        "update_or_insert_with of an existing item",
    );
    check_eq(
        &(again.count, again.version),
        &(2, Some(2)),
        "R24: update_or_insert_with of an existing item updates it: count 2 at version 2",
    );
    let err = failure(
        ctx.update_or_insert_with("m", &policy, || Counter::new("x"), increment)
            .await,
        "update_or_insert_with whose default has another key",
    );
    check(
        err.store_error().is_some_and(|e| e.is_invalid_input()),
        "R24: update_or_insert_with whose default has another key is InvalidInput",
        || format!("{err:?}"),
    );
    check_eq(
        &done(ctx.load::<Counter>("m").await, "load m"),
        &None,
        "R24: the refused update_or_insert_with wrote nothing under the key asked",
    );
    check_eq(
        &done(ctx.load::<Counter>("x").await, "load x"),
        &None,
        "R24: the refused update_or_insert_with wrote nothing under the default's key",
    );
}

/// R24: 16 writers × 50 increments on one key with the default policy: every
/// increment lands exactly once and no writer runs out of attempts.
pub async fn r24_hot_key_16_writers_50_increments_all_land<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R24
    const WRITERS: u64 = 16;
    const INCREMENTS: u64 = 50;
    let ctx = Arc::new(Context::new(store));
    done(ctx.save(&mut Counter::new("hot")).await, "save");
    let tasks: Vec<_> = (0..WRITERS)
        .map(|_| {
            let ctx = Arc::clone(&ctx);
            tokio::spawn(async move {
                let policy = RetryPolicy::default();
                for _ in 0..INCREMENTS {
                    ctx.update_with::<Counter, _, _>("hot", &policy, increment)
                        .await?;
                }
                Ok::<(), Error>(())
            })
        })
        .collect();
    for (writer, task) in tasks.into_iter().enumerate() {
        match task.await {
            Ok(result) => done(result, &format!("writer {writer}")),
            Err(join) => fail(
                "R24: 16 writers × 50 increments on one key with the default policy: every increment lands exactly once and no writer runs out of attempts",
                format!("writer {writer} did not finish: {join}"),
            ),
        }
    }
    let counter = done(ctx.load::<Counter>("hot").await, "load");
    check_eq(
        &counter.as_ref().map(|c| c.count),
        &Some(WRITERS * INCREMENTS),
        "R24: every increment of every writer lands exactly once: the count",
    );
    check_eq(
        &counter.and_then(|c| c.version),
        &Some(WRITERS * INCREMENTS + 1),
        "R24: one version per increment: the counter's version",
    );
}

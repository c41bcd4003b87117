//! R25: `update_with` calls on one key through a context with write combining: every
//! change lands exactly once, a change that gives up fails alone, and a writer outside
//! the context (conflicting with the combined writes) loses nothing either.

use std::collections::BTreeMap;
use std::sync::Arc;

use optimist_core::VersionedStore;
use optimist_core::retry::RetryPolicy;
use optimist_core::typed::{Context, Error};

use super::done;
use super::entities::ChangeLog;
use crate::verdict::{check, check_eq, fail};

/// R25: 16 writers × 8 changes through one combining context, one change in 7 giving
/// up, and a writer of 8 changes without combining on the same item: the stored log
/// holds each change that succeeded exactly once and none that gave up, each caller got
/// back an entity holding its change, and the versions callers learned never exceed
/// the item's.
pub async fn r25_write_combining_lands_every_change_exactly_once<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R25
    const WRITERS: u64 = 16;
    const CHANGES: u64 = 8;
    let combining = Context::new(Arc::clone(&store)).with_write_combining(true);
    let outside = Context::new(store);
    let mut log = ChangeLog {
        id: "combined".into(),
        changes: Vec::new(),
        version: None,
    };
    done(outside.save(&mut log).await, "save the log");
    let gives_up = |id: u64| id % 7 == 3;
    let mut tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let ctx = combining.clone();
            tokio::spawn(async move {
                let policy = RetryPolicy::default();
                let mut outcomes = Vec::new();
                for n in 0..CHANGES {
                    let id = writer * 100 + n;
                    let result = ctx
                        .update_with::<ChangeLog, _, _>("combined", &policy, |log| {
                            if gives_up(id) {
                                return Err("this change gives up");
                            }
                            log.changes.push(id);
                            Ok(())
                        })
                        .await;
                    outcomes.push((id, result));
                }
                outcomes
            })
        })
        .collect();
    tasks.push(tokio::spawn(async move {
        let policy = RetryPolicy::default();
        let mut outcomes = Vec::new();
        for n in 0..CHANGES {
            let id = 10_000 + n;
            let result = outside
                .update_with::<ChangeLog, _, _>("combined", &policy, |log| {
                    log.changes.push(id);
                    Ok::<_, &str>(())
                })
                .await;
            outcomes.push((id, result));
        }
        outcomes
    }));
    let mut landed = BTreeMap::new();
    for (index, task) in tasks.into_iter().enumerate() {
        let outcomes = match task.await {
            Ok(outcomes) => outcomes,
            Err(join) => fail(
                "R25: 16 writers × 8 changes through one combining context, one change in 7 giving up, and a writer of 8 changes without combining on the same item: the stored log holds each change that succeeded exactly once and none that gave up, each caller got back an entity holding its change, and the versions callers learned never exceed the item's",
                format!("writer {index} did not finish: {join}"),
            ),
        };
        for (id, result) in outcomes {
            match result {
                Ok(entity) => {
                    check(
                        entity.changes.contains(&id),
                        "R25: 16 writers × 8 changes through one combining context, one change in 7 giving up, and a writer of 8 changes without combining on the same item: the stored log holds each change that succeeded exactly once and none that gave up, each caller got back an entity holding its change, and the versions callers learned never exceed the item's",
                        || {
                            format!(
                                "R25: change {id} succeeded but the entity it got back does not hold it: {:?}",
                                entity.changes
                            )
                        },
                    );
                    landed.insert(id, entity.version);
                }
                Err(Error::Aborted { .. }) if gives_up(id) && id < 10_000 => {}
                Err(err) => fail(
                    "R25: 16 writers × 8 changes through one combining context, one change in 7 giving up, and a writer of 8 changes without combining on the same item: the stored log holds each change that succeeded exactly once and none that gave up, each caller got back an entity holding its change, and the versions callers learned never exceed the item's",
                    format!("R25: change {id} failed: {err} ({err:?})"),
                ),
            }
        }
    }
    let stored = done(
        combining.load::<ChangeLog>("combined").await,
        "load the log",
    )
    .unwrap_or_else(|| fail("R25: 16 writers × 8 changes through one combining context, one change in 7 giving up, and a writer of 8 changes without combining on the same item: the stored log holds each change that succeeded exactly once and none that gave up, each caller got back an entity holding its change, and the versions callers learned never exceed the item's", "R25: the log is gone"));
    let mut counts = BTreeMap::new();
    for id in &stored.changes {
        *counts.entry(*id).or_insert(0u32) += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    check(
        twice.is_empty(),
        "R25: 16 writers × 8 changes through one combining context, one change in 7 giving up, and a writer of 8 changes without combining on the same item: the stored log holds each change that succeeded exactly once and none that gave up, each caller got back an entity holding its change, and the versions callers learned never exceed the item's",
        || format!("R25: changes applied more than once: {twice:?}"),
    );
    let lost: Vec<_> = landed
        .keys()
        .filter(|id| !counts.contains_key(id))
        .collect();
    check(
        lost.is_empty(),
        "R25: 16 writers × 8 changes through one combining context, one change in 7 giving up, and a writer of 8 changes without combining on the same item: the stored log holds each change that succeeded exactly once and none that gave up, each caller got back an entity holding its change, and the versions callers learned never exceed the item's",
        || format!("R25: changes reported done but not stored: {lost:?}"),
    );
    let strays: Vec<_> = counts
        .keys()
        .filter(|id| !landed.contains_key(id))
        .collect();
    check(
        strays.is_empty(),
        "R25: 16 writers × 8 changes through one combining context, one change in 7 giving up, and a writer of 8 changes without combining on the same item: the stored log holds each change that succeeded exactly once and none that gave up, each caller got back an entity holding its change, and the versions callers learned never exceed the item's",
        || format!("R25: changes stored that gave up: {strays:?}"),
    );
    let newest = landed.values().max().copied().flatten();
    check_eq(
        &newest,
        &stored.version,
        "R25: the last version a caller learned is not the item's",
    );
}

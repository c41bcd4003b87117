//! contract R13: races with exact invariants, tasks released together on a multi-thread
//! runtime.

use std::collections::HashSet;
use std::sync::Arc;

use optimist_core::{Conflict, Error, Key, TxOp, Value, Version, Versioned, VersionedStore};
use serde_json::json;
use tokio::sync::Barrier;

use crate::env;
use crate::support::{assert_item, assert_same_value, doc, key, must_get, ok};
use crate::verdict::{check, check_eq, fail};

/// Starts `tasks` copies of `body`, released together by a barrier, and collects their
/// results in task order.
async fn race<S, F, Fut, T>(store: &Arc<S>, tasks: usize, body: F) -> Vec<T>
where
    S: VersionedStore + 'static,
    F: Fn(Arc<S>, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(tasks));
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let barrier = Arc::clone(&barrier);
            let work = body(Arc::clone(store), task);
            tokio::spawn(async move {
                barrier.wait().await;
                work.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks);
    for handle in handles {
        match handle.await {
            Ok(result) => results.push(result),
            Err(join) => match join.try_into_panic() {
                Ok(payload) => std::panic::resume_unwind(payload),
                Err(join) => fail(
                    "every racing task answers (its task was not cancelled)",
                    format!("a racing task was cancelled: {join}"),
                ),
            },
        }
    }
    results
}

/// contract R5, R13: N tasks insert one key at once: exactly one wins with version 1, every
/// other gets `AlreadyExists` carrying the winner's item.
pub async fn r13_race_insert_has_one_winner<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R13
    let k = key(&*store, "contested");
    let caps = store.capabilities().clone();
    let results = race(&store, env::race_tasks(), |s, task| {
        let k = k.clone();
        async move { s.insert(&k, doc(&*s, json!({"winner": task}))).await }
    })
    .await;
    let winners: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_ok())
        .map(|(t, _)| t)
        .collect();
    check_eq(
        &winners.len(),
        &1,
        format!("exactly one insert wins; results: {results:?}"),
    );
    let winner = winners[0];
    check_eq(
        &results[winner].as_ref().ok(),
        &Some(&Version::FIRST),
        "the winning insert returns version 1",
    );
    let winning_value = doc(&*store, json!({"winner": winner}));
    for (task, result) in results
        .into_iter()
        .enumerate()
        .filter(|(t, _)| *t != winner)
    {
        match result {
            Err(Error::Conflict {
                conflict: Conflict::AlreadyExists { current },
                ..
            }) => {
                check_eq(
                    &current.version,
                    &Version::FIRST,
                    format!(
                        "task {task}: the AlreadyExists conflict carries the winner's item, at version 1"
                    ),
                );
                assert_same_value(
                    &caps,
                    &current.value,
                    &winning_value,
                    &format!("task {task} sees the winner"),
                );
            }
            other => fail(
                format!(
                    "task {task}: a losing insert is refused with Conflict::AlreadyExists carrying the winner's item"
                ),
                format!("task {task}: expected AlreadyExists, got {other:?}"),
            ),
        }
    }
    assert_item(
        &*store,
        &k,
        &winning_value,
        Version::FIRST,
        "after the race",
    )
    .await;
}

/// contract R6, R13: N tasks update from the same version at once: exactly one wins, every
/// other gets `VersionMismatch` carrying the winner's item, and a later get sees the
/// winner's version.
pub async fn r13_race_update_has_one_winner<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R13
    let k = key(&*store, "contested");
    let caps = store.capabilities().clone();
    let v1 = ok(
        store
            .insert(&k, doc(&*store, json!({"winner": null})))
            .await,
        "insert",
    );
    let results = race(&store, env::race_tasks(), |s, task| {
        let k = k.clone();
        async move { s.update(&k, v1, doc(&*s, json!({"winner": task}))).await }
    })
    .await;
    let winners: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_ok())
        .map(|(t, _)| t)
        .collect();
    check_eq(
        &winners.len(),
        &1,
        format!("exactly one update wins; results: {results:?}"),
    );
    let winner = winners[0];
    let winning_version = results[winner].as_ref().ok().copied();
    check_eq(
        &winning_version,
        &Some(Version::new(2)),
        "the winning update returns version 2",
    );
    let winning_value = doc(&*store, json!({"winner": winner}));
    for (task, result) in results
        .into_iter()
        .enumerate()
        .filter(|(t, _)| *t != winner)
    {
        match result {
            Err(Error::Conflict {
                conflict: Conflict::VersionMismatch { expected, current },
                ..
            }) => {
                check_eq(
                    &expected,
                    &v1,
                    format!(
                        "task {task}: the VersionMismatch conflict names the version it expected"
                    ),
                );
                check_eq(
                    &current.version,
                    &Version::new(2),
                    format!(
                        "task {task}: the VersionMismatch conflict carries the winner's item, at version 2"
                    ),
                );
                assert_same_value(
                    &caps,
                    &current.value,
                    &winning_value,
                    &format!("task {task} sees the winner"),
                );
            }
            other => fail(
                format!(
                    "task {task}: a losing update is refused with Conflict::VersionMismatch carrying the winner's item"
                ),
                format!("task {task}: expected VersionMismatch, got {other:?}"),
            ),
        }
    }
    assert_item(
        &*store,
        &k,
        &winning_value,
        Version::new(2),
        "the winner's version is what get sees",
    )
    .await;
}

fn counter_state(item: &Versioned<Value>) -> (u64, Vec<String>) {
    let value = item.value.get("doc").unwrap_or(&item.value);
    let Some(count) = value.get("count").and_then(Value::as_u64) else {
        fail(
            "the counter as it stands, read or carried by a conflict (R11): a count and its ids",
            crate::verdict::describe_item(item),
        )
    };
    let ids = value
        .get("ids")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    (count, ids)
}

/// contract R13: W tasks each increment one counter I times, re-applying their change to the
/// conflict's current item on every conflict: the final count is W×I and every
/// increment's unique id is present exactly once.
pub async fn r13_race_counter_loses_no_increment<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R13
    let k = key(&*store, "counter");
    let (workers, increments) = (env::race_tasks(), env::race_increments());
    ok(
        store
            .insert(&k, doc(&*store, json!({"count": 0, "ids": []})))
            .await,
        "insert",
    );
    let attempts = race(&store, workers, |s, worker| {
        let k = k.clone();
        async move {
            let mut attempts = 0u64;
            let mut current = must_get(&*s, &k).await;
            for i in 0..increments {
                let id = format!("{worker}-{i}");
                loop {
                    attempts += 1;
                    check(
                        attempts < 1_000_000,
                        "every worker's increment lands after finitely many conflicts",
                        || format!("worker {worker} made no progress in a million attempts"),
                    );
                    let (count, mut ids) = counter_state(&current);
                    ids.push(id.clone());
                    let next = doc(&*s, json!({"count": count + 1, "ids": ids}));
                    match s.update(&k, current.version, next.clone()).await {
                        Ok(version) => {
                            current = Versioned::new(next, version);
                            break;
                        }
                        Err(Error::Conflict {
                            conflict: Conflict::VersionMismatch { current: now, .. },
                            ..
                        }) => {
                            current = now;
                        }
                        Err(err) if err.is_retryable() => {
                            tokio::task::yield_now().await;
                            current = must_get(&*s, &k).await;
                        }
                        Err(err) => fail(
                            "every increment's update succeeds or conflicts; no other error",
                            format!("worker {worker}, increment {i}: {err}"),
                        ),
                    }
                }
            }
            attempts
        }
    })
    .await;
    let total = u64::try_from(workers * increments).unwrap_or(u64::MAX);
    let item = must_get(&*store, &k).await;
    let (count, ids) = counter_state(&item);
    check_eq(
        &count,
        &total,
        format!("final count after {workers}×{increments} increments"),
    );
    check_eq(
        &item.version,
        &Version::new(total + 1),
        "one version per increment: the counter's version is its number of writes plus one",
    );
    let unique: HashSet<&String> = ids.iter().collect();
    check_eq(
        &ids.len(),
        &unique.len(),
        "every increment is applied exactly once: no id appears twice",
    );
    for worker in 0..workers {
        for i in 0..increments {
            check(
                unique.contains(&format!("{worker}-{i}")),
                "every increment's unique id is in the counter exactly once",
                || format!("increment {worker}-{i} was lost"),
            );
        }
    }
    check(
        attempts.iter().sum::<u64>() >= total,
        format!("the workers made at least one attempt per increment ({total} in all)"),
        || format!("{} attempts", attempts.iter().sum::<u64>()),
    );
}

fn balance(value: &Value) -> i64 {
    let inner = value.get("doc").unwrap_or(value);
    inner
        .get("balance")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MIN)
}

/// contract R10, R13: tasks move money between accounts in transactions while readers take
/// consistent snapshots (gets confirmed by a transaction of checks): every snapshot, and
/// the end state, holds the same total.
pub async fn r13_race_transfers_keep_the_total<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R13
    const ACCOUNTS: usize = 4;
    const START: i64 = 100;
    let accounts: Arc<Vec<Key>> = Arc::new(
        (0..ACCOUNTS)
            .map(|i| key(&*store, &format!("account-{i}")))
            .collect(),
    );
    for account in accounts.iter() {
        ok(
            store
                .insert(account, doc(&*store, json!({"balance": START})))
                .await,
            "open account",
        );
    }
    let total = START * ACCOUNTS as i64;
    let transfers = env::race_increments();
    let tasks = env::race_tasks().max(3);
    let snapshots = race(&store, tasks, |s, task| {
        let accounts = Arc::clone(&accounts);
        async move {
            let mut snapshots = 0usize;
            let mut done = 0usize;
            let mut rounds = 0usize;
            while done < transfers {
                rounds += 1;
                check(rounds < 1_000_000, "every transfer and snapshot task makes progress", || format!("task {task} made no progress"));
                if task % 3 == 0 {
                    // A reader: a snapshot is consistent when no account moved since it was read.
                    let mut items = Vec::with_capacity(ACCOUNTS);
                    for account in accounts.iter() {
                        items.push(must_get(&*s, account).await);
                    }
                    let checks = accounts
                        .iter()
                        .zip(&items)
                        .map(|(a, i)| TxOp::check(a.clone(), i.version))
                        .collect();
                    match s.transact(checks).await {
                        Ok(_) => {
                            let seen: i64 = items.iter().map(|i| balance(&i.value)).sum();
                            check_eq(&seen, &total, format!("task {task} saw a total of {seen} in a consistent snapshot"));
                            snapshots += 1;
                            done += 1;
                        }
                        Err(err) if err.is_conflict() || err.is_retryable() => {}
                        Err(err) => fail("a snapshot's transaction of checks succeeds or conflicts; no other error", format!("snapshot check: {err}")),
                    }
                    continue;
                }
                let from = (task + rounds) % ACCOUNTS;
                let to = (from + 1 + task % (ACCOUNTS - 1)) % ACCOUNTS;
                let a = must_get(&*s, &accounts[from]).await;
                let b = must_get(&*s, &accounts[to]).await;
                let amount = 1 + (rounds as i64 % 7);
                let ops = vec![
                    TxOp::update(
                        accounts[from].clone(),
                        a.version,
                        doc(&*s, json!({"balance": balance(&a.value) - amount})),
                    ),
                    TxOp::update(
                        accounts[to].clone(),
                        b.version,
                        doc(&*s, json!({"balance": balance(&b.value) + amount})),
                    ),
                ];
                match s.transact(ops).await {
                    Ok(_) => done += 1,
                    Err(err) if err.is_conflict() || err.is_retryable() => {}
                    Err(err) => fail("a transfer succeeds or conflicts; no other error", format!("transfer: {err}")),
                }
            }
            snapshots
        }
    })
    .await;
    check(
        snapshots.iter().sum::<usize>() > 0,
        "at least one reader completed a consistent snapshot",
        || "no reader completed a snapshot".to_string(),
    );
    let mut end = 0;
    for account in accounts.iter() {
        end += balance(&must_get(&*store, account).await.value);
    }
    check_eq(
        &end,
        &total,
        "the total after all transfers is the total before them",
    );
}

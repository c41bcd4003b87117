//! A database kept busy by another connection: the store waits and retries within its
//! busy budget, then answers a retryable backend error, never a conflict, and writes
//! nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use optimist_core::{Error, Key, TxOp, Version, VersionedStore};
use optimist_sqlite::SqliteStore;
use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor, SqliteConnection};

const BUDGET: Duration = Duration::from_millis(300);

/// A raw connection holding the file's write lock until it is rolled back.
async fn hold_write_lock(path: &Path) -> SqliteConnection {
    let mut raw = SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .unwrap();
    raw.execute("BEGIN IMMEDIATE").await.unwrap();
    raw
}

async fn release(mut raw: SqliteConnection) {
    raw.execute("ROLLBACK").await.unwrap();
    raw.close().await.unwrap();
}

fn assert_busy(result: Result<impl std::fmt::Debug, Error>, what: &str) {
    match result {
        Err(Error::Backend {
            retryable: true, ..
        }) => {}
        other => panic!("{what}: expected a retryable backend error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_database_is_retried_then_reported_retryable() {
    let path = common::fresh_path("busy");
    let store = SqliteStore::builder()
        .path(&path)
        .busy_budget(BUDGET)
        .build()
        .await
        .unwrap();
    let existing = Key::new("existing");
    let fresh = Key::new("fresh");
    let v1 = store.insert(&existing, json!("before")).await.unwrap();

    let raw = hold_write_lock(&path).await;
    let started = Instant::now();
    assert_busy(store.insert(&fresh, json!(1)).await, "insert");
    assert!(
        started.elapsed() >= BUDGET,
        "gave up after {:?}, before the budget",
        started.elapsed()
    );
    assert_busy(store.put(&fresh, json!(1)).await, "put");
    assert_busy(store.update(&existing, v1, json!("during")).await, "update");
    assert_busy(
        store
            .update(&existing, Version::new(9), json!("stale"))
            .await,
        "stale update",
    );
    assert_busy(store.delete(&existing, v1).await, "delete");
    assert_busy(store.remove(&existing).await, "remove");
    assert_busy(
        store
            .transact(vec![
                TxOp::put(fresh.clone(), json!(1)),
                TxOp::check(existing.clone(), v1),
            ])
            .await,
        "transact",
    );
    // WAL: a reader is never blocked by a writer.
    assert_eq!(
        store.get(&existing).await.unwrap().map(|i| i.version),
        Some(v1)
    );
    release(raw).await;

    // Nothing was written while the lock was held.
    assert_eq!(store.get(&fresh).await.unwrap(), None);
    let item = store.get(&existing).await.unwrap().unwrap();
    assert_eq!((item.value, item.version), (json!("before"), v1));
    store.close().await;
    common::remove_db(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_released_within_the_budget_is_waited_for() {
    let path = common::fresh_path("busy-wait");
    let store = SqliteStore::builder()
        .path(&path)
        .busy_budget(Duration::from_secs(10))
        .build()
        .await
        .unwrap();
    let key = Key::new("k");
    let raw = hold_write_lock(&path).await;
    let writer = {
        let store = store.clone();
        let key = key.clone();
        tokio::spawn(async move { store.insert(&key, json!("waited")).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!writer.is_finished(), "the insert waits for the lock");
    release(raw).await;
    assert_eq!(writer.await.unwrap().unwrap(), Version::FIRST);
    assert_eq!(
        store.get(&key).await.unwrap().map(|i| i.value),
        Some(json!("waited"))
    );
    store.close().await;
    common::remove_db(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_on_a_busy_new_file_is_retryable() {
    // A brand-new file whose creator still holds the write lock: the table cannot be
    // created within the budget.
    let path = common::fresh_path("busy-build");
    let first = SqliteStore::builder()
        .path(&path)
        .table("other")
        .build()
        .await
        .unwrap();
    let raw = hold_write_lock(&path).await;
    let result = SqliteStore::builder()
        .path(&path)
        .busy_budget(BUDGET)
        .build()
        .await;
    assert_busy(result.map(|_| ()), "build");
    release(raw).await;
    first.close().await;
    common::remove_db(&path);
}

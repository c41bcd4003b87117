//! A database kept busy by another connection: SQLite waits up to its busy timeout in
//! each attempt, the engine sends the operation again within the store's retry policy,
//! and then the caller gets a `Busy` backend error, never a conflict, with nothing
//! written.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::path::Path;
use std::time::Duration;

use optimist_core::retry::RetryPolicy;
use optimist_core::{Error, ErrorKind, Key, Storage, TxOp, Version, VersionedStore};
use optimist_sqlite::SqliteStore;
use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor, SqliteConnection};

const BUSY_TIMEOUT: Duration = Duration::from_millis(100);
const ATTEMPTS: u32 = 3;

fn policy() -> RetryPolicy {
    RetryPolicy::new(ATTEMPTS, Duration::from_millis(1), Duration::from_millis(5))
}

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

/// A busy error after the store's retries were spent: kind `Busy`, no longer marked
/// retryable (the caller should not multiply the store's retries), the driver's error
/// as the source.
fn assert_busy(result: Result<impl std::fmt::Debug, Error>, what: &str) {
    match result {
        Err(Error::Backend {
            backend: "sqlite",
            kind: ErrorKind::Busy,
            retryable: false,
            source,
            ..
        }) => assert!(
            source.to_string().contains("locked"),
            "{what}: the source is SQLite's error: {source}"
        ),
        other => panic!("{what}: expected a busy backend error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_database_is_retried_then_reported_busy() {
    let path = common::fresh_path("busy");
    let store = SqliteStore::builder()
        .path(&path)
        .busy_timeout(BUSY_TIMEOUT)
        .retry_policy(policy())
        .build()
        .await
        .unwrap();
    let existing = Key::new("existing");
    let fresh = Key::new("fresh");
    let v1 = store.insert(&existing, json!("before")).await.unwrap();

    let (attempts, _recording) = common::record_attempts();
    let raw = hold_write_lock(&path).await;
    assert_busy(store.insert(&fresh, json!(1)).await, "insert");
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
    // Every write was sent as often as the policy allows: the busy answers were
    // classified as transient and as having applied nothing.
    assert_eq!(attempts.take(), vec![u64::from(ATTEMPTS); 7]);
    // WAL: a reader is never blocked by a writer.
    assert_eq!(
        store.get(&existing).await.unwrap().map(|i| i.version),
        Some(v1)
    );
    assert_eq!(attempts.take(), vec![1]);
    release(raw).await;

    // Nothing was written while the lock was held.
    assert_eq!(store.get(&fresh).await.unwrap(), None);
    let item = store.get(&existing).await.unwrap().unwrap();
    assert_eq!((item.value, item.version), (json!("before"), v1));
    store.close().await;
    common::remove_db(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_released_within_the_busy_timeout_is_waited_for_in_one_attempt() {
    let path = common::fresh_path("busy-wait");
    let store = SqliteStore::builder()
        .path(&path)
        .busy_timeout(Duration::from_secs(10))
        .retry_policy(policy())
        .build()
        .await
        .unwrap();
    let key = Key::new("k");
    let (attempts, _recording) = common::record_attempts();
    let raw = hold_write_lock(&path).await;
    // The insert runs on this task (so its attempts are recorded) while the lock is
    // released a little later.
    let release_later = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        release(raw).await;
    };
    let (inserted, ()) = tokio::join!(store.insert(&key, json!("waited")), release_later);
    assert_eq!(inserted.unwrap(), Version::FIRST);
    // SQLite's busy handler did the waiting, inside the first attempt.
    assert_eq!(attempts.take(), vec![1]);
    assert_eq!(
        store.get(&key).await.unwrap().map(|i| i.value),
        Some(json!("waited"))
    );
    store.close().await;
    common::remove_db(&path);
}

#[tokio::test]
async fn the_default_retry_policy_is_cores_transient_default() {
    let store = SqliteStore::builder().build().await.unwrap();
    assert_eq!(
        Storage::retry_policy(&store),
        RetryPolicy::transient_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_on_a_busy_file_is_busy() {
    // A file whose write lock another connection holds: the table cannot be created
    // in any attempt.
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
        .busy_timeout(BUSY_TIMEOUT)
        .retry_policy(policy())
        .build()
        .await;
    assert_busy(result.map(|_| ()), "build");
    release(raw).await;
    first.close().await;
    common::remove_db(&path);
}

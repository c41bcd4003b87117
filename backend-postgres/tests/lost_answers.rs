//! Writes whose answers are lost (contract R12, R14): the engine reads the key once and
//! settles the write by its token where it can, resends a conditional write whose key is
//! unchanged (at most one attempt can apply), and answers `Indeterminate` otherwise.
//!
//! Two ways to lose an answer, neither of them a race: the proxy holds back the answers
//! on the connections open now (the write did reach the server), or a transaction
//! holds the row's lock so that the write waits on the server past the response timeout
//! (it has not applied when the engine reads the key, and applies once the lock goes).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::Duration;

use optimist_core::retry::RetryPolicy;
use optimist_core::{Key, Version, VersionedStore};
use optimist_postgres::PostgresStore;
use serde_json::json;
use sqlx::PgPool;

const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

async fn store(url: &str, table: &str, tombstones: bool, attempts: u32) -> PostgresStore {
    PostgresStore::builder()
        .url(url)
        .table(table)
        .max_connections(1)
        .response_timeout(RESPONSE_TIMEOUT)
        .tombstones(tombstones)
        .retry_policy(
            RetryPolicy::transient_default()
                .clone()
                .with_max_attempts(attempts),
        )
        .build()
        .await
        .expect("store")
}

/// A call still running after a minute is a hang: fail instead of waiting forever.
async fn returns<T>(name: &str, call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), call)
        .await
        .unwrap_or_else(|_| panic!("{name} hung"))
}

/// Waits until no statement on `table` runs on the server any more but this pool's
/// own: the writes whose clients gave up on them have applied or been refused.
async fn settled_on_server(pool: &PgPool, table: &str) {
    returns("the server finishing the abandoned statements", async {
        loop {
            let running: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE pid <> pg_backend_pid() AND state = 'active' AND query LIKE $1",
            )
            .bind(format!("%\"{table}\"%"))
            .fetch_one(pool)
            .await
            .expect("pg_stat_activity");
            if running == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conditional_write_whose_answer_is_lost_is_settled_by_its_token() {
    let Some(url) = common::url_or_skip("a_conditional_write_whose_answer_is_lost") else {
        return;
    };
    let (proxy, proxied) = common::proxied(&url).await;
    let table = common::fresh_table();
    let store = store(&proxied, &table, false, 3).await;
    let key = Key::new("k");
    let v1 = store.insert(&key, json!(1)).await.expect("insert");
    let v2 = store.update(&key, v1, json!(2)).await.expect("update");

    // The update reaches the server, which applies it; its answer is held back. The
    // engine reads the key on a new connection and finds its token there: success,
    // applied once (a second application would have been refused, or left version 4).
    common::idle(&store).await;
    proxy.stall_open();
    let v3 = returns("update", store.update(&key, v2, json!(3)))
        .await
        .expect("settled as applied");
    assert_eq!(v3, Version::new(3));
    let item = store.get(&key).await.expect("get").expect("present");
    assert_eq!((item.value, item.version), (json!(3), v3));

    // The same for an insert, in tombstone mode: there an empty key proves the insert
    // has not applied yet, so it may be sent again (without tombstones only its token
    // settles it: the key may be empty because another client deleted it since).
    let tombstones = crate::store(&proxied, &common::fresh_table(), true, 3).await;
    let fresh = Key::new("fresh");
    common::idle(&tombstones).await;
    proxy.stall_open();
    let v = returns("insert", tombstones.insert(&fresh, json!("new")))
        .await
        .expect("settled as applied");
    assert_eq!(v, Version::FIRST);
    assert_eq!(
        tombstones.get(&fresh).await.expect("get").map(|i| i.value),
        Some(json!("new"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_whose_answer_is_lost_is_settled_by_its_tombstone() {
    let Some(url) = common::url_or_skip("a_delete_whose_answer_is_lost") else {
        return;
    };
    let (proxy, proxied) = common::proxied(&url).await;
    let table = common::fresh_table();
    let store = store(&proxied, &table, true, 3).await;
    let key = Key::new("k");
    let v1 = store.insert(&key, json!(1)).await.expect("insert");

    // In tombstone mode the delete leaves its token on the tombstone: the engine finds
    // it, and the delete succeeds. (In the default mode the row is gone, and with it
    // any sign of who removed it: that delete is `Indeterminate`.)
    common::idle(&store).await;
    proxy.stall_open();
    returns("delete", store.delete(&key, v1))
        .await
        .expect("settled as applied");
    assert_eq!(store.get(&key).await.expect("get"), None);
    assert_eq!(
        store.insert(&key, json!(2)).await.expect("insert"),
        Version::new(2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_held_behind_a_lock_are_indeterminate_and_land_once() {
    let Some(url) = common::url_or_skip("writes_held_behind_a_lock_are_indeterminate") else {
        return;
    };
    let table = common::fresh_table();
    const ATTEMPTS: u32 = 2;
    let store = store(&url, &table, false, ATTEMPTS).await;
    let (updated, put) = (Key::new("u"), Key::new("p"));
    let v1 = store.insert(&updated, json!(1)).await.expect("insert");
    store.insert(&put, json!(1)).await.expect("insert");

    let side = PgPool::connect(&url).await.expect("side pool");
    let mut lock = side.begin().await.expect("begin");
    sqlx::query(&format!(
        "SELECT 1 FROM \"{table}\" WHERE partition IN ('u', 'p') FOR UPDATE"
    ))
    .execute(&mut *lock)
    .await
    .expect("lock the rows");

    // The update waits for the lock past the response timeout. The engine reads the
    // key: still at v1, so nothing applied yet, and the update is sent again with the
    // same token, which waits too. Once the attempts are spent, nobody can tell.
    let err = returns("update", store.update(&updated, v1, json!(2)))
        .await
        .expect_err("no answer");
    assert!(err.is_indeterminate(), "{err:?}");
    // An unconditional put is never sent again: a resend could land after a write
    // that follows it. Its key shows no sign of it: `Indeterminate`.
    let err = returns("put", store.put(&put, json!(2)))
        .await
        .expect_err("no answer");
    assert!(err.is_indeterminate(), "{err:?}");

    // Released, the abandoned statements run: the update's two attempts asked for the
    // same version, so exactly one applies; the put lands late, once.
    lock.commit().await.expect("release");
    settled_on_server(&side, &table).await;
    let item = store.get(&updated).await.expect("get").expect("present");
    assert_eq!((item.value, item.version), (json!(2), Version::new(2)));
    let item = store.get(&put).await.expect("get").expect("present");
    assert_eq!((item.value, item.version), (json!(2), Version::new(2)));
}

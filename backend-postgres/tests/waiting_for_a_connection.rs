//! Callers that find every connection of the store in use wait for one, each at most
//! the acquire timeout from its own start: the pool keeps the timers of earlier waits
//! for the next ones (armed, some already gone off), and a timer kept from an earlier
//! wait must neither end a later one early nor keep it from the connection that frees.
//!
//! The store has one connection, held by an `update` polled once that the server
//! cannot answer yet: another session holds the row's lock. Every other call waits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::{Duration, Instant};

use optimist_core::retry::RetryPolicy;
use optimist_core::{Error, ErrorKind, Key, VersionedStore};
use optimist_postgres::PostgresStore;
use serde_json::json;
use sqlx::{Connection, Executor, PgConnection};

const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(300);

/// A `get` of `key` on `store`, how it ended and how long it took.
async fn timed_get(store: &PostgresStore, key: &Key) -> (Result<bool, Error>, Duration) {
    let started = Instant::now();
    let result = store.get(key).await.map(|item| item.is_some());
    (result, started.elapsed())
}

#[tokio::test]
async fn each_waiting_caller_waits_its_own_acquire_timeout_and_gets_a_freed_connection() {
    let Some(url) = common::url_or_skip("each_waiting_caller_waits_its_own_acquire_timeout") else {
        return;
    };
    let store = PostgresStore::builder()
        .url(&url)
        .table(common::fresh_table())
        .max_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // One attempt: a wait that times out is the call's answer, not sent again.
        .retry_policy(
            RetryPolicy::transient_default()
                .clone()
                .with_max_attempts(1),
        )
        .build()
        .await
        .expect("store");
    let key = Key::new("k");
    let inserted = store.insert(&key, json!({"n": 1})).await.expect("insert");

    // Another session locks the row, so an update of it cannot be answered until that
    // session lets go: the update holds the store's only connection until then.
    let mut locker = PgConnection::connect(&url).await.expect("second session");
    locker.execute("BEGIN").await.expect("begin");
    locker
        .execute(format!("SELECT 1 FROM \"{}\" FOR UPDATE", store.table()).as_str())
        .await
        .expect("lock the row");
    let mut holder = Box::pin(store.update(&key, inserted, json!({"n": 2})));
    assert!(futures::poll!(holder.as_mut()).is_pending());
    assert_eq!(store.idle_connections(), 0);

    // Waits in a row, each on the timer the last one left (gone off by then): each
    // still waits its whole timeout, and nothing is sent.
    for wait in 0..3 {
        let (result, waited) = timed_get(&store, &key).await;
        let err = result.expect_err("no connection is free");
        assert_eq!(
            err.backend_kind(),
            Some(ErrorKind::Unavailable),
            "wait {wait}: {err}"
        );
        assert!(
            waited >= ACQUIRE_TIMEOUT,
            "wait {wait} ended after {waited:?}, before its acquire timeout of {ACQUIRE_TIMEOUT:?}"
        );
    }

    // A caller waiting when the connection frees gets it.
    let waiter = timed_get(&store, &key);
    let freed = async {
        tokio::time::sleep(ACQUIRE_TIMEOUT / 3).await;
        locker.execute("ROLLBACK").await.expect("let go of the row");
        holder
            .await
            .expect("the held update applies once the row is free");
    };
    let ((result, _), ()) = tokio::join!(waiter, freed);
    assert!(result.expect("the waiter gets the freed connection"));
    assert_eq!(store.idle_connections(), 1);
}

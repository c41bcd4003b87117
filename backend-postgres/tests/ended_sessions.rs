//! The server ends the store's sessions while they sit idle in the pool, as a restart,
//! a failover, `pg_terminate_backend` or an idle-session timeout does: PostgreSQL
//! sends each an error of severity FATAL and closes it. The call that finds such a
//! connection gets that error, nothing applied (the server never ran its statement),
//! and the connection must not go back to the pool: on a closed socket the next write
//! would find a reset connection, its outcome unknown.
//!
//! Each store here names its sessions (`application_name`), and only those are ended:
//! the other tests share the server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::{Duration, Instant};

use optimist_core::retry::RetryPolicy;
use optimist_core::{Error, ErrorKind, Key, VersionedStore};
use optimist_postgres::{DEFAULT_MAX_CONNECTIONS, PostgresStore, PostgresStoreBuilder};
use serde_json::json;
use sqlx::{Connection, PgConnection};

/// A builder for a store on a fresh table whose sessions are called `name`.
fn named(url: &str, name: &str) -> PostgresStoreBuilder {
    let joint = if url.contains('?') { '&' } else { '?' };
    PostgresStore::builder()
        .url(format!("{url}{joint}application_name={name}"))
        .table(common::fresh_table())
}

/// A name no other test's sessions have.
fn fresh_name() -> String {
    format!("optimist_ended_{:016x}", rand::random::<u64>())
}

/// Ends every session called `name` and waits until the server has closed them all
/// (each sent its FATAL error first); returns how many there were.
async fn end_sessions(admin: &mut PgConnection, name: &str) -> usize {
    // The sessions first, then each ended: in one statement the server may call
    // `pg_terminate_backend` before it filters by name.
    let pids: Vec<i32> =
        sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
            .bind(name)
            .fetch_all(&mut *admin)
            .await
            .expect("pg_stat_activity");
    for pid in &pids {
        let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(&mut *admin)
            .await
            .expect("pg_terminate_backend");
        assert!(ended, "session {pid} ended");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1")
                .bind(name)
                .fetch_one(&mut *admin)
                .await
                .expect("pg_stat_activity");
        if left == 0 {
            return pids.len();
        }
        assert!(Instant::now() < deadline, "{left} sessions still open");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_call_on_an_ended_session_applies_nothing_and_the_session_is_not_used_again() {
    let Some(url) = common::url_or_skip("a_call_on_an_ended_session_applies_nothing") else {
        return;
    };
    let mut admin = PgConnection::connect(&url).await.expect("admin session");
    let name = fresh_name();
    let store = named(&url, &name)
        .max_connections(1)
        // One attempt: each call's own answer is what the test reads.
        .retry_policy(RetryPolicy::no_retry().clone())
        .build()
        .await
        .expect("store");
    let key = Key::new("k");
    store.put(&key, json!(1)).await.expect("first put");

    for round in 0..3 {
        assert_eq!(end_sessions(&mut admin, &name).await, 1, "round {round}");
        // The put goes out on the ended session: the server's FATAL error answers it,
        // and the server never ran it.
        let refused = store
            .put(&key, json!("lost"))
            .await
            .expect_err("session ended");
        assert!(
            matches!(
                &refused,
                Error::Backend {
                    kind: ErrorKind::Unavailable,
                    ..
                }
            ),
            "round {round}: {refused:?}"
        );
        // The next put runs on a new session, not on the closed one (where a reset
        // socket would leave its outcome unknown).
        common::idle(&store).await;
        let version = store
            .put(&key, json!(round))
            .await
            .unwrap_or_else(|err| panic!("round {round}: the put after: {err:?}"));
        let item = store.get(&key).await.expect("get").expect("the item");
        assert_eq!((item.value, item.version), (json!(round), version));
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_every_session_ended_a_burst_of_calls_all_succeed() {
    let Some(url) = common::url_or_skip("after_every_session_ended_a_burst_of_calls") else {
        return;
    };
    let mut admin = PgConnection::connect(&url).await.expect("admin session");
    let name = fresh_name();
    // The default retry policy, as a service has it.
    let store = named(&url, &name).build().await.expect("store");
    assert_eq!(
        end_sessions(&mut admin, &name).await,
        usize::try_from(DEFAULT_MAX_CONNECTIONS).unwrap()
    );

    // Each connection answers its first call with the server's FATAL error (nothing
    // applied: the engine sends the call again on another) and is then replaced; no
    // call may be left not knowing whether it wrote.
    let calls: Vec<_> = (0..32)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let key = Key::new(format!("burst-{n}"));
                let version = store.put(&key, json!(n)).await?;
                let item = store.get(&key).await?;
                Ok::<_, Error>((n, version, item))
            })
        })
        .collect();
    for call in calls {
        let (n, version, item) = call
            .await
            .expect("task")
            .unwrap_or_else(|err| panic!("a call after the sessions ended: {err:?}"));
        let item = item.unwrap_or_else(|| panic!("burst-{n} written"));
        assert_eq!((item.value, item.version), (json!(n), version));
    }
    store.close().await;
}

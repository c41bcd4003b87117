//! A store's statements find their rows through the primary key at every table size,
//! even with plans made while the table was small.
//!
//! A statement prepared on a connection and run a few times gets a generic plan, which
//! the connection keeps until the table is analyzed again. Made while the table held a
//! few rows (and had been analyzed so), that plan was a sequential scan: after a bulk
//! load, every update read the whole table until autovacuum came by. The server's own
//! counters (`pg_stat_user_tables`) show how many rows sequential scans read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::{Duration, Instant};

use optimist_core::{Key, VersionedStore};
use optimist_postgres::PostgresStore;
use serde_json::json;

/// The table's counts so far: rows updated, and rows read by sequential scans.
async fn counts(store: &PostgresStore) -> (i64, i64) {
    let mut conn = store.pool().acquire().await.unwrap();
    // A new snapshot of the statistics each time, not the one read before.
    sqlx::query("SELECT pg_stat_clear_snapshot()")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query_as("SELECT n_tup_upd, seq_tup_read FROM pg_stat_user_tables WHERE relname = $1")
        .bind(store.table())
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn updates_use_the_index_after_a_bulk_load_on_a_table_analyzed_small() {
    let Some(url) = common::url_or_skip("updates_use_the_index_after_a_bulk_load") else {
        return;
    };
    // One connection: every update below runs on the same prepared statement.
    let store = PostgresStore::builder()
        .url(url)
        .table(common::fresh_table())
        .max_connections(1)
        .build()
        .await
        .unwrap();
    const LOADED: i64 = 200_000;
    let table = format!("\"{}\"", store.table());
    let key = Key::new("item1");
    for n in 1..=17 {
        store
            .put(&Key::new(format!("item{n}")), json!({"n": n}))
            .await
            .unwrap();
    }
    sqlx::query(&format!("ANALYZE {table}"))
        .execute(store.pool())
        .await
        .unwrap();
    // More runs than the server plans one by one before it settles on a generic plan.
    let mut version = store.get(&key).await.unwrap().unwrap().version;
    for n in 0..10 {
        version = store.update(&key, version, json!({"n": n})).await.unwrap();
    }
    sqlx::query(&format!(
        "INSERT INTO {table} (partition, sort, value, version) \
         SELECT 'loaded' || g, '', '{{}}', 1 FROM generate_series(1, {LOADED}) g"
    ))
    .execute(store.pool())
    .await
    .unwrap();

    for n in 0..5 {
        version = store.update(&key, version, json!({"n": n})).await.unwrap();
    }
    // A backend reports its counts when idle, within seconds: wait until all 15
    // updates show, then read how many rows sequential scans read, counted with them.
    // Every scan of the table before the load read at most 17 rows.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (updated, scanned) = loop {
        let (updated, scanned) = counts(&store).await;
        if updated >= 15 || Instant::now() > deadline {
            break (updated, scanned);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(updated, 15, "the server never reported the updates");
    assert!(
        scanned < LOADED,
        "the updates after the load read {scanned} rows by sequential scans, the table over"
    );
    let _ = sqlx::query(&format!("DROP TABLE {table}"))
        .execute(store.pool())
        .await;
}

//! The table: hostile names are refused before any SQL runs, names that are SQL
//! keywords work, a table of another schema is refused (and left as it was), a table of
//! the previous layout gains the new columns, and two tables in one file are separate
//! stores.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_core::{Error, Key, VersionedStore};
use optimist_sqlite::SqliteStore;
use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};

#[tokio::test]
async fn hostile_table_names_are_configuration_errors() {
    let long = "a".repeat(200);
    let cases: [(&str, &str); 8] = [
        ("x; DROP TABLE y", "';'"),
        ("\"quoted\"", "must start with"),
        ("", "empty"),
        (&long, "200 bytes"),
        ("1st", "must start with"),
        ("a b", "' '"),
        ("ta\u{0}ble", "'\\0'"),
        ("sqlite_master", "reserves"),
    ];
    for (name, named_problem) in cases {
        match SqliteStore::builder().table(name).build().await {
            Err(Error::Configuration {
                backend: "sqlite",
                reason,
            }) => assert!(
                reason.contains(named_problem),
                "{name:?}: the reason {reason:?} should name {named_problem:?}"
            ),
            other => panic!("{name:?}: expected a configuration error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn longest_name_and_keyword_names_work() {
    for name in ["select", "order", "_", &"t".repeat(63)] {
        let store = SqliteStore::builder().table(name).build().await.unwrap();
        let key = Key::new("k");
        assert_eq!(store.insert(&key, json!(name)).await.unwrap().get(), 1);
        assert_eq!(
            store.get(&key).await.unwrap().map(|i| i.value),
            Some(json!(name))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tables_in_one_file_are_separate_stores() {
    let path = common::fresh_path("two-tables");
    let a = SqliteStore::builder()
        .path(&path)
        .table("a")
        .build()
        .await
        .unwrap();
    let b = SqliteStore::builder()
        .path(&path)
        .table("b")
        .build()
        .await
        .unwrap();
    let key = Key::new("k");
    a.insert(&key, json!("in a")).await.unwrap();
    assert_eq!(b.get(&key).await.unwrap(), None);
    b.insert(&key, json!("in b")).await.unwrap();
    assert_eq!(
        a.get(&key).await.unwrap().map(|i| i.value),
        Some(json!("in a"))
    );

    // Reopening finds the table and its items.
    a.close().await;
    let again = SqliteStore::builder()
        .path(&path)
        .table("a")
        .build()
        .await
        .unwrap();
    assert_eq!(
        again.get(&key).await.unwrap().map(|i| i.value),
        Some(json!("in a"))
    );
    again.close().await;
    b.close().await;
    common::remove_db(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_of_another_schema_is_a_configuration_error() {
    let path = common::fresh_path("other-schema");
    let mut raw = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    // Same name, other columns: a table another tool made.
    raw.execute("CREATE TABLE items (id TEXT PRIMARY KEY, body TEXT)")
        .await
        .unwrap();
    // Same columns, but no key for the upsert's ON CONFLICT target.
    raw.execute(
        "CREATE TABLE keyless (partition_key TEXT, has_sort INTEGER, sort_key TEXT, \
         value TEXT, version INTEGER)",
    )
    .await
    .unwrap();
    raw.close().await.unwrap();
    for (table, named_problem) in [("items", "no such column"), ("keyless", "ON CONFLICT")] {
        match SqliteStore::builder()
            .path(&path)
            .table(table)
            .build()
            .await
        {
            Err(Error::Configuration {
                backend: "sqlite",
                reason,
            }) => assert!(
                reason.contains(table) && reason.contains(named_problem),
                "{table}: the reason {reason:?} should name the table and {named_problem:?}"
            ),
            other => panic!("{table}: expected a configuration error, got {other:?}"),
        }
    }
    // Refused tables are left as they were: the columns added while checking are
    // rolled back.
    let mut raw = SqliteConnectOptions::new()
        .filename(&path)
        .connect()
        .await
        .unwrap();
    for (table, columns) in [("items", 2), ("keyless", 5)] {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM pragma_table_info(?1)")
            .bind(table)
            .fetch_one(&mut raw)
            .await
            .unwrap();
        assert_eq!(count, columns, "{table}");
    }
    raw.close().await.unwrap();
    common::remove_db(&path);
}

/// The first layout of the table: no token, no deletion time, a value that cannot be
/// NULL.
const PREVIOUS_LAYOUT: &str = "CREATE TABLE optimist_items (\
    partition_key TEXT NOT NULL, \
    has_sort INTEGER NOT NULL CHECK (has_sort IN (0, 1)), \
    sort_key TEXT NOT NULL CHECK (has_sort = 1 OR sort_key = ''), \
    value TEXT NOT NULL, \
    version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0), \
    PRIMARY KEY (partition_key, has_sort, sort_key)) STRICT";

async fn column_names(conn: &mut sqlx::SqliteConnection) -> Vec<String> {
    sqlx::query_scalar("SELECT name FROM pragma_table_info('optimist_items')")
        .fetch_all(conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_of_the_previous_layout_gains_the_new_columns() {
    let path = common::fresh_path("previous-layout");
    let mut raw = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    raw.execute(PREVIOUS_LAYOUT).await.unwrap();
    raw.execute(
        "INSERT INTO optimist_items (partition_key, has_sort, sort_key, value, version) \
         VALUES ('old', 0, '', '\"before\"', 4)",
    )
    .await
    .unwrap();

    // Tombstone mode needs a nullable value, which SQLite cannot give a column in
    // place: a configuration error, and the table is left exactly as it was.
    match SqliteStore::builder()
        .path(&path)
        .tombstones(true)
        .build()
        .await
    {
        Err(Error::Configuration {
            backend: "sqlite",
            reason,
        }) => assert!(reason.contains("NOT NULL"), "{reason}"),
        other => panic!("expected a configuration error, got {other:?}"),
    }
    assert_eq!(column_names(&mut raw).await.len(), 5);

    // The default mode adds the token and deletion-time columns and keeps every row;
    // a row from before reads as written by another client (no token).
    let store = SqliteStore::builder().path(&path).build().await.unwrap();
    assert_eq!(
        column_names(&mut raw).await,
        [
            "partition_key",
            "has_sort",
            "sort_key",
            "value",
            "version",
            "token",
            "deleted_at"
        ]
    );
    let key = Key::new("old");
    let record = optimist_core::Storage::read(&store, &key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (record.value, record.version.get(), record.token),
        (Some(json!("before")), 4, None)
    );
    assert_eq!(
        store
            .update(&key, record.version, json!("after"))
            .await
            .unwrap()
            .get(),
        5
    );
    let token: Option<String> =
        sqlx::query_scalar("SELECT token FROM optimist_items WHERE partition_key = 'old'")
            .fetch_one(&mut raw)
            .await
            .unwrap();
    assert!(token.is_some_and(|t| t.len() == 32));
    // Deletes work on it (they remove the row), and a second store finds it migrated.
    store
        .delete(&key, optimist_core::Version::new(5))
        .await
        .unwrap();
    let again = SqliteStore::builder().path(&path).build().await.unwrap();
    assert_eq!(again.get(&key).await.unwrap(), None);
    again.close().await;
    store.close().await;
    raw.close().await.unwrap();
    common::remove_db(&path);
}

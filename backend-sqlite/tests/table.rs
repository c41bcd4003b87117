//! The table: hostile names are refused before any SQL runs, names that are SQL
//! keywords work, a table of another schema is refused, and two tables in one file are
//! separate stores.

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
    common::remove_db(&path);
}

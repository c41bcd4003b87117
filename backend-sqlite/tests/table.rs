//! The table: hostile names are refused before any SQL runs, names that are SQL
//! keywords work, and two tables in one file are separate stores.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_core::{Error, Key, Operation, VersionedStore};
use optimist_sqlite::SqliteStore;
use serde_json::json;

#[tokio::test]
async fn hostile_table_names_are_invalid_input() {
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
            Err(Error::InvalidInput {
                operation: Operation::Setup,
                reason,
                ..
            }) => assert!(
                reason.contains(named_problem),
                "{name:?}: the reason {reason:?} should name {named_problem:?}"
            ),
            other => panic!("{name:?}: expected InvalidInput, got {other:?}"),
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

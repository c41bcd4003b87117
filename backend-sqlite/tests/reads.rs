//! get_many, query and scan on SQLite (contract R16–R18), against the memory store as
//! the reference: the same items give the same pages, in UTF-8 byte order, in both
//! modes; tombstones never show; cursors are bound to the file and table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_conformance::reference::{self, ScanOrder, reads_match_the_reference};
use optimist_core::{Key, QueryOptions, SortRange, VersionedStore};
use optimist_memory::MemoryStore;
use optimist_sqlite::SqliteStore;
use serde_json::json;

#[tokio::test]
async fn queries_and_scans_match_the_memory_store_in_memory() {
    let store = SqliteStore::builder().build().await.unwrap();
    reads_match_the_reference(&store, &MemoryStore::new(), ScanOrder::Bytes).await;
}

#[tokio::test]
async fn queries_and_scans_match_the_memory_store_on_a_file() {
    let file = common::file_store("reads").await.unwrap();
    reads_match_the_reference(&file, &MemoryStore::new(), ScanOrder::Bytes).await;
}

#[tokio::test]
async fn get_many_answers_in_the_order_asked() {
    let store = SqliteStore::builder().build().await.unwrap();
    reference::get_many_answers_in_the_order_asked(&store).await;
}

#[tokio::test]
async fn tombstones_never_show_and_pages_stay_full() {
    let file = common::file_store_with("reads-tombstones", |b| b.tombstones(true))
        .await
        .unwrap();
    reference::tombstones_never_show_and_pages_stay_full(&file.store).await;
}

#[tokio::test]
async fn cursors_belong_to_one_table_of_one_database() {
    let path = common::fresh_path("reads-cursors");
    let open = |path: std::path::PathBuf, table: &'static str| async move {
        SqliteStore::builder()
            .path(path)
            .table(table)
            .build()
            .await
            .unwrap()
    };
    let store = open(path.clone(), "items").await;
    for i in 0..4 {
        store
            .insert(&Key::with_sort("p", format!("{i}")), json!(i))
            .await
            .unwrap();
    }
    let options = QueryOptions::new().limit(2);
    let first = store
        .query("p", SortRange::All, options.clone())
        .await
        .unwrap();
    let cursor = first.next.clone().unwrap();

    // The same file under another spelling of its path, and the same table: it goes on.
    let dir = path.parent().unwrap();
    let spelled = dir.join(".").join(path.file_name().unwrap());
    let same = open(spelled, "items").await;
    let rest = same
        .query(
            "p",
            SortRange::All,
            options.clone().cursor(Some(cursor.clone())),
        )
        .await
        .unwrap();
    let keys: Vec<String> = rest
        .items
        .iter()
        .map(|(k, _)| k.sort().unwrap().to_string())
        .collect();
    assert_eq!(keys, ["2", "3"]);

    // Another table of the same file, another in-memory database: refused.
    let other_table = open(path.clone(), "other").await;
    let memory = [
        SqliteStore::builder().build().await.unwrap(),
        SqliteStore::builder().build().await.unwrap(),
    ];
    memory[0]
        .insert(&Key::with_sort("p", "a"), json!(1))
        .await
        .unwrap();
    memory[0]
        .insert(&Key::with_sort("p", "b"), json!(1))
        .await
        .unwrap();
    let memory_cursor = memory[0]
        .query("p", SortRange::All, QueryOptions::new().limit(1))
        .await
        .unwrap()
        .next
        .unwrap();
    for (store, cursor) in [
        (&other_table, cursor.clone()),
        (&memory[1], memory_cursor),
        (&memory[0], cursor),
    ] {
        let err = store
            .query("p", SortRange::All, options.clone().cursor(Some(cursor)))
            .await
            .unwrap_err();
        assert!(err.is_invalid_input(), "{err:?}");
    }
    drop((store, same, other_table));
    common::remove_db(&path);
}

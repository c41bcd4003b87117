//! get_many, query and scan on SQLite (contract R16–R18), against the memory store as
//! the reference: the same items give the same pages, in UTF-8 byte order, in both
//! modes; tombstones never show; cursors are bound to the file and table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_conformance::reference::{ScanOrder, query_all, reads_match_the_reference, scan_all};
use optimist_core::{Direction, Key, QueryOptions, SortRange, VersionedStore};
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
    let mut keys = Vec::new();
    for i in 0..50 {
        let key = Key::with_sort("p", format!("{i:03}"));
        if i % 2 == 0 {
            store.insert(&key, json!(i)).await.unwrap();
        }
        keys.push(key);
    }
    let bare = Key::new("p");
    store.insert(&bare, json!("bare")).await.unwrap();
    let nul = Key::with_sort("p\u{0}", "x");
    store.insert(&nul, json!("nul")).await.unwrap();
    keys.reverse();
    keys.push(bare);
    keys.push(nul);
    keys.extend((0..48).map(|i| Key::new(format!("absent-{i}"))));
    assert_eq!(keys.len(), 100);
    let got = store.get_many(&keys).await.unwrap();
    let mut expected = Vec::new();
    for key in &keys {
        expected.push(store.get(key).await.unwrap());
    }
    assert_eq!(got, expected);
    assert_eq!(got.iter().filter(|item| item.is_some()).count(), 27);
    assert_eq!(got[50].as_ref().map(|i| &i.value), Some(&json!("bare")));
    let one = store.get_many(&keys[..1]).await.unwrap();
    assert_eq!(one, expected[..1]);
}

#[tokio::test]
async fn tombstones_never_show_and_pages_stay_full() {
    let file = common::file_store_with("reads-tombstones", |b| b.tombstones(true))
        .await
        .unwrap();
    let store = &file.store;
    let keys: Vec<Key> = (0..10)
        .map(|i| Key::with_sort("p", format!("{i}")))
        .collect();
    for key in &keys {
        store.insert(key, json!(1)).await.unwrap();
    }
    for key in keys.iter().step_by(2) {
        store.remove(key).await.unwrap();
    }
    let live: Vec<Key> = keys.iter().skip(1).step_by(2).cloned().collect();
    let got = store.get_many(&keys).await.unwrap();
    for (key, item) in keys.iter().zip(&got) {
        assert_eq!(item.is_some(), live.contains(key), "{key}");
    }
    // The tombstones are skipped inside the statement: every page but the last is full.
    let first = store
        .query("p", SortRange::All, QueryOptions::new().limit(2))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    let pages = query_all(store, "p", &SortRange::All, Direction::Descending, 2).await;
    let mut expected = live.clone();
    expected.reverse();
    assert_eq!(
        pages.into_iter().map(|(k, _)| k).collect::<Vec<_>>(),
        expected
    );
    let scanned: Vec<Key> = scan_all(store, 3)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(scanned, live);
    // An item again on a tombstone shows, at the version after the tombstone's.
    let again = store.insert(&keys[0], json!(2)).await.unwrap();
    let page = store
        .query("p", SortRange::prefix("0"), QueryOptions::new())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].1.version, again);
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

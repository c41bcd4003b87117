//! What is stored and how it reads back: NUL in keys, rows written by other tools,
//! versions at the edge of SQLite's integers, one database per in-memory store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_core::{Conflict, Error, ErrorKind, Key, TxOp, Version, VersionedStore};
use optimist_sqlite::SqliteStore;
use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

async fn raw(path: &std::path::Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn nul_in_keys_round_trips_and_stays_distinct() {
    let store = SqliteStore::builder().build().await.unwrap();
    assert!(store.capabilities().nul_in_keys);
    let keys = [
        Key::new("a"),
        Key::new("a\0"),
        Key::new("a\0b"),
        Key::new("\0"),
        Key::with_sort("a", "\0"),
        Key::with_sort("a\0", "b"),
        Key::with_sort("a", "\0b"),
    ];
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(
            store.insert(key, json!(i)).await.unwrap(),
            Version::FIRST,
            "{key}"
        );
    }
    for (i, key) in keys.iter().enumerate() {
        let item = store.get(key).await.unwrap().unwrap();
        assert_eq!(item.value, json!(i), "{key}");
    }
}

#[tokio::test]
async fn a_memory_store_is_one_database() {
    let store = SqliteStore::builder().memory().build().await.unwrap();
    let writers: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.insert(&Key::new(format!("k{i}")), json!(i)).await })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
    let readers: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..16 {
                    let item = store.get(&Key::new(format!("k{i}"))).await.unwrap();
                    assert_eq!(item.map(|i| i.value), Some(json!(i)));
                }
            })
        })
        .collect();
    for reader in readers {
        reader.await.unwrap();
    }
    // Two memory stores do not share anything.
    let other = SqliteStore::builder().memory().build().await.unwrap();
    assert_eq!(other.get(&Key::new("k0")).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_written_by_other_tools() {
    let path = common::fresh_path("other-tools");
    let store = SqliteStore::builder().path(&path).build().await.unwrap();
    let mut conn = raw(&path).await;
    sqlx::query(
        "INSERT INTO optimist_items (partition_key, has_sort, sort_key, value) \
         VALUES ('unversioned', 0, '', '{\"n\":1}'), ('garbled', 0, '', 'not json')",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    // contract R3: an item without a version reads as version 0 and updates expecting 0.
    let unversioned = Key::new("unversioned");
    let item = store.get(&unversioned).await.unwrap().unwrap();
    assert_eq!(
        (item.value, item.version),
        (json!({"n": 1}), Version::UNVERSIONED)
    );
    let v1 = store
        .update(&unversioned, Version::UNVERSIONED, json!(2))
        .await
        .unwrap();
    assert_eq!(v1, Version::FIRST);

    // Text that is not JSON is unreadable data, never a conflict and never a panic;
    // serde_json's error stays the source.
    let garbled = Key::new("garbled");
    let corrupt = |result: Result<_, Error>, what: &str| match result {
        Err(Error::Backend {
            kind: ErrorKind::Corrupt,
            retryable: false,
            source,
            ..
        }) => assert!(
            source.is::<serde_json::Error>(),
            "{what}: the source is serde_json's error: {source:?}"
        ),
        other => panic!("{what}: expected a corrupt-data error, got {other:?}"),
    };
    corrupt(store.get(&garbled).await.map(|_| ()), "get");
    // The insert's refusal carries the item, which cannot be read.
    corrupt(store.insert(&garbled, json!(1)).await.map(|_| ()), "insert");
    assert!(
        store.get(&garbled).await.is_err(),
        "the garbled row is still there"
    );
    conn.close().await.unwrap();
    store.close().await;
    common::remove_db(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_at_the_edge_of_sqlite_integers() {
    let path = common::fresh_path("edge-versions");
    let store = SqliteStore::builder().path(&path).build().await.unwrap();
    let mut conn = raw(&path).await;
    let top = Version::new(i64::MAX as u64);
    sqlx::query(
        "INSERT INTO optimist_items (partition_key, has_sort, sort_key, value, version) \
         VALUES ('top', 0, '', '\"old\"', ?1)",
    )
    .bind(i64::MAX)
    .execute(&mut conn)
    .await
    .unwrap();
    let key = Key::new("top");
    let unchanged = |item: Option<optimist_core::Versioned<serde_json::Value>>| {
        let item = item.unwrap();
        assert_eq!((item.value, item.version), (json!("old"), top));
    };
    unchanged(store.get(&key).await.unwrap());

    // The counter cannot advance: an exhausted version, nothing written.
    let exhausted = |result: Result<_, Error>| {
        assert!(
            matches!(
                result,
                Err(Error::Backend {
                    kind: ErrorKind::VersionExhausted,
                    retryable: false,
                    ..
                })
            ),
            "expected an exhausted version, got {result:?}"
        );
    };
    exhausted(store.put(&key, json!("new")).await);
    unchanged(store.get(&key).await.unwrap());
    exhausted(store.update(&key, top, json!("new")).await);
    unchanged(store.get(&key).await.unwrap());
    let tx = store
        .transact(vec![
            TxOp::put(Key::new("other"), json!(1)),
            TxOp::put(key.clone(), json!(2)),
        ])
        .await;
    exhausted(tx.map(|_| Version::FIRST));
    assert_eq!(store.get(&Key::new("other")).await.unwrap(), None);
    unchanged(store.get(&key).await.unwrap());

    // A version beyond SQLite's integers matches nothing: an ordinary conflict.
    match store
        .update(&key, Version::new(u64::MAX), json!("new"))
        .await
    {
        Err(Error::Conflict {
            conflict: Conflict::VersionMismatch { expected, current },
            ..
        }) => {
            assert_eq!(expected, Version::new(u64::MAX));
            assert_eq!(current.version, top);
        }
        other => panic!("expected a version mismatch, got {other:?}"),
    }
    match store
        .delete(&Key::new("absent"), Version::new(u64::MAX))
        .await
    {
        Err(Error::Conflict {
            conflict: Conflict::NotFound,
            ..
        }) => {}
        other => panic!("expected not found, got {other:?}"),
    }
    // Checking and deleting at the top version still work.
    store
        .transact(vec![TxOp::check(key.clone(), top)])
        .await
        .unwrap();
    store.delete(&key, top).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), None);
    conn.close().await.unwrap();
    store.close().await;
    common::remove_db(&path);
}

//! Write tokens and tombstones on the real server (contract R14, R15): every write
//! stores its token with what it leaves, a row another client wrote reads without one,
//! and in tombstone mode a delete leaves a tombstone that keeps the version counting
//! until `purge_tombstones` removes it.
//!
//! The rows are looked at with plain SQL next to the store, as another client would.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::Duration;

use optimist_core::{
    Change, Conflict, Error, ErrorKind, Expect, Held, Key, Outcome, Record, TxOp, Version,
    VersionedStore, Write, WriteToken,
};
use optimist_postgres::PostgresStore;
use serde_json::{Value, json};

/// A store on a fresh table, in the default mode or in tombstone mode.
async fn store(url: &str, tombstones: bool) -> PostgresStore {
    PostgresStore::builder()
        .url(url)
        .table(common::fresh_table())
        .tombstones(tombstones)
        .build()
        .await
        .expect("store")
}

/// A key's row as stored: value text (`None`: SQL NULL, a tombstone), version, token,
/// and whether it has a deletion time. `None` if the table has no row for it.
type Row = (Option<String>, i64, Option<String>, bool);

async fn row(store: &PostgresStore, partition: &str) -> Option<Row> {
    let sql = format!(
        "SELECT value::text, version, token, deleted_at IS NOT NULL FROM \"{}\" \
         WHERE partition = $1 AND sort = ''",
        store.table()
    );
    sqlx::query_as(&sql)
        .bind(partition)
        .fetch_optional(store.pool())
        .await
        .expect("select the row")
}

async fn sql(store: &PostgresStore, statement: &str) {
    let statement = statement.replace("{t}", &format!("\"{}\"", store.table()));
    sqlx::query(&statement)
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// Sends one write with a token of the test's choosing, through `Storage` as the
/// engine does. (`Storage` is not imported: its `capabilities` and `purge_tombstones`
/// would be ambiguous with `VersionedStore`'s.)
async fn write(store: &PostgresStore, write: Write<'_>) -> Outcome {
    optimist_core::Storage::write(store, &write)
        .await
        .expect("write")
}

async fn read(store: &PostgresStore, key: &Key) -> Option<Record> {
    optimist_core::Storage::read(store, key)
        .await
        .expect("read")
}

fn is_token(text: &str) -> bool {
    text.parse::<WriteToken>().is_ok()
}

#[tokio::test]
async fn every_write_stores_its_token_with_the_item() {
    let Some(url) = common::url_or_skip("every_write_stores_its_token_with_the_item") else {
        return;
    };
    let store = store(&url, false).await;
    let key = Key::new("k");
    let (one, two) = (json!({"n": 1}), json!({"n": 2}));
    let tokens = [1_u128, 2, 3, 4].map(|n| WriteToken::from_u128(n << 100 | 0xfeed));

    // Insert, update and put, each with its own token, stored as 32 hex digits.
    let insert = Write::new(&key, Expect::Absent, Change::Put(&one)).with_token(tokens[0]);
    assert_eq!(
        write(&store, insert).await,
        Outcome::Applied {
            previous: Held::Nothing
        }
    );
    let stored = row(&store, "k").await.expect("row");
    assert_eq!(stored.2, Some(tokens[0].to_string()));
    assert_eq!(
        read(&store, &key).await,
        Some(Record::item(one.clone(), Version::FIRST).with_token(Some(tokens[0])))
    );
    let update =
        Write::new(&key, Expect::At(Version::FIRST), Change::Put(&two)).with_token(tokens[1]);
    assert_eq!(
        write(&store, update).await,
        Outcome::Applied {
            previous: Held::Item(Version::FIRST)
        }
    );
    assert_eq!(
        read(&store, &key).await.and_then(|r| r.token),
        Some(tokens[1])
    );
    let put = Write::new(&key, Expect::Any, Change::Put(&one)).with_token(tokens[2]);
    assert_eq!(
        write(&store, put).await,
        Outcome::Applied {
            previous: Held::Item(Version::new(2))
        }
    );
    let current = Record::item(one.clone(), Version::new(3)).with_token(Some(tokens[2]));
    assert_eq!(read(&store, &key).await, Some(current.clone()));

    // A refused write reports the record with its token, and changes nothing.
    let insert_again = Write::new(&key, Expect::Absent, Change::Put(&two)).with_token(tokens[3]);
    assert_eq!(
        write(&store, insert_again).await,
        Outcome::Refused {
            current: Some(current.clone())
        }
    );
    let stale =
        Write::new(&key, Expect::At(Version::FIRST), Change::Put(&two)).with_token(tokens[3]);
    assert_eq!(
        write(&store, stale).await,
        Outcome::Refused {
            current: Some(current.clone())
        }
    );
    // A check writes nothing, its token included.
    let check = Write::new(&key, Expect::At(Version::new(3)), Change::Keep).with_token(tokens[3]);
    assert_eq!(
        write(&store, check).await,
        Outcome::Applied {
            previous: Held::Item(Version::new(3))
        }
    );
    assert_eq!(read(&store, &key).await, Some(current));

    // Through the public operations: every write a fresh token.
    let other = Key::new("other");
    store.insert(&other, json!(1)).await.expect("insert");
    let first = row(&store, "other").await.and_then(|r| r.2).expect("token");
    store
        .update(&other, Version::FIRST, json!(2))
        .await
        .expect("update");
    let second = row(&store, "other").await.and_then(|r| r.2).expect("token");
    assert!(is_token(&first) && is_token(&second), "{first} {second}");
    assert_ne!(first, second);

    // A transaction's writes share one token.
    store
        .transact(vec![
            TxOp::put(key.clone(), json!("a")),
            TxOp::update(other.clone(), Version::new(2), json!("b")),
        ])
        .await
        .expect("transact");
    let a = row(&store, "k").await.and_then(|r| r.2).expect("token");
    let b = row(&store, "other").await.and_then(|r| r.2).expect("token");
    assert!(is_token(&a), "{a}");
    assert_eq!(a, b, "one token per transaction");
    assert_ne!(a, second);
}

#[tokio::test]
async fn the_default_mode_removes_deleted_rows_and_has_nothing_to_purge() {
    let Some(url) = common::url_or_skip("the_default_mode_removes_deleted_rows") else {
        return;
    };
    let store = store(&url, false).await;
    assert!(!store.capabilities().tombstones);
    let (a, b, c) = (Key::new("a"), Key::new("b"), Key::new("c"));
    let va = store.insert(&a, json!(1)).await.expect("insert");
    store.insert(&b, json!(1)).await.expect("insert");
    let vc = store.insert(&c, json!(1)).await.expect("insert");
    store.delete(&a, va).await.expect("delete");
    assert_eq!(
        store.remove(&b).await.expect("remove"),
        Some(Version::FIRST)
    );
    store
        .transact(vec![TxOp::delete(c.clone(), vc)])
        .await
        .expect("transact");
    for partition in ["a", "b", "c"] {
        assert_eq!(
            row(&store, partition).await,
            None,
            "{partition}: no row left"
        );
    }
    assert_eq!(
        store.insert(&a, json!(2)).await.expect("insert"),
        Version::FIRST,
        "contract R15: the default mode restarts at 1"
    );
    let err = store
        .purge_tombstones(Duration::ZERO)
        .await
        .expect_err("no tombstones");
    assert_eq!(err.backend_kind(), Some(ErrorKind::Rejected), "{err:?}");
    assert!(err.to_string().contains("tombstones"), "{err}");
}

#[tokio::test]
async fn a_row_without_a_token_reads_as_none_and_a_malformed_one_as_corrupt() {
    let Some(url) = common::url_or_skip("a_row_without_a_token_reads_as_none") else {
        return;
    };
    let store = store(&url, false).await;
    // Written the way another client (or this crate before tokens) writes: no token.
    sql(
        &store,
        "INSERT INTO {t} (partition, value, version) VALUES ('foreign', '{\"a\": 1}', 4)",
    )
    .await;
    let key = Key::new("foreign");
    assert_eq!(
        read(&store, &key).await,
        Some(Record::item(json!({"a": 1}), Version::new(4)))
    );
    assert_eq!(read(&store, &key).await.and_then(|r| r.token), None);
    // The store's next write there stores its token.
    store
        .update(&key, Version::new(4), json!(2))
        .await
        .expect("update");
    let token = row(&store, "foreign")
        .await
        .and_then(|r| r.2)
        .expect("token");
    assert!(is_token(&token), "{token}");

    // A token that is not one this store wrote is corrupt data, not a missing token.
    sql(
        &store,
        "UPDATE {t} SET token = 'not a token' WHERE partition = 'foreign'",
    )
    .await;
    let err = optimist_core::Storage::read(&store, &key)
        .await
        .expect_err("corrupt");
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err:?}");
    let why = err.source_ref().to_string();
    assert!(why.contains("write token"), "{why}");
    let err = store.get(&key).await.expect_err("corrupt");
    assert_eq!(err.backend_kind(), Some(ErrorKind::Corrupt), "{err:?}");
    // A refused write that reports the row reports the same.
    let err = store.insert(&key, json!(3)).await.expect_err("corrupt");
    assert_eq!(err.backend_kind(), Some(ErrorKind::Corrupt), "{err:?}");
    assert!(
        !err.is_indeterminate(),
        "a refused insert wrote nothing: {err:?}"
    );
}

#[tokio::test]
async fn tombstones_keep_the_version_and_hide_the_key() {
    let Some(url) = common::url_or_skip("tombstones_keep_the_version_and_hide_the_key") else {
        return;
    };
    let store = store(&url, true).await;
    assert!(store.capabilities().tombstones);
    let key = Key::new("k");
    let v1 = store.insert(&key, json!(1)).await.expect("insert");
    let v2 = store.update(&key, v1, json!(2)).await.expect("update");

    // The delete leaves a tombstone at the item's version, with its token and time.
    let token = WriteToken::from_u128(0x5eed);
    let delete = Write::new(&key, Expect::At(v2), Change::Delete).with_token(token);
    assert_eq!(
        write(&store, delete).await,
        Outcome::Applied {
            previous: Held::Item(v2)
        }
    );
    assert_eq!(
        row(&store, "k").await,
        Some((None, 2, Some(token.to_string()), true))
    );
    let tombstone = Record::tombstone(v2).with_token(Some(token));
    assert_eq!(read(&store, &key).await, Some(tombstone.clone()));

    // Reads see nothing; remove finds nothing and leaves the tombstone as it is.
    assert_eq!(store.get(&key).await.expect("get"), None);
    assert_eq!(store.remove(&key).await.expect("remove"), None);
    assert_eq!(read(&store, &key).await, Some(tombstone.clone()));

    // Stale writes expecting the deleted item (or any earlier one) find nothing.
    for stale in [v1, v2] {
        match store.update(&key, stale, json!("late")).await {
            Err(Error::Conflict {
                conflict: Conflict::NotFound,
                ..
            }) => {}
            other => panic!("update at {stale:?} on a tombstone: {other:?}"),
        }
        match store.delete(&key, stale).await {
            Err(Error::Conflict {
                conflict: Conflict::NotFound,
                ..
            }) => {}
            other => panic!("delete at {stale:?} on a tombstone: {other:?}"),
        }
    }
    // An insert of the tombstone's key, as the storage sees it, is refused with the
    // tombstone; the engine then asks for exactly that tombstone.
    let value = json!(3);
    let absent = Write::new(&key, Expect::Absent, Change::Put(&value));
    assert_eq!(
        write(&store, absent).await,
        Outcome::Refused {
            current: Some(tombstone.clone())
        }
    );
    assert_eq!(read(&store, &key).await, Some(tombstone));

    // Insert continues the version; so do put and a transaction's insert.
    let v3 = store.insert(&key, json!(3)).await.expect("insert again");
    assert_eq!(v3, Version::new(3));
    assert_eq!(
        store
            .get(&key)
            .await
            .expect("get")
            .map(|i| (i.value, i.version)),
        Some((json!(3), v3))
    );
    assert_eq!(store.remove(&key).await.expect("remove"), Some(v3));
    assert_eq!(row(&store, "k").await.map(|r| (r.0, r.1)), Some((None, 3)));
    assert_eq!(
        store.put(&key, json!(4)).await.expect("put"),
        Version::new(4)
    );
    store
        .transact(vec![TxOp::delete(key.clone(), Version::new(4))])
        .await
        .expect("transact delete");
    let after_tx = row(&store, "k").await.expect("tombstone");
    assert_eq!(
        (after_tx.0.clone(), after_tx.1, after_tx.3),
        (None, 4, true)
    );
    assert!(after_tx.2.as_deref().is_some_and(is_token), "{after_tx:?}");
    let versions = store
        .transact(vec![TxOp::insert(key.clone(), json!(5))])
        .await
        .expect("transact insert");
    assert_eq!(versions, vec![Some(Version::new(5))]);
    let item = row(&store, "k").await.expect("row");
    assert_eq!(
        (item.0.as_deref(), item.1, item.3),
        (Some("5"), 5, false),
        "an item has no deletion time"
    );
}

#[tokio::test]
async fn json_null_is_an_item_not_a_tombstone() {
    let Some(url) = common::url_or_skip("json_null_is_an_item_not_a_tombstone") else {
        return;
    };
    let store = store(&url, true).await;
    let key = Key::new("null");
    let v1 = store.insert(&key, Value::Null).await.expect("insert null");
    assert_eq!(
        row(&store, "null").await.and_then(|r| r.0),
        Some("null".into())
    );
    assert_eq!(
        store
            .get(&key)
            .await
            .expect("get")
            .map(|i| (i.value, i.version)),
        Some((Value::Null, v1))
    );
    store.delete(&key, v1).await.expect("delete");
    assert_eq!(store.get(&key).await.expect("get"), None);
}

#[tokio::test]
async fn purge_removes_old_tombstones_only_and_the_key_restarts_at_1() {
    let Some(url) = common::url_or_skip("purge_removes_old_tombstones_only") else {
        return;
    };
    let store = store(&url, true).await;
    let keys = ["old", "fresh", "reinserted", "deleted_again", "live"].map(Key::new);
    let [old, fresh, reinserted, deleted_again, live] = &keys;
    for key in &keys {
        store.insert(key, json!(1)).await.expect("insert");
    }
    for key in [old, fresh, reinserted, deleted_again] {
        store.delete(key, Version::FIRST).await.expect("delete");
    }
    // Two hours ago, as far as the server's clock is concerned.
    sql(
        &store,
        "UPDATE {t} SET deleted_at = now() - interval '2 hours' \
         WHERE partition IN ('old', 'reinserted', 'deleted_again')",
    )
    .await;
    // Written since their tombstones were left: they keep their records.
    assert_eq!(
        store.insert(reinserted, json!(2)).await.expect("insert"),
        Version::new(2)
    );
    assert_eq!(
        store.insert(deleted_again, json!(2)).await.expect("insert"),
        Version::new(2)
    );
    store
        .delete(deleted_again, Version::new(2))
        .await
        .expect("delete again");

    assert_eq!(
        store
            .purge_tombstones(Duration::from_secs(3600))
            .await
            .expect("purge"),
        1,
        "only the tombstone left two hours ago and untouched since"
    );
    assert_eq!(row(&store, "old").await, None);
    assert_eq!(
        read(&store, fresh).await.map(|r| r.held()),
        Some(Held::Tombstone(Version::FIRST))
    );
    assert_eq!(
        read(&store, reinserted).await.map(|r| r.held()),
        Some(Held::Item(Version::new(2)))
    );
    assert_eq!(
        read(&store, deleted_again).await.map(|r| r.held()),
        Some(Held::Tombstone(Version::new(2)))
    );
    assert_eq!(
        read(&store, live).await.map(|r| r.held()),
        Some(Held::Item(Version::FIRST))
    );
    // Nothing is older than any bound the server can count back to.
    assert_eq!(
        store.purge_tombstones(Duration::MAX).await.expect("purge"),
        0
    );

    // The purged key holds nothing: it restarts at 1, as in the default mode.
    assert_eq!(
        store.insert(old, json!(3)).await.expect("insert"),
        Version::FIRST
    );
    // A tombstone another client left without a time is never purged.
    sql(
        &store,
        "INSERT INTO {t} (partition, value, version) VALUES ('undated', NULL, 7)",
    )
    .await;
    assert_eq!(
        store
            .purge_tombstones(Duration::ZERO)
            .await
            .map(|_| ())
            .ok(),
        Some(())
    );
    assert_eq!(
        read(&store, &Key::new("undated")).await.map(|r| r.held()),
        Some(Held::Tombstone(Version::new(7)))
    );
}

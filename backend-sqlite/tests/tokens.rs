//! Write tokens and tombstones on a real SQLite file, read back with a raw connection:
//! every write path stores its token with what it leaves (an item or a tombstone), a
//! row another client wrote has no token, tombstone mode keeps the version counting and
//! hides tombstones, and `purge_tombstones` removes old tombstones only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::path::Path;
use std::time::Duration;

use optimist_core::{
    Change, CommitOutcome, Conflict, Error, ErrorKind, Expect, Held, Key, Outcome, Record,
    StorageError, TxOp, Version, VersionedStore, Write, WriteToken,
};
use optimist_sqlite::SqliteStore;
use serde_json::{Value, json};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use common::FileStore;

/// A row as the table holds it: value text (NULL: tombstone), version, token, deletion
/// time.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct RawRow {
    value: Option<String>,
    version: i64,
    token: Option<String>,
    deleted_at: Option<i64>,
}

async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .unwrap()
}

async fn raw_row(conn: &mut SqliteConnection, partition: &str) -> Option<RawRow> {
    sqlx::query_as(
        "SELECT value, version, token, deleted_at FROM optimist_items \
         WHERE partition_key = ?1 AND has_sort = 0 AND sort_key = ''",
    )
    .bind(partition)
    .fetch_optional(conn)
    .await
    .unwrap()
}

async fn store(label: &str, tombstones: bool) -> (FileStore, SqliteConnection) {
    let file = common::file_store_with(label, |b| b.tombstones(tombstones))
        .await
        .unwrap();
    let conn = raw(&file.path).await;
    (file, conn)
}

/// `Storage::read`: the record as stored, tombstones and tokens included.
async fn read(store: &SqliteStore, key: &Key) -> Result<Option<Record>, StorageError> {
    optimist_core::Storage::read(store, key).await
}

fn now_millis() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(elapsed.as_millis()).unwrap()
}

fn item(value: &str, version: i64, token: WriteToken) -> RawRow {
    RawRow {
        value: Some(value.to_string()),
        version,
        token: Some(token.to_string()),
        deleted_at: None,
    }
}

/// Sends `write` with `token` through `Storage::write`, expecting it to apply over
/// `previous`.
async fn apply(store: &SqliteStore, write: Write<'_>, token: WriteToken, previous: Held) {
    let outcome = optimist_core::Storage::write(store, &write.with_token(token))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Applied { previous }, "{write:?}");
}

/// Checks a tombstone row: no value, the deleted version, the delete's token, and a
/// deletion time between `before` and now.
fn assert_tombstone(row: Option<RawRow>, version: i64, token: WriteToken, before: i64) {
    let row = row.expect("a tombstone row");
    assert_eq!(
        (row.value, row.version, row.token),
        (None, version, Some(token.to_string()))
    );
    let at = row.deleted_at.expect("a deletion time");
    assert!(
        (before..=now_millis()).contains(&at),
        "deleted_at {at} is not between {before} and now"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_path_stores_its_token() {
    for tombstones in [false, true] {
        let (file, mut conn) = store("tokens-paths", tombstones).await;
        let s = &file.store;
        let key = Key::new("k");
        let (one, two, three) = (json!(1), json!(2), json!(3));
        let t = |n: u128| WriteToken::from_u128(n << 64 | n);

        // The one-statement forms: insert, update, put.
        let insert = Write::new(&key, Expect::Absent, Change::Put(&one));
        apply(s, insert, t(1), Held::Nothing).await;
        assert_eq!(raw_row(&mut conn, "k").await, Some(item("1", 1, t(1))));
        let update = Write::new(&key, Expect::At(Version::FIRST), Change::Put(&two));
        apply(s, update, t(2), Held::Item(Version::FIRST)).await;
        assert_eq!(raw_row(&mut conn, "k").await, Some(item("2", 2, t(2))));
        let put = Write::new(&key, Expect::Any, Change::Put(&three));
        apply(s, put, t(3), Held::Item(Version::new(2))).await;
        assert_eq!(raw_row(&mut conn, "k").await, Some(item("3", 3, t(3))));
        // `Storage::read` gives the token back.
        assert_eq!(
            read(s, &key).await.unwrap(),
            Some(Record::item(json!(3), Version::new(3)).with_token(Some(t(3))))
        );

        // The locked path: a transaction writes every row with its one token.
        let other = Key::new("other");
        let tx = [
            Write::new(&key, Expect::At(Version::new(3)), Change::Put(&one)).with_token(t(4)),
            Write::new(&other, Expect::Absent, Change::Put(&two)).with_token(t(4)),
        ];
        assert_eq!(
            optimist_core::Storage::commit(s, &tx).await.unwrap(),
            CommitOutcome::Applied {
                previous: vec![Held::Item(Version::new(3)), Held::Nothing]
            }
        );
        assert_eq!(raw_row(&mut conn, "k").await, Some(item("1", 4, t(4))));
        assert_eq!(raw_row(&mut conn, "other").await, Some(item("2", 1, t(4))));

        // Deletes: a statement (delete), a statement (remove), the locked path.
        let before = now_millis();
        let delete = Write::new(&key, Expect::At(Version::new(4)), Change::Delete);
        apply(s, delete, t(5), Held::Item(Version::new(4))).await;
        let remove = Write::new(&other, Expect::Any, Change::Delete);
        apply(s, remove, t(6), Held::Item(Version::FIRST)).await;
        let third = Key::new("third");
        s.insert(&third, json!(0)).await.unwrap();
        let tx = [Write::new(&third, Expect::At(Version::FIRST), Change::Delete).with_token(t(7))];
        assert_eq!(
            optimist_core::Storage::commit(s, &tx).await.unwrap(),
            CommitOutcome::Applied {
                previous: vec![Held::Item(Version::FIRST)]
            }
        );
        if tombstones {
            assert_tombstone(raw_row(&mut conn, "k").await, 4, t(5), before);
            assert_tombstone(raw_row(&mut conn, "other").await, 1, t(6), before);
            assert_tombstone(raw_row(&mut conn, "third").await, 1, t(7), before);
            assert_eq!(
                read(s, &key).await.unwrap(),
                Some(Record::tombstone(Version::new(4)).with_token(Some(t(5))))
            );

            // Writing over a tombstone: a statement for the tombstone an insert asks
            // for, the upsert for a put, the locked path in a transaction.
            let revive = Write::new(&key, Expect::Tombstone(Version::new(4)), Change::Put(&two));
            apply(s, revive, t(8), Held::Tombstone(Version::new(4))).await;
            assert_eq!(raw_row(&mut conn, "k").await, Some(item("2", 5, t(8))));
            let put = Write::new(&other, Expect::Any, Change::Put(&three));
            // The upsert sees only the row it wrote: the tombstone it replaced reads as
            // an item at the same version, which gives the engine the same new version.
            apply(s, put, t(9), Held::Item(Version::FIRST)).await;
            assert_eq!(raw_row(&mut conn, "other").await, Some(item("3", 2, t(9))));
            let tx = [
                Write::new(&third, Expect::Tombstone(Version::FIRST), Change::Put(&one))
                    .with_token(t(10)),
            ];
            assert_eq!(
                optimist_core::Storage::commit(s, &tx).await.unwrap(),
                CommitOutcome::Applied {
                    previous: vec![Held::Tombstone(Version::FIRST)]
                }
            );
            assert_eq!(raw_row(&mut conn, "third").await, Some(item("1", 2, t(10))));
        } else {
            for partition in ["k", "other", "third"] {
                assert_eq!(raw_row(&mut conn, partition).await, None, "{partition}");
            }
        }

        // Refused and check-only writes leave the token as it was.
        let before_refusal = raw_row(&mut conn, "other").await;
        let stale = Write::new(&other, Expect::At(Version::new(9)), Change::Put(&one));
        let refused = optimist_core::Storage::write(s, &stale.with_token(t(11)))
            .await
            .unwrap();
        assert!(matches!(refused, Outcome::Refused { .. }), "{refused:?}");
        if let Some(version) = before_refusal.as_ref().map(|r| r.version as u64) {
            let check = Write::new(&other, Expect::At(Version::new(version)), Change::Keep);
            apply(
                s,
                check.with_token(t(12)),
                t(12),
                Held::Item(Version::new(version)),
            )
            .await;
        }
        assert_eq!(raw_row(&mut conn, "other").await, before_refusal);
        conn.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_store_fresh_tokens() {
    let (file, mut conn) = store("tokens-ops", true).await;
    let s = &file.store;
    let (a, b) = (Key::new("a"), Key::new("b"));
    s.insert(&a, json!(1)).await.unwrap();
    let first = raw_row(&mut conn, "a").await.unwrap().token.unwrap();
    assert!(first.parse::<WriteToken>().is_ok(), "{first:?}");
    s.update(&a, Version::FIRST, json!(2)).await.unwrap();
    let second = raw_row(&mut conn, "a").await.unwrap().token.unwrap();
    assert_ne!(first, second, "each write has its own token");
    assert_eq!(
        read(s, &a).await.unwrap().and_then(|r| r.token),
        Some(second.parse().unwrap())
    );
    // One transaction, one token on every row it wrote.
    s.transact(vec![
        TxOp::put(a.clone(), json!(3)),
        TxOp::insert(b.clone(), json!(1)),
    ])
    .await
    .unwrap();
    let (ta, tb) = (
        raw_row(&mut conn, "a").await.unwrap().token,
        raw_row(&mut conn, "b").await.unwrap().token,
    );
    assert_eq!(ta, tb);
    assert_ne!(ta.as_deref(), Some(second.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_without_a_token_read_as_written_by_another_client() {
    let (file, mut conn) = store("tokens-foreign", true).await;
    let s = &file.store;
    sqlx::query(
        "INSERT INTO optimist_items (partition_key, has_sort, sort_key, value, version, token) \
         VALUES ('foreign', 0, '', '{\"n\":1}', 3, NULL), ('gone', 0, '', NULL, 2, NULL), \
                ('bad', 0, '', '1', 1, 'not a token'), ('upper', 0, '', '1', 1, ?1)",
    )
    .bind("A".repeat(32))
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        read(s, &Key::new("foreign")).await.unwrap(),
        Some(Record::item(json!({"n": 1}), Version::new(3)))
    );
    assert_eq!(
        read(s, &Key::new("gone")).await.unwrap(),
        Some(Record::tombstone(Version::new(2)))
    );
    // Such a record is never taken for ours, and is written over like any other.
    assert_eq!(
        s.update(&Key::new("foreign"), Version::new(3), json!(2))
            .await
            .unwrap(),
        Version::new(4)
    );
    assert_eq!(s.get(&Key::new("gone")).await.unwrap(), None);
    assert_eq!(
        s.insert(&Key::new("gone"), json!(1)).await.unwrap(),
        Version::new(3)
    );
    // A token that is not one this crate writes is unreadable data, never a conflict.
    for partition in ["bad", "upper"] {
        let key = Key::new(partition);
        let err = read(s, &key).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{partition}");
        match s.get(&key).await {
            Err(Error::Backend {
                kind: ErrorKind::Corrupt,
                ..
            }) => {}
            other => panic!("{partition}: expected corrupt data, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_null_is_a_value_not_a_tombstone() {
    let (file, mut conn) = store("tokens-null", true).await;
    let s = &file.store;
    let key = Key::new("k");
    s.insert(&key, Value::Null).await.unwrap();
    assert_eq!(
        raw_row(&mut conn, "k").await.unwrap().value.as_deref(),
        Some("null")
    );
    let item = s.get(&key).await.unwrap().unwrap();
    assert_eq!((item.value, item.version), (Value::Null, Version::FIRST));
    s.delete(&key, Version::FIRST).await.unwrap();
    assert_eq!(raw_row(&mut conn, "k").await.unwrap().value, None);
    assert_eq!(s.get(&key).await.unwrap(), None);
}

fn not_found(result: Result<impl std::fmt::Debug, Error>, what: &str) {
    match result {
        Err(Error::Conflict {
            conflict: Conflict::NotFound,
            ..
        }) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tombstone_mode_keeps_the_version_counting() {
    let (file, mut conn) = store("tokens-tombstones", true).await;
    let s = &file.store;
    assert!(s.capabilities().tombstones);
    let key = Key::new("k");
    let v1 = s.insert(&key, json!(1)).await.unwrap();
    let v2 = s.update(&key, v1, json!(2)).await.unwrap();
    s.delete(&key, v2).await.unwrap();

    // The tombstone is invisible: get sees nothing, remove removes nothing.
    assert_eq!(s.get(&key).await.unwrap(), None);
    assert_eq!(s.remove(&key).await.unwrap(), None);
    // A stale update or delete, even at the tombstone's own version, finds nothing.
    not_found(s.update(&key, v2, json!("late")).await, "update at v2");
    not_found(s.update(&key, v1, json!("late")).await, "update at v1");
    not_found(s.delete(&key, v2).await, "delete at v2");
    match s.transact(vec![TxOp::check(key.clone(), v2)]).await {
        Err(Error::TransactionConflict { failures }) => {
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].conflict, Conflict::NotFound);
        }
        other => panic!("check at v2: expected a transaction conflict, got {other:?}"),
    }
    // Nothing of that was written: the tombstone is the delete's.
    let tombstone = raw_row(&mut conn, "k").await.unwrap();
    assert_eq!((tombstone.value, tombstone.version), (None, 2));

    // An insert continues the version: v2 + 1, so v1 and v2 never come back.
    let v3 = s.insert(&key, json!(3)).await.unwrap();
    assert_eq!(v3, Version::new(3));
    match s.update(&key, v1, json!("late")).await {
        Err(Error::Conflict {
            conflict: Conflict::VersionMismatch { expected, current },
            ..
        }) => assert_eq!((expected, current.version), (v1, v3)),
        other => panic!("update at v1: expected a version mismatch, got {other:?}"),
    }
    assert_eq!(s.get(&key).await.unwrap().map(|i| i.version), Some(v3));
    // remove leaves a tombstone too; put continues from it.
    assert_eq!(s.remove(&key).await.unwrap(), Some(v3));
    assert_eq!(s.get(&key).await.unwrap(), None);
    assert_eq!(s.put(&key, json!(4)).await.unwrap(), Version::new(4));
    // In a transaction too.
    s.transact(vec![TxOp::delete(key.clone(), Version::new(4))])
        .await
        .unwrap();
    assert_eq!(
        s.transact(vec![TxOp::insert(key.clone(), json!(5))])
            .await
            .unwrap(),
        vec![Some(Version::new(5))]
    );
}

/// Moves the tombstone of `partition` back in time by `by`.
async fn age(conn: &mut SqliteConnection, partition: &str, by: Duration) {
    let by = i64::try_from(by.as_millis()).unwrap();
    let done = sqlx::query(
        "UPDATE optimist_items SET deleted_at = deleted_at - ?2 \
         WHERE partition_key = ?1 AND value IS NULL",
    )
    .bind(partition)
    .bind(by)
    .execute(conn)
    .await
    .unwrap();
    assert_eq!(done.rows_affected(), 1, "{partition} holds a tombstone");
}

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_removes_old_tombstones_only() {
    let (file, mut conn) = store("tokens-purge", true).await;
    let s = &file.store;
    let keys = ["old", "fresh", "rewritten", "deleted_again", "live"].map(Key::new);
    for key in &keys {
        s.insert(key, json!(1)).await.unwrap();
    }
    for key in &keys[..4] {
        s.delete(key, Version::FIRST).await.unwrap();
    }
    // Tombstones left two hours ago, but two keys were written since: one is an item
    // again, one has a newer tombstone.
    for partition in ["old", "rewritten", "deleted_again"] {
        age(&mut conn, partition, 2 * HOUR).await;
    }
    assert_eq!(s.insert(&keys[2], json!(2)).await.unwrap(), Version::new(2));
    assert_eq!(s.insert(&keys[3], json!(2)).await.unwrap(), Version::new(2));
    s.delete(&keys[3], Version::new(2)).await.unwrap();

    assert_eq!(s.purge_tombstones(HOUR).await.unwrap(), 1);
    assert_eq!(raw_row(&mut conn, "old").await, None);
    let fresh = raw_row(&mut conn, "fresh").await.unwrap();
    assert_eq!((fresh.value, fresh.version), (None, 1));
    let rewritten = raw_row(&mut conn, "rewritten").await.unwrap();
    assert_eq!(
        (rewritten.value.as_deref(), rewritten.version),
        (Some("2"), 2)
    );
    let again = raw_row(&mut conn, "deleted_again").await.unwrap();
    assert_eq!((again.value, again.version), (None, 2));
    assert_eq!(
        s.get(&keys[4]).await.unwrap().map(|i| i.version),
        Some(Version::FIRST)
    );
    // Nothing else is old enough.
    assert_eq!(s.purge_tombstones(HOUR).await.unwrap(), 0);

    // A purged key holds nothing: it restarts at 1. A key whose tombstone stays
    // continues its version.
    assert_eq!(s.insert(&keys[0], json!(3)).await.unwrap(), Version::FIRST);
    assert_eq!(s.insert(&keys[1], json!(3)).await.unwrap(), Version::new(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_goes_through_many_batches() {
    let (file, mut conn) = store("tokens-purge-many", true).await;
    // Tombstones written the way another client would, all a day old, and as many
    // recent ones: more than two batches of each.
    let old = now_millis() - 24 * 3_600_000;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500) \
         INSERT INTO optimist_items (partition_key, has_sort, sort_key, value, version, deleted_at) \
         SELECT 'old' || i, 0, '', NULL, 7, ?1 FROM n \
         UNION ALL SELECT 'recent' || i, 0, '', NULL, 7, ?2 FROM n",
    )
    .bind(old)
    .bind(now_millis())
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(file.store.purge_tombstones(HOUR).await.unwrap(), 2500);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM optimist_items")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 2500);
    // A tombstone without a deletion time has no known age: it is kept.
    sqlx::query(
        "INSERT INTO optimist_items (partition_key, has_sort, sort_key, value, version) \
         VALUES ('ageless', 0, '', NULL, 1)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        file.store.purge_tombstones(Duration::ZERO).await.unwrap(),
        2500
    );
    assert!(raw_row(&mut conn, "ageless").await.is_some());
}

#[tokio::test]
async fn purge_without_tombstone_mode_is_rejected() {
    let s = SqliteStore::builder().build().await.unwrap();
    assert!(!s.capabilities().tombstones);
    match s.purge_tombstones(HOUR).await {
        Err(Error::Backend {
            backend: "sqlite",
            kind: ErrorKind::Rejected,
            retryable: false,
            ..
        }) => {}
        other => panic!("expected a rejected purge, got {other:?}"),
    }
    // Default mode: a deleted key holds nothing, and restarts at 1.
    let key = Key::new("k");
    s.insert(&key, json!(1)).await.unwrap();
    s.delete(&key, Version::FIRST).await.unwrap();
    assert_eq!(read(&s, &key).await.unwrap(), None);
    assert_eq!(s.insert(&key, json!(2)).await.unwrap(), Version::FIRST);
}

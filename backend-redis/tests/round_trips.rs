//! One round trip per operation, observed on the wire: every operation, every conflict
//! kind, and transactions that apply or fail, each send exactly one command (EVALSHA)
//! in one round trip, the write token riding in it; in tombstone mode too, where only
//! an insert over a tombstone takes a second (the engine asks again for exactly the
//! tombstone it found). get_many of 100 keys, and each page of a query or a scan, is
//! one round trip too. Bad input sends nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::future::Future;

use common::proxy::{Proxy, Traffic};
use optimist_core::{
    ConflictKind, Error, Key, QueryOptions, ScanOptions, SortRange, TxOp, Version, VersionedStore,
};
use optimist_redis::RedisStore;
use serde_json::json;

async fn setup(test: &str) -> Option<(Proxy, RedisStore)> {
    setup_in_mode(test, false).await
}

async fn setup_in_mode(test: &str, tombstones: bool) -> Option<(Proxy, RedisStore)> {
    let url = match common::url() {
        Ok(url) => url,
        Err(why) => {
            common::skip_or_fail(test, &why);
            return None;
        }
    };
    let proxy = Proxy::start(&url).await;
    let manager = proxy.manager().await;
    proxy.reset(); // the driver's handshake (CLIENT SETINFO)
    let store = RedisStore::builder()
        .connection(manager)
        .prefix(common::fresh_prefix())
        .tombstones(tombstones)
        .build()
        .await
        .unwrap_or_else(|e| panic!("build through the proxy: {e}"));
    // The counter sees what build sent: the seven scripts (read, write, commit, purge,
    // read_many, query, scan), loaded in one round trip.
    let built = proxy.take();
    let loads = built.commands.iter().filter(|c| *c == "SCRIPT").count();
    assert_eq!(
        (loads, built.commands.len(), built.turns),
        (7, 7, 1),
        "build sent {built:?}"
    );
    Some((proxy, store))
}

/// Runs `op` and asserts it took one round trip carrying one EVALSHA.
async fn one_trip<T>(proxy: &Proxy, what: &str, op: impl Future<Output = T>) -> T {
    trips(proxy, what, 1, op).await
}

/// Runs `op` and asserts it took `n` round trips, each carrying one EVALSHA.
async fn trips<T>(proxy: &Proxy, what: &str, n: usize, op: impl Future<Output = T>) -> T {
    proxy.reset();
    let out = op.await;
    let traffic = proxy.take();
    assert_eq!(
        traffic,
        Traffic {
            commands: vec!["EVALSHA".to_string(); n],
            turns: n
        },
        "{what}"
    );
    out
}

fn kind(err: &Error) -> Option<ConflictKind> {
    err.conflict_ref().map(|c| c.kind())
}

#[tokio::test]
async fn every_operation_is_one_round_trip() {
    let Some((proxy, store)) = setup("every_operation_is_one_round_trip").await else {
        return;
    };
    let k = Key::with_sort("p", "s");
    let v = |n: u64| Version::new(n);

    assert_eq!(
        one_trip(&proxy, "get absent", store.get(&k)).await.ok(),
        Some(None)
    );
    assert_eq!(
        one_trip(&proxy, "insert", store.insert(&k, json!(1)))
            .await
            .ok(),
        Some(v(1))
    );
    let got = one_trip(&proxy, "get present", store.get(&k)).await;
    assert_eq!(got.ok().flatten().map(|i| i.version), Some(v(1)));
    let err = one_trip(&proxy, "insert present", store.insert(&k, json!(2)))
        .await
        .err();
    assert_eq!(
        err.as_ref().and_then(kind),
        Some(ConflictKind::AlreadyExists)
    );
    assert_eq!(
        one_trip(&proxy, "update", store.update(&k, v(1), json!(3)))
            .await
            .ok(),
        Some(v(2))
    );
    let err = one_trip(&proxy, "update stale", store.update(&k, v(1), json!(4)))
        .await
        .err();
    assert_eq!(
        err.as_ref().and_then(kind),
        Some(ConflictKind::VersionMismatch)
    );
    let err = one_trip(&proxy, "delete stale", store.delete(&k, v(1)))
        .await
        .err();
    assert_eq!(
        err.as_ref().and_then(kind),
        Some(ConflictKind::VersionMismatch)
    );
    assert_eq!(
        one_trip(&proxy, "put over", store.put(&k, json!(5)))
            .await
            .ok(),
        Some(v(3))
    );
    assert!(
        one_trip(&proxy, "delete", store.delete(&k, v(3)))
            .await
            .is_ok()
    );
    let err = one_trip(&proxy, "update absent", store.update(&k, v(3), json!(6)))
        .await
        .err();
    assert_eq!(err.as_ref().and_then(kind), Some(ConflictKind::NotFound));
    let err = one_trip(&proxy, "delete absent", store.delete(&k, v(3)))
        .await
        .err();
    assert_eq!(err.as_ref().and_then(kind), Some(ConflictKind::NotFound));
    assert_eq!(
        one_trip(&proxy, "remove absent", store.remove(&k))
            .await
            .ok(),
        Some(None)
    );
    assert_eq!(
        one_trip(&proxy, "put new", store.put(&k, json!(7)))
            .await
            .ok(),
        Some(v(1))
    );
    assert_eq!(
        one_trip(&proxy, "remove", store.remove(&k)).await.ok(),
        Some(Some(v(1)))
    );
}

#[tokio::test]
async fn a_transaction_is_one_round_trip_whether_it_applies_or_fails() {
    let Some((proxy, store)) = setup("a_transaction_is_one_round_trip").await else {
        return;
    };
    let key = |n: &str| Key::new(n);
    for name in ["u", "d", "c", "r"] {
        store
            .insert(&key(name), json!(name))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let v1 = Version::FIRST;
    let all_kinds = vec![
        TxOp::insert(key("i"), json!(1)),
        TxOp::update(key("u"), v1, json!(2)),
        TxOp::delete(key("d"), v1),
        TxOp::check(key("c"), v1),
        TxOp::put(key("p"), json!(3)),
        TxOp::remove(key("r")),
    ];
    let applied = one_trip(&proxy, "transaction applies", store.transact(all_kinds)).await;
    assert_eq!(
        applied.ok(),
        Some(vec![
            Some(v1),
            Some(Version::new(2)),
            None,
            Some(v1),
            Some(v1),
            None
        ])
    );

    // One op of each conflict kind, and one that would pass.
    let failing = vec![
        TxOp::insert(key("i"), json!(1)),
        TxOp::update(key("u"), v1, json!(2)),
        TxOp::delete(key("d"), v1),
        TxOp::check(key("c"), v1),
    ];
    let err = one_trip(&proxy, "transaction fails", store.transact(failing))
        .await
        .err();
    let Some(Error::TransactionConflict { failures }) = err else {
        panic!("expected a transaction conflict, got {err:?}");
    };
    let seen: Vec<_> = failures
        .iter()
        .map(|f| (f.index, f.conflict.kind()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (0, ConflictKind::AlreadyExists),
            (1, ConflictKind::VersionMismatch),
            (2, ConflictKind::NotFound),
        ]
    );
    assert!(failures[0].conflict.current().is_some() && failures[1].conflict.current().is_some());
}

#[tokio::test]
async fn invalid_input_sends_nothing() {
    let Some((proxy, store)) = setup("invalid_input_sends_nothing").await else {
        return;
    };
    let limit = store.capabilities().max_item_bytes;
    let k = Key::new("big");
    proxy.reset();
    let too_big = json!("x".repeat(limit));
    let err = store.put(&k, too_big.clone()).await.err();
    assert!(err.as_ref().is_some_and(Error::is_invalid_input), "{err:?}");
    let err = store
        .transact(vec![TxOp::insert(k.clone(), too_big)])
        .await
        .err();
    assert!(err.as_ref().is_some_and(Error::is_invalid_input), "{err:?}");
    let err = store.get(&Key::new("")).await.err();
    assert!(err.as_ref().is_some_and(Error::is_invalid_input), "{err:?}");
    assert_eq!(
        proxy.take(),
        Traffic {
            commands: vec![],
            turns: 0
        }
    );

    // The largest value that fits goes through, and the one over it left nothing.
    assert_eq!(store.get(&k).await.ok(), Some(None));
    let fits = json!("x".repeat(limit - k.encoded_len() - 2));
    assert_eq!(store.put(&k, fits).await.ok(), Some(Version::FIRST));
}

#[tokio::test]
async fn the_end_of_the_version_counter_is_one_round_trip_too() {
    let Some((proxy, store)) = setup("the_end_of_the_version_counter").await else {
        return;
    };
    let k = Key::new("max");
    let mut conn = store.connection();
    let _: i64 = redis::cmd("HSET")
        .arg(store.redis_key(&k))
        .arg("v")
        .arg("1")
        .arg("ver")
        .arg(u64::MAX.to_string())
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let max = Version::new(u64::MAX);
    let exhausted = |err: Option<Error>| {
        assert_eq!(
            err.as_ref().and_then(Error::backend_kind),
            Some(optimist_core::ErrorKind::VersionExhausted),
            "{err:?}"
        );
    };
    // A put reads the version where it would write: refused by the script.
    exhausted(
        one_trip(&proxy, "put at the end", store.put(&k, json!(2)))
            .await
            .err(),
    );
    // An update expecting u64::MAX is sent as a check only.
    exhausted(
        one_trip(&proxy, "update at the end", store.update(&k, max, json!(2)))
            .await
            .err(),
    );
    let tx = vec![
        TxOp::insert(Key::new("o"), json!(1)),
        TxOp::put(k.clone(), json!(2)),
    ];
    exhausted(
        one_trip(&proxy, "transaction", store.transact(tx))
            .await
            .err(),
    );
    assert_eq!(
        one_trip(&proxy, "remove", store.remove(&k)).await.ok(),
        Some(Some(max))
    );
}

#[tokio::test]
async fn tombstone_mode_costs_no_extra_round_trip_but_on_insert_over_a_tombstone() {
    let Some((proxy, store)) = setup_in_mode("tombstone_mode_round_trips", true).await else {
        return;
    };
    let k = Key::new("k");
    let v = |n: u64| Version::new(n);
    assert_eq!(
        one_trip(&proxy, "insert", store.insert(&k, json!(1)))
            .await
            .ok(),
        Some(v(1))
    );
    assert!(
        one_trip(&proxy, "delete", store.delete(&k, v(1)))
            .await
            .is_ok()
    );
    assert_eq!(
        one_trip(&proxy, "get a tombstone", store.get(&k))
            .await
            .ok(),
        Some(None)
    );
    let err = one_trip(
        &proxy,
        "update a tombstone",
        store.update(&k, v(1), json!(2)),
    )
    .await
    .err();
    assert_eq!(err.as_ref().and_then(kind), Some(ConflictKind::NotFound));
    assert_eq!(
        one_trip(&proxy, "remove a tombstone", store.remove(&k))
            .await
            .ok(),
        Some(None)
    );
    // The insert is sent expecting no record at all, refused with the tombstone in the
    // same reply, then sent again expecting exactly that tombstone.
    assert_eq!(
        trips(
            &proxy,
            "insert over a tombstone",
            2,
            store.insert(&k, json!(3))
        )
        .await
        .ok(),
        Some(v(2))
    );
    assert_eq!(
        one_trip(&proxy, "remove", store.remove(&k)).await.ok(),
        Some(Some(v(2)))
    );
    assert_eq!(
        one_trip(&proxy, "put over a tombstone", store.put(&k, json!(4)))
            .await
            .ok(),
        Some(v(3))
    );
    let tx = vec![
        TxOp::delete(k.clone(), v(3)),
        TxOp::insert(Key::new("o"), json!(1)),
    ];
    assert!(
        one_trip(&proxy, "transaction", store.transact(tx))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn get_many_of_a_hundred_keys_and_every_page_are_one_round_trip() {
    let Some((proxy, store)) = setup("get_many_and_pages_round_trips").await else {
        return;
    };
    let keys: Vec<Key> = (0..100)
        .map(|i| Key::with_sort("p", format!("{i:03}")))
        .collect();
    for key in keys.iter().step_by(2) {
        store.insert(key, json!(1)).await.unwrap();
    }
    let got = one_trip(&proxy, "get_many of 100 keys", store.get_many(&keys))
        .await
        .unwrap();
    assert_eq!(got.iter().filter(|item| item.is_some()).count(), 50);

    // 50 items in pages of 20: three pages, one round trip each.
    let mut cursor = None;
    let mut seen = 0;
    for page_number in 0..3 {
        let options = QueryOptions::new().limit(20).cursor(cursor);
        let page = one_trip(
            &proxy,
            "a page of a query",
            store.query("p", SortRange::All, options),
        )
        .await
        .unwrap();
        seen += page.items.len();
        cursor = page.next;
        assert_eq!(cursor.is_some(), page_number < 2);
    }
    assert_eq!(seen, 50);
    let mut cursor = None;
    for page_number in 0..3 {
        let options = ScanOptions::new().limit(20).cursor(cursor);
        let page = one_trip(&proxy, "a page of a scan", store.scan(options))
            .await
            .unwrap();
        cursor = page.next;
        assert_eq!(cursor.is_some(), page_number < 2);
    }
}

#[tokio::test]
async fn bad_reads_send_nothing() {
    let Some((proxy, store)) = setup("bad_reads_send_nothing").await else {
        return;
    };
    proxy.reset();
    let too_many: Vec<Key> = (0..101).map(|i| Key::new(format!("k{i}"))).collect();
    let twice = [Key::new("a"), Key::new("a")];
    for keys in [&[][..], &too_many[..], &twice[..], &[Key::new("")][..]] {
        let err = store.get_many(keys).await.err();
        assert!(err.as_ref().is_some_and(Error::is_invalid_input), "{err:?}");
    }
    let bad_queries = [
        ("", SortRange::All, QueryOptions::new()),
        ("p", SortRange::between("b", "a"), QueryOptions::new()),
        ("p", SortRange::All, QueryOptions::new().limit(0)),
        ("p", SortRange::All, QueryOptions::new().limit(1001)),
        (
            "p",
            SortRange::All,
            QueryOptions::new().cursor(Some("o1forged".parse().unwrap())),
        ),
    ];
    for (partition, range, options) in bad_queries {
        let err = store.query(partition, range, options).await.err();
        assert!(err.as_ref().is_some_and(Error::is_invalid_input), "{err:?}");
    }
    let err = store.scan(ScanOptions::new().limit(0)).await.err();
    assert!(err.as_ref().is_some_and(Error::is_invalid_input), "{err:?}");
    assert_eq!(
        proxy.take(),
        Traffic {
            commands: vec![],
            turns: 0
        }
    );
}

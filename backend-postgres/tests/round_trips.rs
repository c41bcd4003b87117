//! Every operation is one round trip to the server, counted by a proxy on the wire
//! (see common/proxy.rs), which sees everything the client library sends, its own
//! connection checks included: nothing before the statement, nothing after it.
//!
//! Single-item operations, succeeding or failing with each kind of conflict: the
//! conflict's current item comes back in that same round trip (contract R11), and the
//! write's token rides in the same statement. In tombstone mode too, but for an insert
//! on a tombstone: refused with the tombstone, the engine sends it again for exactly
//! that tombstone (two round trips, and a transaction holding one runs twice).
//! A transaction is one round trip too: one call of the table's commit function. A
//! store that may not create that function (built with `create_table(false)` on a
//! table without it) takes four: BEGIN, lock, apply, COMMIT.
//!
//! get_many of 100 keys, a page of a query and a page of a scan are one round trip
//! each too (contract R16–R18).
//!
//! The store opens its connections and prepares every statement on each before `build`
//! returns: the calls measured here are each the first of its kind on a fresh store,
//! prepare nothing, and a burst of concurrent callers opens no connection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::future::Future;

use common::proxy::Proxy;
use optimist_core::{
    Conflict, ConflictKind, Error, Key, QueryOptions, ScanOptions, SortRange, TxOp, Version,
    VersionedStore,
};
use optimist_postgres::PostgresStore;
use serde_json::json;

/// Runs `call` and checks it took exactly `expected` round trips and prepared nothing,
/// and that nothing was sent after it either.
async fn measure<T>(
    proxy: &Proxy,
    store: &PostgresStore,
    name: &str,
    expected: usize,
    call: impl Future<Output = T>,
) -> T {
    common::idle(store).await;
    proxy.reset();
    let out = call.await;
    let in_call = proxy.sent();
    // Room for anything sent once the call returned (sqlx's own pool pinged each
    // connection it took back here): a late message would show in the counts below.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let after = proxy.sent();
    assert_eq!(
        (in_call.round_trips, in_call.parses),
        (expected, 0),
        "{name}: round trips in the call, statements prepared (sent {})",
        proxy.kinds()
    );
    assert_eq!(
        (after.round_trips, after.pings),
        (expected, 0),
        "{name}: nothing sent after the call (sent {})",
        proxy.kinds()
    );
    println!("{name}: {} round trip(s)", in_call.round_trips);
    out
}

fn kind<T: std::fmt::Debug>(result: optimist_core::Result<T>) -> ConflictKind {
    match result {
        Err(Error::Conflict { conflict, .. }) => {
            if let Conflict::AlreadyExists { current } | Conflict::VersionMismatch { current, .. } =
                &conflict
            {
                assert_eq!(
                    current.value,
                    json!({"n": 2}),
                    "the current item comes back"
                );
                assert_eq!(
                    current.version,
                    Version::new(2),
                    "the current version comes back"
                );
            }
            conflict.kind()
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// A transaction of two writes (`a` updated at `current`, the absent `b` inserted)
/// applied, then one refused twice over (`a` checked at the now stale `current`, `b`
/// inserted again), in `trips.0` and `trips.1` round trips.
async fn transactions(
    proxy: &Proxy,
    store: &PostgresStore,
    what: &str,
    trips: (usize, usize),
    a: &Key,
    current: Version,
    b: &Key,
) {
    let ops = vec![
        TxOp::update(a.clone(), current, json!({"n": current.get() + 1})),
        TxOp::insert(b.clone(), json!(0)),
    ];
    let applied = measure(
        proxy,
        store,
        &format!("{what}, 2 writes"),
        trips.0,
        store.transact(ops),
    )
    .await;
    assert_eq!(
        applied.expect("transact"),
        vec![Some(Version::new(current.get() + 1)), Some(Version::FIRST)]
    );
    let ops = vec![
        TxOp::check(a.clone(), current),
        TxOp::insert(b.clone(), json!(0)),
    ];
    let name = format!("{what} refused, 2 failures");
    let refused = measure(proxy, store, &name, trips.1, store.transact(ops)).await;
    assert!(
        matches!(refused, Err(Error::TransactionConflict { ref failures }) if failures.len() == 2),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_single_operation_is_one_round_trip() {
    let Some(url) = common::url_or_skip("each_single_operation_is_one_round_trip") else {
        return;
    };
    let (proxy, proxied) = common::proxied(&url).await;
    let store = PostgresStore::builder()
        .url(proxied)
        .table(common::fresh_table())
        .max_connections(1)
        .build()
        .await
        .expect("store on the proxied server");
    let (s, p) = (&store, &proxy);

    let a = Key::new("a");
    let absent = Key::with_sort("a", "absent");
    let stale = Version::new(1);

    // `a` at version 2 holding {"n": 2}, written through another store, so every call
    // below is the first of its kind on this store.
    let other = PostgresStore::builder()
        .url(url.clone())
        .table(store.table())
        .build()
        .await
        .expect("a second store on the table");
    other.insert(&a, json!({"n": 1})).await.expect("insert");
    other
        .update(&a, stale, json!({"n": 2}))
        .await
        .expect("update");

    let get = measure(p, s, "get present", 1, store.get(&a)).await;
    assert!(get.expect("get").is_some());
    let get = measure(p, s, "get absent", 1, store.get(&absent)).await;
    assert!(get.expect("get").is_none());

    let insert = measure(
        p,
        s,
        "insert, AlreadyExists with current",
        1,
        store.insert(&a, json!(9)),
    )
    .await;
    assert_eq!(kind(insert), ConflictKind::AlreadyExists);
    let update = measure(
        p,
        s,
        "update, VersionMismatch with current",
        1,
        store.update(&a, stale, json!(9)),
    )
    .await;
    assert_eq!(kind(update), ConflictKind::VersionMismatch);
    let update = measure(
        p,
        s,
        "update, NotFound",
        1,
        store.update(&absent, stale, json!(9)),
    )
    .await;
    assert_eq!(kind(update), ConflictKind::NotFound);
    let delete = measure(
        p,
        s,
        "delete, VersionMismatch with current",
        1,
        store.delete(&a, stale),
    )
    .await;
    assert_eq!(kind(delete), ConflictKind::VersionMismatch);
    let delete = measure(p, s, "delete, NotFound", 1, store.delete(&absent, stale)).await;
    assert_eq!(kind(delete), ConflictKind::NotFound);

    let v3 = measure(
        p,
        s,
        "update",
        1,
        store.update(&a, Version::new(2), json!(3)),
    )
    .await;
    assert_eq!(v3.expect("update"), Version::new(3));
    let deleted = measure(p, s, "delete", 1, store.delete(&a, Version::new(3))).await;
    deleted.expect("delete");
    let v1 = measure(p, s, "insert", 1, store.insert(&a, json!({"n": 1}))).await;
    assert_eq!(v1.expect("insert"), Version::FIRST);
    let v2 = measure(p, s, "put, overwriting", 1, store.put(&a, json!({"n": 2}))).await;
    assert_eq!(v2.expect("put"), Version::new(2));
    let v1 = measure(p, s, "put, creating", 1, store.put(&absent, json!(0))).await;
    assert_eq!(v1.expect("put"), Version::FIRST);
    let removed = measure(p, s, "remove, present", 1, store.remove(&absent)).await;
    assert_eq!(removed.expect("remove"), Some(Version::FIRST));
    let removed = measure(p, s, "remove, absent", 1, store.remove(&absent)).await;
    assert_eq!(removed.expect("remove"), None);

    // Transactions: one call of the commit function, applied or refused.
    transactions(p, s, "transact", (1, 1), &a, Version::new(2), &absent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tombstone_mode_costs_one_round_trip_but_for_inserts_on_tombstones() {
    let Some(url) = common::url_or_skip("tombstone_mode_round_trips") else {
        return;
    };
    let (proxy, proxied) = common::proxied(&url).await;
    let store = PostgresStore::builder()
        .url(proxied)
        .table(common::fresh_table())
        .max_connections(1)
        .tombstones(true)
        .build()
        .await
        .expect("store on the proxied server");
    let (s, p) = (&store, &proxy);
    let a = Key::new("a");
    let v1 = Version::FIRST;

    store.insert(&a, json!({"n": 1})).await.expect("insert");

    let deleted = measure(p, s, "delete, leaving a tombstone", 1, store.delete(&a, v1)).await;
    deleted.expect("delete");
    let got = measure(p, s, "get on a tombstone", 1, store.get(&a)).await;
    assert_eq!(got.expect("get"), None);
    let update = measure(
        p,
        s,
        "update on a tombstone, NotFound",
        1,
        store.update(&a, v1, json!(0)),
    )
    .await;
    assert_eq!(kind(update), ConflictKind::NotFound);
    let delete = measure(
        p,
        s,
        "delete on a tombstone, NotFound",
        1,
        store.delete(&a, v1),
    )
    .await;
    assert_eq!(kind(delete), ConflictKind::NotFound);
    let removed = measure(p, s, "remove on a tombstone", 1, store.remove(&a)).await;
    assert_eq!(removed.expect("remove"), None);
    let v2 = measure(p, s, "insert on a tombstone", 2, store.insert(&a, json!(2))).await;
    assert_eq!(v2.expect("insert"), Version::new(2));
    let removed = measure(p, s, "remove, leaving a tombstone", 1, store.remove(&a)).await;
    assert_eq!(removed.expect("remove"), Some(Version::new(2)));
    let v3 = measure(p, s, "put on a tombstone", 1, store.put(&a, json!(3))).await;
    assert_eq!(v3.expect("put"), Version::new(3));
    let purged = measure(
        p,
        s,
        "purge_tombstones",
        1,
        VersionedStore::purge_tombstones(&store, std::time::Duration::from_secs(3600)),
    )
    .await;
    assert_eq!(purged.expect("purge"), 0);
    store.delete(&a, Version::new(3)).await.expect("delete");
    // Refused with the tombstone, then sent for exactly that tombstone: two calls.
    let ops = vec![TxOp::insert(a.clone(), json!(4))];
    let applied = measure(
        p,
        s,
        "transact, an insert on a tombstone",
        2,
        store.transact(ops),
    )
    .await;
    assert_eq!(applied.expect("transact"), vec![Some(Version::new(4))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_many_of_100_keys_and_each_page_are_one_round_trip() {
    let Some(url) = common::url_or_skip("get_many_and_pages_round_trips") else {
        return;
    };
    let (proxy, proxied) = common::proxied(&url).await;
    let store = PostgresStore::builder()
        .url(proxied)
        .table(common::fresh_table())
        .max_connections(1)
        .build()
        .await
        .expect("store on the proxied server");
    let (s, p) = (&store, &proxy);
    let keys: Vec<Key> = (0..100)
        .map(|i| Key::with_sort("customer", format!("order-{i:03}")))
        .collect();
    let inserts = keys
        .iter()
        .map(|k| TxOp::insert(k.clone(), json!({"n": 1})));
    store
        .transact(inserts.collect())
        .await
        .expect("100 inserts");

    let page = QueryOptions::new().limit(60);
    // The cursors of the second pages, from another store on the same table.
    let other = PostgresStore::builder()
        .url(url.clone())
        .table(store.table())
        .build()
        .await
        .expect("a second store on the table");
    let first = other.query("customer", SortRange::All, page.clone()).await;
    let next = first.expect("query").next;
    let rest = page.clone().cursor(next.clone());
    let scan = ScanOptions::new().limit(60);
    let first = other.scan(scan.clone()).await.expect("scan");
    let scan_rest = scan.clone().cursor(first.next.clone());

    let got = measure(p, s, "get_many, 100 keys", 1, store.get_many(&keys)).await;
    assert_eq!(got.expect("get_many").iter().flatten().count(), 100);
    let first = measure(
        p,
        s,
        "query, first page",
        1,
        store.query("customer", SortRange::All, page),
    )
    .await;
    assert_eq!(first.expect("query").items.len(), 60);
    let last = measure(
        p,
        s,
        "query, next page",
        1,
        store.query("customer", SortRange::All, rest),
    )
    .await;
    let last = last.expect("query");
    assert_eq!((last.items.len(), last.next.is_none()), (40, true));
    let first = measure(p, s, "scan, first page", 1, store.scan(scan)).await;
    assert_eq!(first.expect("scan").items.len(), 60);
    let last = measure(p, s, "scan, next page", 1, store.scan(scan_rest)).await;
    assert_eq!(last.expect("scan").items.len(), 40);
}

/// Connections are opened, and every statement prepared on each, before `build`
/// returns: a burst of concurrent callers, as many as the store has connections and
/// four times more, opens none and prepares nothing; each call is one round trip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_callers_opens_no_connection_and_prepares_nothing() {
    let Some(url) = common::url_or_skip("a_burst_of_callers_opens_no_connection") else {
        return;
    };
    const CONNECTIONS: usize = 4;
    let (proxy, proxied) = common::proxied(&url).await;
    let store = PostgresStore::builder()
        .url(proxied)
        .table(common::fresh_table())
        .max_connections(CONNECTIONS as u32)
        .build()
        .await
        .expect("store on the proxied server");
    assert_eq!(
        proxy.connections(),
        CONNECTIONS,
        "build opened every connection"
    );
    let keys: Vec<Key> = (0..4 * CONNECTIONS)
        .map(|i| Key::new(format!("k{i}")))
        .collect();
    for callers in [CONNECTIONS, 4 * CONNECTIONS] {
        proxy.reset();
        let calls = keys[..callers].iter().map(|key| {
            let store = store.clone();
            let key = key.clone();
            tokio::spawn(async move { store.put(&key, json!(1)).await })
        });
        for call in futures::future::join_all(calls).await {
            call.expect("the task ran").expect("put");
        }
        let sent = proxy.sent();
        assert_eq!(
            (sent.round_trips, sent.parses, sent.pings),
            (callers, 0, 0),
            "{callers} concurrent puts: one round trip each, nothing prepared, no ping"
        );
        assert_eq!(
            proxy.connections(),
            CONNECTIONS,
            "{callers} concurrent puts opened no connection"
        );
    }
    let got = measure(
        &proxy,
        &store,
        "get after the burst",
        1,
        store.get(&keys[0]),
    )
    .await;
    assert!(got.expect("get").is_some());
}

/// A store that may not create the commit function (`create_table(false)`, and the
/// table has none) still keeps every rule of a transaction, the stepwise way: BEGIN,
/// lock every key, apply, COMMIT (four round trips); a refused one rolls back after
/// the lock (three).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_commit_function_a_transaction_takes_four_round_trips() {
    let Some(url) = common::url_or_skip("without_the_commit_function") else {
        return;
    };
    let table = common::fresh_table();
    let maker = PostgresStore::builder()
        .url(url.clone())
        .table(table.clone())
        .build()
        .await
        .expect("store that creates the table");
    let drop_function = format!("DROP FUNCTION \"{table}_optimist_commit_v1\"");
    sqlx::query(&drop_function)
        .execute(maker.pool())
        .await
        .expect("drop the commit function");
    maker.close().await;

    let (proxy, proxied) = common::proxied(&url).await;
    let store = PostgresStore::builder()
        .url(proxied)
        .table(table)
        .create_table(false)
        .max_connections(1)
        .build()
        .await
        .expect("store that may not change the table");
    assert!(format!("{store:?}").contains("one_call_transactions: false"));
    let (s, p) = (&store, &proxy);
    let (a, b) = (Key::new("a"), Key::new("b"));
    let v1 = store.insert(&a, json!(1)).await.expect("insert");

    transactions(p, s, "stepwise transact", (4, 3), &a, v1, &b).await;
}

//! Proves the request count of every operation and every conflict kind, counted twice:
//! by an interceptor installed on the client (every HTTP request the SDK sends, its
//! own retries included) and on the wire, by a proxy between the client and the server
//! (every request that reaches it, whatever sent it). The two must agree.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use optimist_conformance::network::FaultProxy;
use optimist_core::{
    ConflictKind, Error, Key, QueryOptions, ScanOptions, SortRange, TxOp, Version, VersionedStore,
};
use optimist_dynamodb::{ConflictItems, DynamoDbStore};
use serde_json::json;

/// Counts every HTTP request the client sends, retries included.
#[derive(Clone, Debug, Default)]
struct Requests(Arc<AtomicUsize>);

impl Intercept for Requests {
    fn name(&self) -> &'static str {
        "count-requests"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Both counts: the client's interceptor and the proxy in front of the server.
#[derive(Clone)]
struct Counted {
    client: Requests,
    proxy: FaultProxy,
    /// The proxy's exchanges already taken.
    taken: Arc<AtomicUsize>,
}

impl Counted {
    /// The requests sent since the last call, as the client and the wire both saw
    /// them (it fails the test when they disagree).
    fn take(&self) -> usize {
        let sent = self.client.0.swap(0, Ordering::SeqCst);
        let exchanges = usize::try_from(self.proxy.counts().exchanges).unwrap();
        let on_wire = exchanges - self.taken.swap(exchanges, Ordering::SeqCst);
        assert_eq!(
            on_wire, sent,
            "requests seen on the wire by the proxy and sent by the client"
        );
        sent
    }
}

async fn counted_store(sort: bool, mode: ConflictItems) -> Option<(DynamoDbStore, Counted)> {
    counted_store_with(sort, mode, false).await
}

async fn counted_store_with(
    sort: bool,
    mode: ConflictItems,
    tombstones: bool,
) -> Option<(DynamoDbStore, Counted)> {
    let endpoint = match common::endpoint() {
        Ok(endpoint) => endpoint,
        Err(why) => {
            common::unavailable("requests", why);
            return None;
        }
    };
    let proxy = common::proxy::writes_proxy(&endpoint).await;
    let requests = Counted {
        client: Requests::default(),
        proxy: proxy.clone(),
        taken: Arc::default(),
    };
    let client = Client::from_conf(
        common::config_builder(&common::proxy::endpoint_of(&proxy))
            .interceptor(requests.client.clone())
            .build(),
    );
    let table = common::description("requests", sort);
    let settings =
        |b: optimist_dynamodb::DynamoDbStoreBuilder| b.conflict_items(mode).tombstones(tombstones);
    let store = match common::store_on_with(client, table, settings).await {
        Ok(store) => store,
        Err(why) => {
            common::unavailable("requests", why);
            return None;
        }
    };
    requests.take();
    Some((store, requests))
}

fn kind(result: &Error) -> Option<ConflictKind> {
    result.conflict_ref().map(|c| c.kind())
}

fn tx_kinds(err: &Error) -> Vec<(usize, ConflictKind)> {
    match err {
        Error::TransactionConflict { failures } => failures
            .iter()
            .map(|f| (f.index, f.conflict.kind()))
            .collect(),
        other => panic!("expected a transaction conflict, got {other}"),
    }
}

/// Every operation and conflict kind, with `not_found` requests for a NotFound
/// conflict (2 when the store reads the missing item, 1 when it trusts the server).
async fn check_counts(sort: bool, mode: ConflictItems, not_found: usize) {
    let Some((store, requests)) = counted_store(sort, mode).await else {
        return;
    };
    let k = |name: &str| {
        if sort {
            Key::with_sort(name, "s")
        } else {
            Key::new(name)
        }
    };
    let (a, b, c, absent) = (k("a"), k("b"), k("c"), k("absent"));
    let mut table = Vec::new();
    let mut expect = |what: &str, want: usize| {
        let got = requests.take();
        table.push(format!("{what}: {got}"));
        assert_eq!(
            got, want,
            "{what} ({mode:?}) sent {got} requests, expected {want}"
        );
    };

    assert!(store.get(&absent).await.unwrap().is_none());
    expect("get absent", 1);
    let v1 = store.insert(&a, json!({"n": 1})).await.unwrap();
    expect("insert", 1);
    assert!(store.get(&a).await.unwrap().is_some());
    expect("get present", 1);
    let err = store.insert(&a, json!({"n": 2})).await.unwrap_err();
    assert_eq!(kind(&err), Some(ConflictKind::AlreadyExists));
    expect("insert -> AlreadyExists", 1);
    let v2 = store.update(&a, v1, json!({"n": 2})).await.unwrap();
    expect("update", 1);
    let err = store.update(&a, v1, json!({"n": 3})).await.unwrap_err();
    assert_eq!(kind(&err), Some(ConflictKind::VersionMismatch));
    expect("update -> VersionMismatch", 1);
    let err = store
        .update(&absent, v1, json!({"n": 3}))
        .await
        .unwrap_err();
    assert_eq!(kind(&err), Some(ConflictKind::NotFound));
    expect("update -> NotFound", not_found);
    let err = store.delete(&a, v1).await.unwrap_err();
    assert_eq!(kind(&err), Some(ConflictKind::VersionMismatch));
    expect("delete -> VersionMismatch", 1);
    let err = store.delete(&absent, v1).await.unwrap_err();
    assert_eq!(kind(&err), Some(ConflictKind::NotFound));
    expect("delete -> NotFound", not_found);
    store.delete(&a, v2).await.unwrap();
    expect("delete", 1);
    assert_eq!(
        store.put(&b, json!({"p": 1})).await.unwrap(),
        Version::FIRST
    );
    expect("put on a new key", 1);
    assert_eq!(
        store.put(&b, json!({"p": 2})).await.unwrap(),
        Version::new(2)
    );
    expect("put on a key this store wrote last", 1);
    // Another store on the table (another client, as far as this one can tell) writes
    // `b`: this store's guess is stale, refused with the item, and the next round
    // lands on it.
    let other = DynamoDbStore::builder(store.client().clone(), store.table_description().clone())
        .build()
        .unwrap();
    assert_eq!(
        other
            .update(&b, Version::new(2), json!({"p": 3}))
            .await
            .unwrap(),
        Version::new(3)
    );
    requests.take();
    assert_eq!(
        store.put(&b, json!({"p": 4})).await.unwrap(),
        Version::new(4)
    );
    expect("put on a key another client wrote since", 2);
    let fresh = DynamoDbStore::builder(store.client().clone(), store.table_description().clone())
        .build()
        .unwrap();
    assert_eq!(
        fresh.put(&b, json!({"p": 5})).await.unwrap(),
        Version::new(5)
    );
    expect("put on an existing key a store has not seen", 2);
    assert_eq!(
        store.get(&b).await.unwrap().map(|item| item.value),
        Some(json!({"p": 5})),
        "every put landed, none lost"
    );
    expect("get present", 1);
    assert_eq!(store.remove(&b).await.unwrap(), Some(Version::new(5)));
    expect("remove present", 1);
    assert_eq!(store.remove(&b).await.unwrap(), None);
    expect("remove absent", 1);
    // Small numbers cost DynamoDB more than their JSON: within `max_item_bytes`, over
    // DynamoDB's own count, refused before anything is sent.
    let zeros = json!({"zeros": vec![0; 150_000]});
    let err = store.put(&b, zeros.clone()).await.unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    expect("put over DynamoDB's item size count", 0);
    let err = store
        .transact(vec![TxOp::put(b.clone(), zeros)])
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    expect("transact, a put over DynamoDB's item size count", 0);

    let vc = store.insert(&c, json!({"c": 1})).await.unwrap();
    requests.take();
    let done = store
        .transact(vec![
            TxOp::insert(a.clone(), json!({"t": 1})),
            TxOp::update(c.clone(), vc, json!({"c": 2})),
            TxOp::remove(b.clone()),
        ])
        .await
        .unwrap();
    assert_eq!(
        done,
        vec![Some(Version::FIRST), Some(Version::new(2)), None]
    );
    expect("transact (insert, update, remove)", 1);
    let done = store
        .transact(vec![
            TxOp::check(a.clone(), Version::FIRST),
            TxOp::delete(c.clone(), Version::new(2)),
        ])
        .await
        .unwrap();
    assert_eq!(done, vec![Some(Version::FIRST), None]);
    expect("transact (check, delete)", 1);
    let done = store
        .transact(vec![TxOp::put(b.clone(), json!({"p": 1}))])
        .await
        .unwrap();
    assert_eq!(done, vec![Some(Version::FIRST)]);
    expect("transact (put on a new key)", 1);
    let done = store
        .transact(vec![TxOp::put(b.clone(), json!({"p": 2}))])
        .await
        .unwrap();
    assert_eq!(done, vec![Some(Version::new(2))]);
    expect("transact (put on a key this store wrote last)", 1);
    let done = fresh
        .transact(vec![TxOp::put(b.clone(), json!({"p": 3}))])
        .await
        .unwrap();
    assert_eq!(done, vec![Some(Version::new(3))]);
    expect(
        "transact (put on a key a store has not seen since it changed)",
        2,
    );
    let err = store
        .transact(vec![
            TxOp::insert(a.clone(), json!({})),
            TxOp::update(b.clone(), Version::FIRST, json!({})),
            TxOp::check(k("x"), Version::FIRST),
        ])
        .await
        .unwrap_err();
    assert_eq!(
        tx_kinds(&err),
        vec![
            (0, ConflictKind::AlreadyExists),
            (1, ConflictKind::VersionMismatch),
            (2, ConflictKind::NotFound)
        ]
    );
    expect(
        "transact -> AlreadyExists + VersionMismatch + NotFound",
        not_found,
    );
    let err = store
        .transact(vec![TxOp::check(a.clone(), Version::new(9))])
        .await
        .unwrap_err();
    assert_eq!(tx_kinds(&err), vec![(0, ConflictKind::VersionMismatch)]);
    expect("transact check -> VersionMismatch", 1);
    let err = store
        .transact(vec![TxOp::delete(absent.clone(), Version::FIRST)])
        .await
        .unwrap_err();
    assert_eq!(tx_kinds(&err), vec![(0, ConflictKind::NotFound)]);
    expect("transact delete -> NotFound", not_found);
    println!(
        "requests per operation ({mode:?}, {}):\n  {}",
        common::server_name(),
        table.join("\n  ")
    );
}

#[tokio::test]
async fn one_request_per_operation_hash_only() {
    check_counts(false, ConflictItems::Returned, 1).await;
}

#[tokio::test]
async fn one_request_per_operation_hash_and_range() {
    check_counts(true, ConflictItems::Returned, 1).await;
}

#[tokio::test]
async fn not_found_reads_the_item_once_by_default() {
    check_counts(false, ConflictItems::ReadWhenMissing, 2).await;
}

/// Tombstone mode: the same one request per operation, except where the tombstone
/// needs a version the store does not know yet (remove of an item, insert on a
/// tombstone: the engine first asks for nothing and learns the tombstone).
#[tokio::test]
async fn requests_per_operation_in_tombstone_mode() {
    let Some((store, requests)) = counted_store_with(false, ConflictItems::Returned, true).await
    else {
        return;
    };
    let (a, b, absent) = (Key::new("a"), Key::new("b"), Key::new("absent"));
    let mut table = Vec::new();
    let mut expect = |what: &str, want: usize| {
        let got = requests.take();
        table.push(format!("{what}: {got}"));
        assert_eq!(got, want, "{what} sent {got} requests, expected {want}");
    };
    let v1 = store.insert(&a, json!({"n": 1})).await.unwrap();
    expect("insert", 1);
    let v2 = store.update(&a, v1, json!({"n": 2})).await.unwrap();
    expect("update", 1);
    store.delete(&a, v2).await.unwrap();
    expect("delete (PutItem of the tombstone)", 1);
    assert!(store.get(&a).await.unwrap().is_none());
    expect("get a tombstone", 1);
    let err = store.update(&a, v2, json!({})).await.unwrap_err();
    assert_eq!(kind(&err), Some(ConflictKind::NotFound));
    expect("update on a tombstone -> NotFound", 1);
    assert_eq!(store.remove(&a).await.unwrap(), None);
    expect("remove on a tombstone (GetItem)", 1);
    assert_eq!(store.remove(&absent).await.unwrap(), None);
    expect("remove absent (GetItem)", 1);
    let v3 = store.insert(&a, json!({"n": 3})).await.unwrap();
    assert_eq!(v3, Version::new(3));
    expect("insert on a tombstone", 2);
    assert_eq!(store.remove(&a).await.unwrap(), Some(v3));
    expect("remove present (GetItem, PutItem of the tombstone)", 2);
    assert_eq!(store.put(&a, json!({})).await.unwrap(), Version::new(4));
    expect("put on a tombstone this store left", 1);
    assert_eq!(store.put(&b, json!({})).await.unwrap(), Version::FIRST);
    expect("put on a new key", 1);
    let done = store
        .transact(vec![
            TxOp::delete(b.clone(), Version::FIRST),
            TxOp::update(a.clone(), Version::new(4), json!({})),
        ])
        .await
        .unwrap();
    assert_eq!(done, vec![None, Some(Version::new(5))]);
    expect("transact (delete, update)", 1);
    let done = store
        .transact(vec![TxOp::insert(b.clone(), json!({}))])
        .await
        .unwrap();
    assert_eq!(done, vec![Some(Version::new(2))]);
    expect("transact (insert on a tombstone)", 2);
    let done = store.transact(vec![TxOp::remove(a.clone())]).await.unwrap();
    assert_eq!(done, vec![None]);
    expect(
        "transact (remove present, an item this store wrote last)",
        1,
    );
    println!(
        "requests per operation in tombstone mode ({}):\n  {}",
        common::server_name(),
        table.join("\n  ")
    );
}

/// get_many of 100 keys is one `BatchGetItem`; a query or scan page is one `Query` or
/// `Scan`, and the last page needs no extra request to learn that it is the last.
#[tokio::test]
async fn reads_of_many_items_cost_one_request_per_batch_and_page() {
    let Some((store, requests)) = counted_store(true, ConflictItems::ReadWhenMissing).await else {
        return;
    };
    let keys: Vec<Key> = (0..100)
        .map(|i| Key::with_sort("p", format!("s{i:03}")))
        .collect();
    for key in keys.iter().step_by(2) {
        store.insert(key, json!({"n": 1})).await.unwrap();
    }
    requests.take();

    let items = store.get_many(&keys).await.unwrap();
    assert_eq!(items.iter().filter(|i| i.is_some()).count(), 50);
    assert_eq!(
        requests.take(),
        1,
        "get_many of 100 keys, half of them absent"
    );

    let page = store
        .query("p", SortRange::All, QueryOptions::new().limit(50))
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.next.is_some()), (50, false));
    assert_eq!(
        requests.take(),
        1,
        "a query page holding the whole partition"
    );

    let first = store
        .query("p", SortRange::prefix("s0"), QueryOptions::new().limit(30))
        .await
        .unwrap();
    let second = store
        .query(
            "p",
            SortRange::prefix("s0"),
            QueryOptions::new().limit(30).cursor(first.next),
        )
        .await
        .unwrap();
    assert_eq!((first.items.len(), second.items.len()), (30, 20));
    assert!(second.next.is_none());
    assert_eq!(requests.take(), 2, "50 items in pages of 30");

    let page = store.scan(ScanOptions::new().limit(100)).await.unwrap();
    assert_eq!((page.items.len(), page.next.is_some()), (50, false));
    assert_eq!(requests.take(), 1, "a scan page holding the whole table");
}

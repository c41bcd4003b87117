//! Lost answers in tombstone mode, injected by the proxy of tests/common: a tombstone
//! carries the token of the delete that left it, so a delete or remove whose answer is
//! lost is settled by reading the key, like every conditional write (contract R14).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use common::fault_proxy::{Fault, FaultProxy};
use optimist_core::{Held, Key, Record, Storage, TxOp, Version, VersionedStore};
use optimist_dynamodb::DynamoDbStore;
use serde_json::json;

/// A tombstone-mode store through the proxy and one straight to the server, on one
/// fresh table.
struct Rig {
    proxy: FaultProxy,
    store: DynamoDbStore,
    direct: DynamoDbStore,
}

async fn rig(test: &str) -> Option<Rig> {
    let direct = match common::client() {
        Ok(client) => {
            let table = common::description("tombstone-faults", false);
            common::store_on_with(client, table, |b| b.tombstones(true)).await
        }
        Err(why) => Err(why),
    };
    let direct = match direct {
        Ok(direct) => direct,
        Err(why) => {
            common::unavailable(test, why);
            return None;
        }
    };
    let proxy = FaultProxy::start(&common::endpoint().unwrap()).await;
    let config = common::config_builder(&proxy.endpoint())
        .retry_config(RetryConfig::standard())
        .build();
    let store = DynamoDbStore::builder(
        Client::from_conf(config),
        direct.table_description().clone(),
    )
    .tombstones(true)
    .build()
    .unwrap();
    Some(Rig {
        proxy,
        store,
        direct,
    })
}

fn ops(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

async fn held(rig: &Rig, key: &Key) -> Option<Held> {
    rig.direct
        .read(key)
        .await
        .unwrap()
        .as_ref()
        .map(Record::held)
}

#[tokio::test]
async fn a_delete_whose_answer_is_dropped_is_settled_by_the_tombstones_token() {
    let Some(rig) = rig("tombstone delete, answer dropped").await else {
        return;
    };
    let key = Key::new("k");
    let v1 = rig.direct.insert(&key, json!({"n": 1})).await.unwrap();
    rig.proxy.on_next_writes([Fault::DropAnswer]);
    rig.store.delete(&key, v1).await.unwrap();
    assert_eq!(rig.proxy.forwarded(), ops(&["PutItem", "GetItem"]));
    assert_eq!(held(&rig, &key).await, Some(Held::Tombstone(v1)));
}

#[tokio::test]
async fn a_delete_answered_500_on_an_unchanged_item_is_resent_once() {
    let Some(rig) = rig("tombstone delete, answered 500").await else {
        return;
    };
    let key = Key::new("k");
    let v1 = rig.direct.insert(&key, json!({"n": 1})).await.unwrap();
    rig.proxy.on_next_writes([Fault::server_error()]);
    rig.store.delete(&key, v1).await.unwrap();
    assert_eq!(rig.proxy.writes_received(), 2, "answered 500, then resent");
    assert_eq!(rig.proxy.forwarded(), ops(&["GetItem", "PutItem"]));
    assert_eq!(held(&rig, &key).await, Some(Held::Tombstone(v1)));
}

#[tokio::test]
async fn a_remove_whose_answer_is_dropped_returns_the_removed_version() {
    let Some(rig) = rig("tombstone remove, answer dropped").await else {
        return;
    };
    let key = Key::new("k");
    let v1 = rig.direct.insert(&key, json!({"n": 1})).await.unwrap();
    let v2 = rig.direct.update(&key, v1, json!({"n": 2})).await.unwrap();
    rig.proxy.on_next_writes([Fault::DropAnswer]);
    assert_eq!(rig.store.remove(&key).await.unwrap(), Some(v2));
    assert_eq!(
        rig.proxy.forwarded(),
        ops(&["GetItem", "PutItem", "GetItem"]),
        "the read for the version, the tombstone, the read that settled it"
    );
    assert_eq!(held(&rig, &key).await, Some(Held::Tombstone(v2)));
}

#[tokio::test]
async fn a_remove_answered_500_is_indeterminate_and_not_resent() {
    // The key still holds the item: a remove (unconditional) still travelling could
    // land after a resend, so it is never sent again.
    let Some(rig) = rig("tombstone remove, answered 500").await else {
        return;
    };
    let key = Key::new("k");
    let v1 = rig.direct.insert(&key, json!({"n": 1})).await.unwrap();
    rig.proxy.on_next_writes([Fault::server_error()]);
    let err = rig.store.remove(&key).await.unwrap_err();
    assert!(err.is_indeterminate(), "{err}");
    assert_eq!(rig.proxy.writes_received(), 1, "never resent");
    assert_eq!(rig.proxy.forwarded(), ops(&["GetItem", "GetItem"]));
    assert_eq!(held(&rig, &key).await, Some(Held::Item(v1)));
}

#[tokio::test]
async fn an_insert_on_a_tombstone_whose_answer_is_dropped_continues_the_count() {
    let Some(rig) = rig("insert on a tombstone, answer dropped").await else {
        return;
    };
    let key = Key::new("k");
    let v1 = rig.direct.insert(&key, json!({"n": 1})).await.unwrap();
    rig.direct.delete(&key, v1).await.unwrap();
    // The insert first expects nothing and meets the tombstone (answered), then
    // expects exactly that tombstone; that answer is lost.
    rig.proxy
        .on_next_writes([Fault::Forward, Fault::DropAnswer]);
    let version = rig.store.insert(&key, json!({"n": 2})).await.unwrap();
    assert_eq!(version, Version::new(2));
    assert_eq!(
        rig.proxy.forwarded(),
        ops(&["PutItem", "PutItem", "GetItem"])
    );
    let item = rig.direct.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (item.version, item.value),
        (Version::new(2), json!({"n": 2}))
    );
}

#[tokio::test]
async fn a_transaction_deleting_whose_answer_is_dropped_is_settled() {
    let Some(rig) = rig("tombstone transaction, answer dropped").await else {
        return;
    };
    let (a, b) = (Key::new("a"), Key::new("b"));
    let va = rig.direct.insert(&a, json!({"n": 1})).await.unwrap();
    rig.proxy.on_next_writes([Fault::DropAnswer]);
    let versions = rig
        .store
        .transact(vec![
            TxOp::delete(a.clone(), va),
            TxOp::insert(b.clone(), json!({"n": 1})),
        ])
        .await
        .unwrap();
    assert_eq!(versions, vec![None, Some(Version::FIRST)]);
    assert_eq!(
        rig.proxy.forwarded(),
        ops(&["TransactWriteItems", "GetItem", "GetItem"])
    );
    assert_eq!(held(&rig, &a).await, Some(Held::Tombstone(va)));
}

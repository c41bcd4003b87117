//! Bad input against a real table: wrong key shape, reserved attribute names, items over
//! DynamoDB's own size count, a missing table, a table keyed differently from its
//! description. Each is a typed error naming the problem, and nothing is written.
//! Also items written by other tools without a version (contract R3).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use optimist_core::{Error, ErrorKind, Key, TxOp, Version, VersionedStore};
use optimist_dynamodb::{DynamoDbError, DynamoDbStore, TableDescription};
use serde_json::json;

async fn store(sort: bool) -> Option<DynamoDbStore> {
    match common::fresh_store(sort).await {
        Ok(store) => Some(store),
        Err(why) => {
            common::unavailable("bad_input", why);
            None
        }
    }
}

fn reason(err: &Error) -> &str {
    match err {
        Error::InvalidInput { reason, .. } => reason,
        other => panic!("expected InvalidInput, got {other}"),
    }
}

#[tokio::test]
async fn wrong_key_shape_is_invalid_input() {
    let Some(hash_only) = store(false).await else {
        return;
    };
    let err = hash_only
        .insert(&Key::with_sort("a", "b"), json!({"x": 1}))
        .await
        .unwrap_err();
    assert!(reason(&err).contains("sort part"), "{err}");
    assert!(hash_only.get(&Key::new("a")).await.unwrap().is_none());
    let Some(with_range) = store(true).await else {
        return;
    };
    let err = with_range
        .put(&Key::new("a"), json!({"x": 1}))
        .await
        .unwrap_err();
    assert!(reason(&err).contains("sort part"), "{err}");
}

#[tokio::test]
async fn reserved_and_empty_attribute_names_are_invalid_input() {
    let Some(store) = store(true).await else {
        return;
    };
    let key = Key::with_sort("a", "b");
    for name in [
        "pk",
        "sk",
        "version",
        "optimist_token",
        "optimist_deleted",
        "optimist_expires",
    ] {
        let err = store.insert(&key, json!({ name: "x" })).await.unwrap_err();
        assert!(reason(&err).contains(name), "{err}");
    }
    let err = store.insert(&key, json!({"m": {"": 1}})).await.unwrap_err();
    assert!(reason(&err).contains("empty field name"), "{err}");
    let err = store
        .transact(vec![TxOp::put(key.clone(), json!({"": 1}))])
        .await
        .unwrap_err();
    assert!(reason(&err).contains("op 0"), "{err}");
    assert!(
        store.get(&key).await.unwrap().is_none(),
        "nothing was written"
    );
}

// An item within `max_item_bytes` but over DynamoDB's own count is `InvalidInput`
// naming the sizes, and nothing is sent (tests/requests.rs counts the requests).
#[tokio::test]
async fn an_item_over_dynamodbs_own_count_is_invalid_input() {
    let Some(store) = store(false).await else {
        return;
    };
    // Small numbers cost DynamoDB more than their JSON: within the JSON limit, over 400 KB.
    let zeros = json!({"zeros": vec![0; 150_000]});
    assert!(optimist_core::validate::encoded_len(&zeros) < store.capabilities().max_item_bytes);
    for err in [
        store
            .put(&Key::new("big"), zeros.clone())
            .await
            .unwrap_err(),
        store
            .transact(vec![TxOp::insert(Key::new("big"), zeros)])
            .await
            .unwrap_err(),
    ] {
        assert!(err.is_invalid_input(), "{err}");
        assert!(err.to_string().contains("as DynamoDB counts them"), "{err}");
    }
    assert!(store.get(&Key::new("big")).await.unwrap().is_none());
}

#[tokio::test]
async fn a_missing_table_is_named_and_nothing_is_written() {
    let Ok(client) = common::client() else {
        common::unavailable("bad_input", common::endpoint().unwrap_err());
        return;
    };
    let table = TableDescription::new(common::unique_table("missing"), "pk");
    let name = table.name().to_string();
    let err = DynamoDbStore::connect(client.clone(), table.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Configuration { .. }), "{err}");
    assert!(err.to_string().contains(&name), "{err}");
    let store = DynamoDbStore::builder(client, table).build().unwrap();
    for err in [
        store
            .insert(&Key::new("k"), json!({"a": 1}))
            .await
            .unwrap_err(),
        store.get(&Key::new("k")).await.unwrap_err(),
        store
            .transact(vec![TxOp::remove(Key::new("k"))])
            .await
            .unwrap_err(),
    ] {
        match &err {
            Error::Backend {
                kind: ErrorKind::Rejected,
                retryable: false,
                source,
                ..
            } => {
                let source = source.downcast_ref::<DynamoDbError>();
                assert!(
                    matches!(source, Some(DynamoDbError::TableNotFound { table, .. }) if *table == name),
                    "{err}"
                );
            }
            other => panic!("expected a backend error naming the table, got {other}"),
        }
    }
}

#[tokio::test]
async fn a_table_keyed_otherwise_than_described_is_refused() {
    let Some(hash_only) = store(false).await else {
        return;
    };
    let described = TableDescription::new(hash_only.table(), "pk").with_sort_key("sk");
    let err = DynamoDbStore::connect(hash_only.client().clone(), described)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Configuration { .. }), "{err}");
    assert!(err.to_string().contains("sort key"), "{err}");
    let renamed = TableDescription::new(hash_only.table(), "Id");
    let err = DynamoDbStore::connect(hash_only.client().clone(), renamed)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Configuration { .. }), "{err}");
    assert!(err.to_string().contains("partition key"), "{err}");
}

#[tokio::test]
async fn items_without_a_version_read_as_version_0() {
    // contract R3: another tool wrote the item without the version attribute.
    let Some(store) = store(false).await else {
        return;
    };
    store
        .client()
        .put_item()
        .table_name(store.table())
        .item("pk", AttributeValue::S("legacy".into()))
        .item("title", AttributeValue::S("from another tool".into()))
        .send()
        .await
        .unwrap();
    let key = Key::new("legacy");
    let item = store.get(&key).await.unwrap().unwrap();
    assert_eq!(item.version, Version::UNVERSIONED);
    assert_eq!(item.value, json!({"title": "from another tool"}));
    let err = store.insert(&key, json!({})).await.unwrap_err();
    assert!(err.is_conflict());
    let err = store
        .update(&key, Version::FIRST, json!({"title": "x"}))
        .await
        .unwrap_err();
    assert_eq!(
        err.conflict_ref()
            .and_then(|c| c.current())
            .map(|c| c.version),
        Some(Version::UNVERSIONED)
    );
    assert_eq!(
        store
            .update(&key, Version::UNVERSIONED, json!({"title": "ours"}))
            .await
            .unwrap(),
        Version::FIRST
    );
    // A second unversioned item, deleted by expecting 0.
    store
        .client()
        .put_item()
        .table_name(store.table())
        .item("pk", AttributeValue::S("legacy2".into()))
        .send()
        .await
        .unwrap();
    store
        .delete(&Key::new("legacy2"), Version::UNVERSIONED)
        .await
        .unwrap();
    assert!(store.get(&Key::new("legacy2")).await.unwrap().is_none());
}

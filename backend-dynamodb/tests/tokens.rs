//! Write tokens and tombstones on the real server (contract R14, R15): the token is
//! stored with every item and tombstone a write leaves, records written the way other
//! clients write them carry none, and in tombstone mode versions keep counting across a
//! delete until `purge_tombstones` (or DynamoDB's TTL) removes old tombstones.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use optimist_core::{
    Change, CommitOutcome, Conflict, ErrorKind, Expect, Held, Key, Outcome, Record, Storage, TxOp,
    Version, VersionedStore, Write, WriteToken,
};
use optimist_dynamodb::DynamoDbStore;
use serde_json::json;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A store on a fresh hash-only table, in tombstone mode or not, and a client of the
/// same server for writing and reading raw items.
async fn rig(test: &str, tombstones: bool) -> Option<(DynamoDbStore, Client)> {
    let client = match common::client() {
        Ok(client) => client,
        Err(why) => {
            common::unavailable(test, why);
            return None;
        }
    };
    let table = common::description("tokens", false);
    match common::store_on_with(client.clone(), table, |b| b.tombstones(tombstones)).await {
        Ok(store) => Some((store, client)),
        Err(why) => {
            common::unavailable(test, why);
            None
        }
    }
}

/// The raw item under partition key `pk`, as any client reads it.
async fn raw(
    store: &DynamoDbStore,
    client: &Client,
    pk: &str,
) -> Option<HashMap<String, AttributeValue>> {
    client
        .get_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S(pk.to_string()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

fn n(value: u128) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn millis(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH).unwrap().as_millis()
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> u128 {
    match item.get(name) {
        Some(AttributeValue::N(text)) => text.parse().unwrap(),
        other => panic!("{name} is not a number: {other:?}"),
    }
}

#[tokio::test]
async fn the_token_is_stored_with_items_and_tombstones() {
    let Some((store, client)) = rig("tokens stored", true).await else {
        return;
    };
    let key = Key::new("k");
    let value = json!({"a": "x"});
    let (t1, t2, t3) = (
        WriteToken::random(),
        WriteToken::random(),
        WriteToken::random(),
    );

    let insert = Write::new(&key, Expect::Absent, Change::Put(&value)).with_token(t1);
    let outcome = Storage::write(&store, &insert).await.unwrap();
    assert_eq!(
        outcome,
        Outcome::Applied {
            previous: Held::Nothing
        }
    );
    let item = raw(&store, &client, "k").await.unwrap();
    assert_eq!(item.get("optimist_token"), Some(&s(&format!("{t1}@1"))));
    assert_eq!(
        store.read(&key).await.unwrap(),
        Some(Record::item(value.clone(), Version::FIRST).with_token(Some(t1)))
    );

    let update = Write::new(&key, Expect::At(Version::FIRST), Change::Put(&value)).with_token(t2);
    Storage::write(&store, &update).await.unwrap();
    assert_eq!(store.read(&key).await.unwrap().unwrap().token, Some(t2));

    // A stale write is refused with the record, its token included.
    let stale = Write::new(&key, Expect::At(Version::FIRST), Change::Delete).with_token(t3);
    match Storage::write(&store, &stale).await.unwrap() {
        Outcome::Refused {
            current: Some(record),
        } => {
            assert_eq!((record.version, record.token), (Version::new(2), Some(t2)));
        }
        other => panic!("expected a refusal with the record, got {other:?}"),
    }

    let before = SystemTime::now();
    let delete = Write::new(&key, Expect::At(Version::new(2)), Change::Delete).with_token(t3);
    let outcome = Storage::write(&store, &delete).await.unwrap();
    let after = SystemTime::now();
    assert_eq!(
        outcome,
        Outcome::Applied {
            previous: Held::Item(Version::new(2))
        }
    );
    let tombstone = raw(&store, &client, "k").await.unwrap();
    let mut names: Vec<&str> = tombstone.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "optimist_deleted",
            "optimist_expires",
            "optimist_token",
            "pk",
            "version"
        ],
        "a tombstone holds no document attribute"
    );
    assert_eq!(
        tombstone.get("version"),
        Some(&n(2)),
        "the deleted item's version"
    );
    assert_eq!(
        tombstone.get("optimist_token"),
        Some(&s(&format!("{t3}@2")))
    );
    let deleted = number(&tombstone, "optimist_deleted");
    assert!(
        (millis(before)..=millis(after)).contains(&deleted),
        "{deleted}"
    );
    let retention = DynamoDbStore::DEFAULT_TOMBSTONE_RETENTION.as_secs() as u128;
    assert_eq!(
        number(&tombstone, "optimist_expires"),
        deleted / 1000 + retention
    );
    assert_eq!(
        store.read(&key).await.unwrap(),
        Some(Record::tombstone(Version::new(2)).with_token(Some(t3)))
    );

    // A transaction's writes share its token; every record they leave carries it.
    let t4 = WriteToken::random();
    let (a, b) = (Key::new("a"), Key::new("b"));
    let writes = [
        Write::new(&a, Expect::Absent, Change::Put(&value)).with_token(t4),
        Write::new(
            &key,
            Expect::Tombstone(Version::new(2)),
            Change::Put(&value),
        )
        .with_token(t4),
        Write::new(&b, Expect::Absent, Change::Put(&value)).with_token(t4),
    ];
    let outcome = store.commit(&writes).await.unwrap();
    assert_eq!(
        outcome,
        CommitOutcome::Applied {
            previous: vec![
                Held::Nothing,
                Held::Tombstone(Version::new(2)),
                Held::Nothing
            ]
        }
    );
    for (pk, version) in [("a", 1), ("k", 3), ("b", 1)] {
        let record = store.read(&Key::new(pk)).await.unwrap().unwrap();
        assert_eq!(
            (record.version, record.token),
            (Version::new(version), Some(t4)),
            "{pk}"
        );
    }
    let writes = [
        Write::new(&a, Expect::At(Version::FIRST), Change::Delete).with_token(t1),
        Write::new(&b, Expect::Any, Change::Delete).with_token(t1),
    ];
    store.commit(&writes).await.unwrap();
    for pk in ["a", "b"] {
        let tombstone = Record::tombstone(Version::FIRST).with_token(Some(t1));
        assert_eq!(
            store.read(&Key::new(pk)).await.unwrap(),
            Some(tombstone),
            "{pk}"
        );
    }

    // Through the engine, every write carries a token of its own.
    let v = store.put(&Key::new("p"), json!({"n": 1})).await.unwrap();
    let first = store.read(&Key::new("p")).await.unwrap().unwrap();
    store
        .update(&Key::new("p"), v, json!({"n": 2}))
        .await
        .unwrap();
    let second = store.read(&Key::new("p")).await.unwrap().unwrap();
    assert!(first.token.is_some() && second.token.is_some());
    assert_ne!(first.token, second.token);
}

#[tokio::test]
async fn records_written_by_other_clients_have_no_token() {
    let Some((store, client)) = rig("records without tokens", true).await else {
        return;
    };
    // Written the way boto3 or PynamoDB would: no token attribute.
    client
        .put_item()
        .table_name(store.table())
        .item("pk", s("theirs"))
        .item("version", n(3))
        .item("a", s("x"))
        .send()
        .await
        .unwrap();
    let theirs = Key::new("theirs");
    assert_eq!(
        store.read(&theirs).await.unwrap(),
        Some(Record::item(json!({"a": "x"}), Version::new(3)))
    );
    let v4 = store
        .update(&theirs, Version::new(3), json!({"a": "y"}))
        .await
        .unwrap();
    assert!(store.read(&theirs).await.unwrap().unwrap().token.is_some());

    // Updated in place by another client (`SET ..., version = version + 1`, the usual
    // optimistic locking by hand): our token attribute stays, but the record is theirs.
    client
        .update_item()
        .table_name(store.table())
        .key("pk", s("theirs"))
        .update_expression("SET #a = :a, #version = #version + :one")
        .condition_expression("#version = :v")
        .expression_attribute_names("#a", "a")
        .expression_attribute_names("#version", "version")
        .expression_attribute_values(":a", s("z"))
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":v", n(4))
        .send()
        .await
        .unwrap();
    assert!(
        raw(&store, &client, "theirs")
            .await
            .unwrap()
            .contains_key("optimist_token")
    );
    assert_eq!(
        store.read(&theirs).await.unwrap(),
        Some(Record::item(json!({"a": "z"}), v4.next().unwrap()))
    );

    // An unversioned item of another tool reads at version 0, without a token.
    client
        .put_item()
        .table_name(store.table())
        .item("pk", s("bare"))
        .item("a", s("x"))
        .send()
        .await
        .unwrap();
    let bare = Key::new("bare");
    assert_eq!(
        store.read(&bare).await.unwrap(),
        Some(Record::item(json!({"a": "x"}), Version::UNVERSIONED))
    );
    // Deleted by expecting 0, it leaves a tombstone at 0; an insert follows it at 1.
    store.delete(&bare, Version::UNVERSIONED).await.unwrap();
    let tombstone = store.read(&bare).await.unwrap().map(|r| r.held());
    assert_eq!(tombstone, Some(Held::Tombstone(Version::UNVERSIONED)));
    assert_eq!(
        store.insert(&bare, json!({})).await.unwrap(),
        Version::FIRST
    );

    // A token attribute that is not ours is corrupt storage, never taken for a token.
    client
        .put_item()
        .table_name(store.table())
        .item("pk", s("odd"))
        .item("version", n(1))
        .item("optimist_token", s("not a token"))
        .send()
        .await
        .unwrap();
    let err = store.read(&Key::new("odd")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

#[tokio::test]
async fn in_tombstone_mode_versions_continue_after_a_delete() {
    let Some((store, _client)) = rig("tombstone mode", true).await else {
        return;
    };
    assert!(Storage::capabilities(&store).tombstones);
    let key = Key::new("k");
    let v1 = store.insert(&key, json!({"n": 1})).await.unwrap();
    let v2 = store.update(&key, v1, json!({"n": 2})).await.unwrap();
    store.delete(&key, v2).await.unwrap();
    let buried = store.read(&key).await.unwrap();
    assert_eq!(buried.as_ref().map(Record::held), Some(Held::Tombstone(v2)));

    // Readers and remove see nothing; remove leaves the tombstone as it was.
    assert_eq!(store.get(&key).await.unwrap(), None);
    assert_eq!(store.remove(&key).await.unwrap(), None);
    assert_eq!(store.read(&key).await.unwrap(), buried);

    // A stale update or delete at the deleted version is a conflict: the item is gone.
    let err = store.update(&key, v2, json!({"n": 3})).await.unwrap_err();
    assert!(
        matches!(err.conflict_ref(), Some(Conflict::NotFound)),
        "{err}"
    );
    let err = store.delete(&key, v2).await.unwrap_err();
    assert!(
        matches!(err.conflict_ref(), Some(Conflict::NotFound)),
        "{err}"
    );
    assert_eq!(
        store.read(&key).await.unwrap(),
        buried,
        "nothing was written"
    );

    // Insert continues the counter.
    let v3 = store.insert(&key, json!({"n": 3})).await.unwrap();
    assert_eq!(v3, Version::new(3));
    let item = store.get(&key).await.unwrap().unwrap();
    assert_eq!((item.version, item.value), (v3, json!({"n": 3})));

    // remove leaves a tombstone at the removed version; put continues after it.
    assert_eq!(store.remove(&key).await.unwrap(), Some(v3));
    assert_eq!(store.get(&key).await.unwrap(), None);
    assert_eq!(
        store.read(&key).await.unwrap().map(|r| r.held()),
        Some(Held::Tombstone(v3))
    );
    assert_eq!(
        store.put(&key, json!({"n": 4})).await.unwrap(),
        Version::new(4)
    );

    // The same in transactions.
    let versions = store
        .transact(vec![
            TxOp::remove(key.clone()),
            TxOp::insert(Key::new("other"), json!({})),
        ])
        .await
        .unwrap();
    assert_eq!(versions, vec![None, Some(Version::FIRST)]);
    let versions = store
        .transact(vec![TxOp::insert(key.clone(), json!({"n": 5}))])
        .await
        .unwrap();
    assert_eq!(versions, vec![Some(Version::new(5))]);
    let err = store
        .transact(vec![
            TxOp::delete(Key::new("other"), Version::FIRST),
            TxOp::update(key.clone(), Version::new(4), json!({})),
        ])
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert_eq!(
        store
            .get(&Key::new("other"))
            .await
            .unwrap()
            .map(|i| i.version),
        Some(Version::FIRST)
    );
}

#[tokio::test]
async fn purge_removes_old_tombstones_only_and_the_key_restarts_at_1() {
    let Some((store, client)) = rig("purge", true).await else {
        return;
    };
    // Three tombstones: "old" left two days ago (its deletion time set back by hand),
    // "young" just now, and "rewritten", left two days ago and written again since.
    for pk in ["old", "young", "rewritten"] {
        let key = Key::new(pk);
        let v1 = store.insert(&key, json!({"k": pk})).await.unwrap();
        store.delete(&key, v1).await.unwrap();
    }
    let two_days_ago = millis(SystemTime::now() - 2 * DAY);
    for pk in ["old", "rewritten"] {
        client
            .update_item()
            .table_name(store.table())
            .key("pk", s(pk))
            .update_expression("SET #deleted = :at")
            .expression_attribute_names("#deleted", "optimist_deleted")
            .expression_attribute_values(":at", n(two_days_ago))
            .send()
            .await
            .unwrap();
    }
    let rewritten = Key::new("rewritten");
    assert_eq!(
        store
            .insert(&rewritten, json!({"again": true}))
            .await
            .unwrap(),
        Version::new(2)
    );

    assert_eq!(
        VersionedStore::purge_tombstones(&store, DAY).await.unwrap(),
        1,
        "only the old tombstone"
    );
    assert_eq!(store.read(&Key::new("old")).await.unwrap(), None, "purged");
    let young = store.read(&Key::new("young")).await.unwrap();
    assert_eq!(
        young.map(|r| r.held()),
        Some(Held::Tombstone(Version::FIRST))
    );
    let item = store.get(&rewritten).await.unwrap().unwrap();
    assert_eq!(
        item.version,
        Version::new(2),
        "a key written since keeps its item"
    );

    // A purged key holds nothing: it restarts at 1.
    assert_eq!(
        store.insert(&Key::new("old"), json!({})).await.unwrap(),
        Version::FIRST
    );
    assert_eq!(
        VersionedStore::purge_tombstones(&store, DAY).await.unwrap(),
        0
    );
    assert_eq!(
        VersionedStore::purge_tombstones(&store, Duration::ZERO)
            .await
            .unwrap(),
        1,
        "the young one"
    );
    assert_eq!(
        store.put(&Key::new("young"), json!({})).await.unwrap(),
        Version::FIRST
    );
    assert_eq!(
        store.get(&rewritten).await.unwrap().map(|i| i.version),
        Some(Version::new(2))
    );
}

#[tokio::test]
async fn purge_is_rejected_without_tombstone_mode() {
    let Some((store, _client)) = rig("purge without tombstones", false).await else {
        return;
    };
    assert!(!Storage::capabilities(&store).tombstones);
    let err = VersionedStore::purge_tombstones(&store, DAY)
        .await
        .unwrap_err();
    assert_eq!(err.backend_kind(), Some(ErrorKind::Rejected), "{err}");
    // The default mode restarts a deleted key at 1 (contract R15's default).
    let key = Key::new("k");
    let v1 = store.insert(&key, json!({})).await.unwrap();
    store.delete(&key, v1).await.unwrap();
    assert_eq!(store.read(&key).await.unwrap(), None, "no tombstone");
    assert_eq!(store.insert(&key, json!({})).await.unwrap(), Version::FIRST);
}

#[tokio::test]
async fn a_default_mode_store_leaves_a_tombstone_alone() {
    // Two stores on one table, one in tombstone mode: the other one still judges
    // tombstones exactly (remove writes nothing on one; insert continues after it).
    let Some((buries, client)) = rig("mixed modes", true).await else {
        return;
    };
    let plain = DynamoDbStore::builder(client, buries.table_description().clone())
        .build()
        .unwrap();
    let key = Key::new("k");
    let v1 = buries.insert(&key, json!({})).await.unwrap();
    buries.delete(&key, v1).await.unwrap();
    let tombstone = plain.read(&key).await.unwrap();
    assert_eq!(
        tombstone.as_ref().map(Record::held),
        Some(Held::Tombstone(v1))
    );
    assert_eq!(plain.remove(&key).await.unwrap(), None);
    assert_eq!(
        plain.read(&key).await.unwrap(),
        tombstone,
        "remove wrote nothing"
    );
    assert_eq!(
        plain
            .transact(vec![TxOp::remove(key.clone())])
            .await
            .unwrap(),
        vec![None]
    );
    assert_eq!(
        plain.read(&key).await.unwrap(),
        tombstone,
        "nor did the transaction's"
    );
    assert_eq!(
        plain.insert(&key, json!({})).await.unwrap(),
        Version::new(2)
    );
}

#[tokio::test]
async fn create_table_enables_time_to_live_on_the_ttl_attribute() {
    let Some((store, client)) = rig("time to live", true).await else {
        return;
    };
    let ttl = client
        .describe_time_to_live()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some("optimist_expires"));
}

#[tokio::test]
async fn racing_writers_in_tombstone_mode_never_reuse_a_version() {
    // Four writers insert, put and remove one key at once. Every version a write
    // reports is new for the key: deleting never lets the counter go back.
    let Some((store, _client)) = rig("tombstone race", true).await else {
        return;
    };
    let store = std::sync::Arc::new(store);
    let key = Key::new("k");
    let writers = (0..4).map(|writer| {
        let (store, key) = (store.clone(), key.clone());
        tokio::spawn(async move {
            let mut written = Vec::new();
            for round in 0..6 {
                let value = json!({"writer": writer, "round": round});
                let version = match (writer + round) % 3 {
                    0 => match store.insert(&key, value).await {
                        Ok(version) => Some(version),
                        Err(err) if err.is_conflict() => None,
                        Err(err) => panic!("insert: {err}"),
                    },
                    1 => Some(store.put(&key, value).await.unwrap()),
                    _ => {
                        store.remove(&key).await.unwrap();
                        None
                    }
                };
                written.extend(version);
            }
            written
        })
    });
    let mut written: Vec<Version> = Vec::new();
    for writer in writers {
        written.extend(writer.await.unwrap());
    }
    let count = written.len();
    written.sort_unstable();
    written.dedup();
    assert_eq!(
        written.len(),
        count,
        "a version was written twice: {written:?}"
    );
    let last = store.read(&key).await.unwrap().unwrap();
    assert!(
        written.iter().all(|v| *v <= last.version),
        "the key's counter went back: {written:?}, now {last:?}"
    );
}

#[tokio::test]
async fn purge_works_on_a_hash_and_range_table() {
    let client = match common::client() {
        Ok(client) => client,
        Err(why) => return common::unavailable("purge, hash+range", why),
    };
    let table = common::description("tokens-range", true);
    let store = match common::store_on_with(client, table, |b| b.tombstones(true)).await {
        Ok(store) => store,
        Err(why) => return common::unavailable("purge, hash+range", why),
    };
    let (gone, kept) = (Key::with_sort("p", "gone"), Key::with_sort("p", "kept"));
    for key in [&gone, &kept] {
        let v1 = store.insert(key, json!({})).await.unwrap();
        store.delete(key, v1).await.unwrap();
    }
    store.insert(&kept, json!({"back": true})).await.unwrap();
    assert_eq!(
        VersionedStore::purge_tombstones(&store, Duration::ZERO)
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.read(&gone).await.unwrap(), None);
    assert_eq!(
        store.get(&kept).await.unwrap().map(|item| item.version),
        Some(Version::new(2))
    );
}

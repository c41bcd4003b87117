//! Write tokens and tombstones on a real server (contract R14, R15): every record a
//! write leaves (item or tombstone) carries the write's token in its hash; a record
//! another client wrote reads without one; in tombstone mode a delete leaves a
//! tombstone that keeps the version counting, and `purge_tombstones` sweeps only this
//! store's old tombstones, each checked when the script removes it. And through a
//! proxy that cuts the connection after the server answered: a lost answer settled by
//! the token, as the README's table says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::Duration;

use common::proxy::Proxy;
use optimist_core::{
    Change, CommitOutcome, Conflict, Decision, Error, ErrorKind, Expect, Held, Key, Operation,
    Outcome, Record, TxOp, Version, VersionedStore, Write, WriteToken,
};
use optimist_redis::RedisStore;
use serde_json::json;

const HOUR_MS: u64 = 3_600_000;

/// The hash at the item's key, fields sorted by name.
async fn raw_fields(store: &RedisStore, key: &Key) -> Vec<(String, String)> {
    let mut conn = store.connection();
    let mut fields: Vec<(String, String)> = redis::cmd("HGETALL")
        .arg(store.redis_key(key))
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    fields.sort();
    fields
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

async fn raw_hset(store: &RedisStore, key: &Key, fields: &[(&str, &str)]) {
    let mut cmd = redis::cmd("HSET");
    cmd.arg(store.redis_key(key));
    for (name, value) in fields {
        cmd.arg(*name).arg(*value);
    }
    let mut conn = store.connection();
    let _: i64 = cmd
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn exists(store: &RedisStore, key: &Key) -> bool {
    let mut conn = store.connection();
    let n: i64 = redis::cmd("EXISTS")
        .arg(store.redis_key(key))
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    n == 1
}

/// Moves a tombstone's deletion time `by_ms` into the past, as if it had been left
/// that long ago (no waiting in tests).
async fn age(store: &RedisStore, key: &Key, by_ms: u64) {
    let fields = raw_fields(store, key).await;
    let deleted: u64 = field(&fields, "del")
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("{key} is not a tombstone: {fields:?}"));
    let earlier = (deleted - by_ms).to_string();
    raw_hset(store, key, &[("del", &earlier)]).await;
}

async fn write(store: &RedisStore, write: &Write<'_>) -> Outcome {
    // `Storage` named in full, so that method calls on the store stay `VersionedStore`'s.
    optimist_core::Storage::write(store, write)
        .await
        .unwrap_or_else(|e| panic!("{write:?}: {e:?}"))
}

async fn read(store: &RedisStore, key: &Key) -> Option<Record> {
    optimist_core::Storage::read(store, key)
        .await
        .unwrap_or_else(|e| panic!("read {key}: {e:?}"))
}

#[tokio::test]
async fn items_and_tombstones_keep_the_token_of_the_write_that_left_them() {
    let Some(store) = common::tombstone_store_or_skip("items_and_tombstones_keep_the_token").await
    else {
        return;
    };
    let k = Key::with_sort("p", "s");
    let value = json!({"n": 1});
    let (t1, t2, t3) = (
        WriteToken::random(),
        WriteToken::random(),
        WriteToken::random(),
    );

    let insert = Write::new(&k, Expect::Absent, Change::Put(&value)).with_token(t1);
    assert_eq!(
        write(&store, &insert).await,
        Outcome::Applied {
            previous: Held::Nothing
        }
    );
    let v1 = Version::FIRST;
    assert_eq!(
        raw_fields(&store, &k).await,
        vec![
            ("tok".to_string(), t1.to_string()),
            ("v".to_string(), r#"{"n":1}"#.to_string()),
            ("ver".to_string(), "1".to_string()),
        ]
    );
    assert_eq!(
        read(&store, &k).await,
        Some(Record::item(value.clone(), v1).with_token(Some(t1)))
    );

    let update = Write::new(&k, Expect::At(v1), Change::Put(&value)).with_token(t2);
    assert_eq!(
        write(&store, &update).await,
        Outcome::Applied {
            previous: Held::Item(v1)
        }
    );
    assert_eq!(
        field(&raw_fields(&store, &k).await, "tok"),
        Some(t2.to_string().as_str())
    );

    // The tombstone: no value, the deleted item's version, the delete's token, and
    // when it was left (server milliseconds).
    let v2 = Version::new(2);
    let delete = Write::new(&k, Expect::At(v2), Change::Delete).with_token(t3);
    assert_eq!(
        write(&store, &delete).await,
        Outcome::Applied {
            previous: Held::Item(v2)
        }
    );
    let fields = raw_fields(&store, &k).await;
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["del", "tok", "ver"], "{fields:?}");
    assert_eq!(field(&fields, "tok"), Some(t3.to_string().as_str()));
    assert_eq!(field(&fields, "ver"), Some("2"));
    let deleted_at: Option<u64> = field(&fields, "del").and_then(|d| d.parse().ok());
    assert!(
        deleted_at.is_some_and(|ms| ms > 1_600_000_000_000),
        "{fields:?}"
    );
    assert_eq!(
        read(&store, &k).await,
        Some(Record::tombstone(v2).with_token(Some(t3)))
    );

    // Through the engine: the token it drew is the one stored.
    let k2 = Key::new("through-the-engine");
    store.insert(&k2, json!(1)).await.unwrap();
    let stored = field(&raw_fields(&store, &k2).await, "tok").map(str::to_string);
    let token = read(&store, &k2).await.and_then(|r| r.token);
    assert_eq!(token.map(|t| t.to_string()), stored);
    assert!(token.is_some());

    // A transaction's writes share one token, stored with each record.
    let (a, b) = (Key::new("tx-a"), Key::new("tx-b"));
    let t4 = WriteToken::random();
    let writes = [
        Write::new(&a, Expect::Absent, Change::Put(&value)).with_token(t4),
        Write::new(&k2, Expect::At(v1), Change::Delete).with_token(t4),
        Write::new(&b, Expect::Any, Change::Put(&value)).with_token(t4),
    ];
    let outcome = optimist_core::Storage::commit(&store, &writes)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        CommitOutcome::Applied {
            previous: vec![Held::Nothing, Held::Item(v1), Held::Nothing]
        }
    );
    for key in [&a, &k2, &b] {
        let record = read(&store, key).await;
        assert_eq!(record.and_then(|r| r.token), Some(t4), "{key}");
    }
    assert_eq!(
        read(&store, &k2).await.map(|r| r.is_tombstone()),
        Some(true)
    );
}

#[tokio::test]
async fn a_resent_write_is_refused_showing_its_own_token() {
    let Some(store) = common::tombstone_store_or_skip("a_resent_write_is_refused").await else {
        return;
    };
    let k = Key::new("k");
    let value = json!("v");
    let token = WriteToken::random();
    let insert = Write::new(&k, Expect::Absent, Change::Put(&value)).with_token(token);
    write(&store, &insert).await;
    // The same write again, as after a lost answer: refused, and the refusal (in the
    // same reply) shows the first attempt's token, which the engine takes as success.
    let Outcome::Refused { current } = write(&store, &insert).await else {
        panic!("a resent insert must be refused");
    };
    assert!(current.is_some_and(|r| r.written_by(token)));

    let delete_token = WriteToken::random();
    let delete =
        Write::new(&k, Expect::At(Version::FIRST), Change::Delete).with_token(delete_token);
    write(&store, &delete).await;
    let Outcome::Refused { current } = write(&store, &delete).await else {
        panic!("a resent delete must be refused");
    };
    assert_eq!(
        current,
        Some(Record::tombstone(Version::FIRST).with_token(Some(delete_token)))
    );
}

#[tokio::test]
async fn records_other_clients_wrote_have_no_token() {
    let Some(store) = common::store_or_skip("records_other_clients_wrote_have_no_token").await
    else {
        return;
    };
    let k = Key::new("foreign");
    raw_hset(
        &store,
        &k,
        &[("v", r#"{"by":"another client"}"#), ("ver", "4")],
    )
    .await;
    assert_eq!(
        read(&store, &k).await,
        Some(Record::item(
            json!({"by": "another client"}),
            Version::new(4)
        ))
    );
    let conflict = store.insert(&k, json!(1)).await.err();
    assert!(
        matches!(
            conflict.as_ref().and_then(Error::conflict_ref),
            Some(Conflict::AlreadyExists { current }) if current.version == Version::new(4)
        ),
        "{conflict:?}"
    );
    // Our next write stores its token.
    assert_eq!(
        store.update(&k, Version::new(4), json!(2)).await.ok(),
        Some(Version::new(5))
    );
    assert!(read(&store, &k).await.and_then(|r| r.token).is_some());

    // A token field that is not one of ours: the record is corrupt, nothing is written.
    let bad = Key::new("bad-token");
    raw_hset(
        &store,
        &bad,
        &[("v", "1"), ("ver", "1"), ("tok", "not-a-token")],
    )
    .await;
    let before = raw_fields(&store, &bad).await;
    for err in [
        store.get(&bad).await.err(),
        store.insert(&bad, json!(2)).await.err(),
        store.update(&bad, Version::new(9), json!(2)).await.err(),
    ] {
        assert!(
            matches!(
                err,
                Some(Error::Backend {
                    kind: ErrorKind::Corrupt,
                    ..
                })
            ),
            "{err:?}"
        );
    }
    assert_eq!(raw_fields(&store, &bad).await, before);
}

#[tokio::test]
async fn the_default_mode_leaves_no_tombstone_and_purges_nothing() {
    let Some(store) = common::store_or_skip("the_default_mode_leaves_no_tombstone").await else {
        return;
    };
    assert!(!store.capabilities().tombstones);
    let k = Key::new("k");
    let v1 = store.insert(&k, json!(1)).await.unwrap();
    store.delete(&k, v1).await.unwrap();
    assert!(!exists(&store, &k).await, "a delete removes the hash");
    assert_eq!(store.insert(&k, json!(2)).await.ok(), Some(Version::FIRST));
    assert_eq!(store.remove(&k).await.ok(), Some(Some(Version::FIRST)));
    assert!(!exists(&store, &k).await, "a remove removes the hash");
    let err = store.purge_tombstones(Duration::ZERO).await.err();
    assert!(
        matches!(
            err,
            Some(Error::Backend {
                kind: ErrorKind::Rejected,
                operation: Operation::PurgeTombstones,
                retryable: false,
                ..
            })
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn tombstones_keep_the_version_counting_and_stay_invisible() {
    let Some(store) = common::tombstone_store_or_skip("tombstones_keep_the_version_counting").await
    else {
        return;
    };
    assert!(store.capabilities().tombstones);
    let k = Key::new("k");
    let v1 = store.insert(&k, json!(1)).await.unwrap();
    let v2 = store.update(&k, v1, json!(2)).await.unwrap();
    store.delete(&k, v2).await.unwrap();
    let tombstone = raw_fields(&store, &k).await;
    assert_eq!(field(&tombstone, "ver"), Some("2"));
    assert_eq!(field(&tombstone, "v"), None);

    assert_eq!(store.get(&k).await.ok(), Some(None), "get sees nothing");
    for (what, err) in [
        (
            "update at the deleted version",
            store.update(&k, v2, json!(3)).await.err(),
        ),
        (
            "update at an older version",
            store.update(&k, v1, json!(3)).await.err(),
        ),
        (
            "delete at the deleted version",
            store.delete(&k, v2).await.err(),
        ),
    ] {
        assert_eq!(
            err.as_ref().and_then(Error::conflict_ref),
            Some(&Conflict::NotFound),
            "{what}: {err:?}"
        );
    }
    let err = store
        .transact(vec![TxOp::update(k.clone(), v2, json!(3))])
        .await
        .err();
    let Some(Error::TransactionConflict { failures }) = err else {
        panic!("a stale update in a transaction: {err:?}");
    };
    assert_eq!(failures[0].conflict, Conflict::NotFound);
    assert_eq!(
        store.remove(&k).await.ok(),
        Some(None),
        "remove sees nothing"
    );
    assert_eq!(
        raw_fields(&store, &k).await,
        tombstone,
        "the refused writes and the remove left the tombstone as it was"
    );

    assert_eq!(
        store.insert(&k, json!(3)).await.ok(),
        Some(Version::new(3)),
        "an insert after deleting v2 continues at v3"
    );
    let item = raw_fields(&store, &k).await;
    assert_eq!(field(&item, "del"), None, "an item has no deletion time");
    assert_eq!(store.remove(&k).await.ok(), Some(Some(Version::new(3))));
    assert_eq!(
        store.put(&k, json!(4)).await.ok(),
        Some(Version::new(4)),
        "a put after removing v3 continues at v4"
    );
}

#[tokio::test]
async fn purge_removes_old_tombstones_of_this_store_only() {
    let test = "purge_removes_old_tombstones_of_this_store_only";
    let Some(store) = common::tombstone_store_or_skip(test).await else {
        return;
    };
    let Some(other) = common::tombstone_store_or_skip(test).await else {
        return;
    };
    // A store whose prefix extends this one's: its keys must not match this sweep.
    let extended = RedisStore::builder()
        .url(common::url().unwrap())
        .prefix(format!("{}x", store.prefix()))
        .tombstones(true)
        .build()
        .await
        .unwrap();

    let bury = |s: &RedisStore, key: &Key| {
        let (s, key) = (s.clone(), key.clone());
        async move {
            let v = s.insert(&key, json!("x")).await.unwrap();
            s.delete(&key, v).await.unwrap();
        }
    };
    let (old, young, rewritten, live) = (
        Key::new("old"),
        Key::new("young"),
        Key::new("rewritten"),
        Key::new("live"),
    );
    bury(&store, &old).await;
    age(&store, &old, 2 * HOUR_MS).await;
    bury(&store, &young).await;
    // Old tombstone, then written again: an item, which purging leaves alone.
    bury(&store, &rewritten).await;
    age(&store, &rewritten, 2 * HOUR_MS).await;
    assert_eq!(
        store.insert(&rewritten, json!("back")).await.ok(),
        Some(Version::new(2))
    );
    store.insert(&live, json!("live")).await.unwrap();
    // Something under the prefix that is not a hash: skipped.
    let mut conn = store.connection();
    let stray = Key::new("stray");
    let _: () = redis::cmd("SET")
        .arg(store.redis_key(&stray))
        .arg("x")
        .query_async(&mut conn)
        .await
        .unwrap();
    // Old tombstones of other stores on the same server.
    for s in [&other, &extended] {
        bury(s, &old).await;
        age(s, &old, 2 * HOUR_MS).await;
    }

    assert_eq!(
        store
            .purge_tombstones(Duration::from_secs(3 * 3600))
            .await
            .ok(),
        Some(0),
        "nothing is older than three hours"
    );
    assert_eq!(
        store.purge_tombstones(Duration::from_secs(3600)).await.ok(),
        Some(1),
        "only `old` is a tombstone older than an hour"
    );
    assert!(!exists(&store, &old).await);
    assert_eq!(field(&raw_fields(&store, &young).await, "ver"), Some("1"));
    let kept = store.get(&rewritten).await.ok().flatten();
    assert_eq!(
        kept.map(|i| (i.value, i.version)),
        Some((json!("back"), Version::new(2)))
    );
    assert!(store.get(&live).await.ok().flatten().is_some());
    assert!(exists(&store, &stray).await);
    for s in [&other, &extended] {
        assert!(exists(s, &old).await, "another store's tombstone stays");
    }

    // The purged key starts again at 1; the young tombstone still counts on.
    assert_eq!(
        store.insert(&old, json!(1)).await.ok(),
        Some(Version::FIRST)
    );
    assert_eq!(
        store.insert(&young, json!(1)).await.ok(),
        Some(Version::new(2))
    );
}

#[tokio::test]
async fn the_purge_script_checks_each_key_when_it_runs() {
    // The sweep hands purge.lua the keys a SCAN step found; by the time the script
    // runs, any of them may have changed. The script removes only what is, then, an
    // old tombstone.
    let Some(store) = common::tombstone_store_or_skip("the_purge_script_checks_each_key").await
    else {
        return;
    };
    let keys: Vec<Key> = ["old", "young", "item", "string", "missing", "foreign-hash"]
        .into_iter()
        .map(Key::new)
        .collect();
    let [old, young, item, string, _missing, foreign] = &keys[..] else {
        unreachable!()
    };
    for key in [old, young] {
        let v = store.insert(key, json!(1)).await.unwrap();
        store.delete(key, v).await.unwrap();
    }
    age(&store, old, 2 * HOUR_MS).await;
    store.insert(item, json!(1)).await.unwrap();
    let mut conn = store.connection();
    let _: () = redis::cmd("SET")
        .arg(store.redis_key(string))
        .arg("x")
        .query_async(&mut conn)
        .await
        .unwrap();
    // A hash without a value and without a deletion time is no tombstone of ours.
    raw_hset(&store, foreign, &[("ver", "1")]).await;

    let source = optimist_redis::lua_source(Operation::PurgeTombstones).unwrap();
    let script = redis::Script::new(source);
    let mut script = script.prepare_invoke();
    for key in &keys {
        script.key(store.redis_key(key));
    }
    let removed: i64 = script
        .arg(HOUR_MS.to_string())
        .invoke_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let left: Vec<bool> = {
        let mut left = Vec::new();
        for key in &keys {
            left.push(exists(&store, key).await);
        }
        left
    };
    assert_eq!(left, [false, true, true, true, false, true]);
}

#[tokio::test]
async fn a_default_store_continues_the_tombstones_it_finds() {
    // A prefix that was once in tombstone mode: its tombstones still count, whatever
    // mode the store reading them is in.
    let Some(buried) = common::tombstone_store_or_skip("a_default_store_continues").await else {
        return;
    };
    let k = Key::new("k");
    let v1 = buried.insert(&k, json!(1)).await.unwrap();
    buried.delete(&k, v1).await.unwrap();
    let plain = RedisStore::builder()
        .url(common::url().unwrap())
        .prefix(buried.prefix())
        .build()
        .await
        .unwrap();
    assert_eq!(plain.get(&k).await.ok(), Some(None));
    assert_eq!(plain.insert(&k, json!(2)).await.ok(), Some(Version::new(2)));
    // Its own deletes remove the record.
    plain.delete(&k, Version::new(2)).await.unwrap();
    assert!(!exists(&plain, &k).await);
}

/// What a key holds before a write in the table test.
#[derive(Clone, Copy, Debug)]
enum Start {
    Nothing,
    Item(u64),
    Tombstone(u64),
}

/// Leaves `start` at `key`, written raw with the token `theirs`; the record it is.
async fn seed(store: &RedisStore, key: &Key, start: Start, theirs: WriteToken) -> Option<Record> {
    let tok = theirs.to_string();
    let record = match start {
        Start::Nothing => return None,
        Start::Item(ver) => {
            let ver = ver.to_string();
            raw_hset(
                store,
                key,
                &[("v", "\"old\""), ("ver", &ver), ("tok", &tok)],
            )
            .await;
            Record::item(json!("old"), Version::new(ver.parse().unwrap()))
        }
        Start::Tombstone(ver) => {
            let ver = ver.to_string();
            raw_hset(store, key, &[("ver", &ver), ("tok", &tok), ("del", "1")]).await;
            Record::tombstone(Version::new(ver.parse().unwrap()))
        }
    };
    Some(record.with_token(Some(theirs)))
}

#[tokio::test]
async fn the_scripts_decide_exactly_as_the_engines_table() {
    // Every precondition and change against every kind of record, in both modes, as a
    // single write and as a one-write transaction: the answer and what the key holds
    // afterwards are what core's `Write::decide` says.
    let test = "the_scripts_decide_exactly_as_the_engines_table";
    let Some(plain) = common::store_or_skip(test).await else {
        return;
    };
    let Some(buried) = common::tombstone_store_or_skip(test).await else {
        return;
    };
    let max = u64::MAX;
    let starts = [
        Start::Nothing,
        Start::Item(3),
        Start::Tombstone(3),
        Start::Item(max),
        Start::Tombstone(max),
    ];
    let v = Version::new;
    let expects = [
        Expect::Absent,
        Expect::At(v(3)),
        Expect::At(v(4)),
        Expect::At(v(max)),
        Expect::Tombstone(v(3)),
        Expect::Tombstone(v(2)),
        Expect::Tombstone(v(max)),
        Expect::Any,
    ];
    let value = json!({"new": true});
    let changes = [Change::Put(&value), Change::Delete, Change::Keep];
    let theirs = WriteToken::random();
    let mut n = 0;
    for store in [&plain, &buried] {
        let tombstones = store.capabilities().tombstones;
        for start in starts {
            for expect in expects {
                for change in changes {
                    n += 1;
                    let case = format!("tombstones={tombstones} {start:?} {expect:?} {change:?}");
                    let (key, tx_key) =
                        (Key::new(format!("case-{n}")), Key::new(format!("tx-{n}")));
                    let before = seed(store, &key, start, theirs).await;
                    seed(store, &tx_key, start, theirs).await;
                    let held = Held::of(before.as_ref());
                    let ours = WriteToken::random();
                    let sent = Write::new(&key, expect, change).with_token(ours);
                    let refused = sent.decide(held) == Decision::Refuse;
                    let want_after = match sent.decide(held) {
                        Decision::Refuse | Decision::Keep => before.clone(),
                        Decision::Put(version) => {
                            Some(Record::item(value.clone(), version).with_token(Some(ours)))
                        }
                        Decision::Delete if tombstones => held
                            .version()
                            .map(|ver| Record::tombstone(ver).with_token(Some(ours))),
                        Decision::Delete => None,
                    };

                    let want = if refused {
                        Outcome::Refused {
                            current: before.clone(),
                        }
                    } else {
                        Outcome::Applied { previous: held }
                    };
                    assert_eq!(write(store, &sent).await, want, "{case}: answer");
                    assert_eq!(read(store, &key).await, want_after, "{case}: record after");

                    let in_tx = [Write::new(&tx_key, expect, change).with_token(ours)];
                    let want = if refused {
                        CommitOutcome::Refused {
                            current: vec![(0, before.clone())],
                        }
                    } else {
                        CommitOutcome::Applied {
                            previous: vec![held],
                        }
                    };
                    let answer = optimist_core::Storage::commit(store, &in_tx).await.unwrap();
                    assert_eq!(answer, want, "{case}: transaction's answer");
                    assert_eq!(
                        read(store, &tx_key).await,
                        want_after,
                        "{case}: record after the transaction"
                    );
                }
            }
        }
    }
    assert_eq!(n, 2 * 5 * 8 * 3);
}

/// A store in the given mode through a proxy that can lose answers.
async fn proxied(test: &str, tombstones: bool) -> Option<(Proxy, RedisStore)> {
    let url = match common::url() {
        Ok(url) => url,
        Err(why) => {
            common::skip_or_fail(test, &why);
            return None;
        }
    };
    let proxy = Proxy::start(&url).await;
    let store = RedisStore::builder()
        .connection(proxy.manager().await)
        .prefix(common::fresh_prefix())
        .tombstones(tombstones)
        .build()
        .await
        .unwrap();
    Some((proxy, store))
}

#[tokio::test]
async fn a_lost_answer_is_settled_by_the_token_where_one_is_left() {
    // Each write below reaches the server and is applied; its answer is lost (the
    // proxy cuts the connection as the server answers). The engine reads the key once
    // and finds the write's token, or cannot tell.
    let test = "a_lost_answer_is_settled_by_the_token";
    let Some((proxy, plain)) = proxied(test, false).await else {
        return;
    };
    let v = Version::new;
    let k = Key::new("k");
    let lose = || proxy.swallow_next_reply();

    lose();
    assert_eq!(plain.insert(&k, json!(1)).await.ok(), Some(v(1)), "insert");
    lose();
    assert_eq!(
        plain.update(&k, v(1), json!(2)).await.ok(),
        Some(v(2)),
        "update"
    );
    lose();
    assert_eq!(plain.put(&k, json!(3)).await.ok(), Some(v(3)), "put");
    lose();
    let both = vec![
        TxOp::update(k.clone(), v(3), json!(4)),
        TxOp::insert(Key::new("other"), json!(1)),
    ];
    assert_eq!(
        plain.transact(both).await.ok(),
        Some(vec![Some(v(4)), Some(v(1))]),
        "transaction"
    );
    // In the default mode a delete leaves nothing to carry its token.
    lose();
    let err = plain.delete(&k, v(4)).await.err();
    assert!(
        matches!(err, Some(Error::Indeterminate { .. })),
        "delete: {err:?}"
    );
    assert_eq!(plain.get(&k).await.ok(), Some(None), "the delete landed");

    drop(proxy);
    let Some((proxy, buried)) = proxied(test, true).await else {
        return;
    };
    let lose = || proxy.swallow_next_reply();
    buried.insert(&k, json!(1)).await.unwrap();
    // In tombstone mode the tombstone carries it.
    lose();
    assert_eq!(buried.delete(&k, v(1)).await.ok(), Some(()), "delete");
    // An insert over a tombstone is first sent expecting no record at all. Losing
    // that attempt's answer (a refusal) leaves the engine unable to tell: the
    // tombstone could be another client's delete of the item the insert left.
    lose();
    let err = buried.insert(&k, json!(2)).await.err();
    assert!(
        matches!(err, Some(Error::Indeterminate { .. })),
        "insert over the tombstone: {err:?}"
    );
    assert_eq!(
        buried.insert(&k, json!(2)).await.ok(),
        Some(v(2)),
        "nothing had landed"
    );
    lose();
    assert_eq!(buried.remove(&k).await.ok(), Some(Some(v(2))), "remove");
    let other = Key::new("other");
    buried.insert(&other, json!(1)).await.unwrap();
    lose();
    let with_delete = vec![
        TxOp::delete(other.clone(), v(1)),
        TxOp::insert(Key::new("fresh"), json!(3)),
    ];
    assert_eq!(
        buried.transact(with_delete).await.ok(),
        Some(vec![None, Some(v(1))]),
        "transaction with a delete"
    );
}

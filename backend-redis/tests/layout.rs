//! The data layout: prefixes that isolate stores, hostile prefixes refused, and items
//! written by other tools read the way the contract says (contract R3) or refused with
//! a backend error that writes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_core::{Error, ErrorKind, Key, TxOp, Version, VersionedStore};
use optimist_redis::RedisStore;
use serde_json::json;

fn is_configuration(err: &Error) -> bool {
    matches!(
        err,
        Error::Configuration {
            backend: "redis",
            ..
        }
    )
}

#[tokio::test]
async fn hostile_prefixes_are_configuration_errors_before_connecting() {
    // Nothing listens on port 1: a prefix error must come first, without a connection.
    let long = "p".repeat(optimist_redis::MAX_PREFIX_BYTES + 1);
    for prefix in [
        "",
        "{",
        "}",
        "a}b",
        "{a}",
        "a b",
        "a\r\nFLUSHALL",
        "a\0",
        "a*",
        "ü",
        &long,
    ] {
        let err = RedisStore::builder()
            .url("redis://127.0.0.1:1")
            .prefix(prefix)
            .build()
            .await
            .err();
        assert!(
            err.as_ref().is_some_and(is_configuration),
            "{prefix:?}: {err:?}"
        );
    }
    let err = RedisStore::builder()
        .url("redis://127.0.0.1:1")
        .build()
        .await
        .err();
    assert!(
        err.as_ref().is_some_and(is_configuration),
        "no prefix: {err:?}"
    );
    let err = RedisStore::builder().prefix("p").build().await.err();
    assert!(
        err.as_ref().is_some_and(is_configuration),
        "no URL: {err:?}"
    );
}

#[tokio::test]
async fn stores_with_different_prefixes_do_not_see_each_other() {
    let Some(a) = common::store_or_skip("stores_with_different_prefixes").await else {
        return;
    };
    let Some(b) = common::store_or_skip("stores_with_different_prefixes").await else {
        return;
    };
    // "ab" vs "a" + "b…": a prefix that extends another still names other keys.
    let Some(url) = common::url().ok() else {
        return;
    };
    let extended = RedisStore::builder()
        .url(url)
        .prefix(format!("{}x", a.prefix()))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let k = Key::with_sort("same", "key");
    assert_eq!(a.insert(&k, json!("a")).await.ok(), Some(Version::FIRST));
    for other in [&b, &extended] {
        assert_eq!(other.get(&k).await.ok(), Some(None));
        assert_eq!(
            other.insert(&k, json!("other")).await.ok(),
            Some(Version::FIRST)
        );
        assert_eq!(other.remove(&k).await.ok(), Some(Some(Version::FIRST)));
    }
    let item = a.get(&k).await.ok().flatten();
    assert_eq!(
        item.map(|i| (i.version, i.value)),
        Some((Version::FIRST, json!("a")))
    );
}

#[tokio::test]
async fn items_are_hashes_under_the_prefix_hash_tag() {
    let Some(store) = common::store_or_skip("items_are_hashes_under_the_prefix_hash_tag").await
    else {
        return;
    };
    let k = Key::with_sort("a:b", "c\0d");
    store
        .put(&k, json!({"n": 1}))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let redis_key = store.redis_key(&k);
    assert_eq!(
        redis_key,
        format!("{{{}}}3:a:b3:c\0d", store.prefix()).into_bytes()
    );
    let mut conn = store.connection();
    let fields: Vec<(String, String)> = redis::cmd("HGETALL")
        .arg(&redis_key)
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut fields = fields;
    fields.sort();
    // `tok`: the write token of the put, 32 lowercase hex digits (tests/tokens.rs).
    let token = fields.first().map(|(_, t)| t.clone()).unwrap_or_default();
    assert!(
        token.len() == 32
            && token
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{fields:?}"
    );
    assert_eq!(
        fields,
        vec![
            ("tok".to_string(), token),
            ("v".to_string(), r#"{"n":1}"#.to_string()),
            ("ver".to_string(), "1".to_string())
        ]
    );
}

/// Writes a raw hash at the item's key, as another tool would.
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

#[tokio::test]
async fn an_item_written_without_a_version_reads_as_version_0() {
    let Some(store) = common::store_or_skip("an_item_written_without_a_version").await else {
        return;
    };
    let k = Key::new("legacy");
    raw_hset(&store, &k, &[("v", r#"{"old":true}"#)]).await;
    let item = store.get(&k).await.ok().flatten();
    assert_eq!(item.map(|i| i.version), Some(Version::UNVERSIONED));
    let err = store.insert(&k, json!(1)).await.err();
    let current = err
        .as_ref()
        .and_then(Error::conflict_ref)
        .and_then(|c| c.current().cloned());
    assert_eq!(current.map(|c| c.version), Some(Version::UNVERSIONED));
    assert_eq!(
        store.update(&k, Version::UNVERSIONED, json!(2)).await.ok(),
        Some(Version::FIRST)
    );

    raw_hset(&store, &Key::new("legacy2"), &[("v", "3")]).await;
    let ok = store
        .delete(&Key::new("legacy2"), Version::UNVERSIONED)
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test]
async fn stored_versions_are_exact_u64_decimals() {
    let Some(store) = common::store_or_skip("stored_versions_are_exact_u64_decimals").await else {
        return;
    };
    // Leading zeros read as the number.
    let k = Key::new("zeros");
    raw_hset(&store, &k, &[("v", "1"), ("ver", "007")]).await;
    assert_eq!(
        store.get(&k).await.ok().flatten().map(|i| i.version),
        Some(Version::new(7))
    );
    assert_eq!(
        store.update(&k, Version::new(7), json!(2)).await.ok(),
        Some(Version::new(8))
    );

    // Past 2^53, where a Lua number would round: still exact, carries included.
    let cases = [
        ("99999999999999", 100_000_000_000_000u64),
        ("9007199254740993", 9_007_199_254_740_994),
        ("18446744073709551614", u64::MAX),
    ];
    for (stored, after) in cases {
        let k = Key::new(stored);
        raw_hset(&store, &k, &[("v", "1"), ("ver", stored)]).await;
        let before = Version::new(after - 1);
        assert_eq!(
            store.get(&k).await.ok().flatten().map(|i| i.version),
            Some(before)
        );
        let stale = store
            .update(&k, Version::new(after - 2), json!(0))
            .await
            .err();
        let current = stale
            .as_ref()
            .and_then(Error::conflict_ref)
            .and_then(|c| c.current());
        assert_eq!(current.map(|c| c.version), Some(before), "{stored}");
        assert_eq!(
            store.update(&k, before, json!(2)).await.ok(),
            Some(Version::new(after))
        );
    }
    // In a transaction too.
    let k = Key::new("tx-big");
    raw_hset(&store, &k, &[("v", "1"), ("ver", "9999999999999999999")]).await;
    let out = store
        .transact(vec![TxOp::put(k.clone(), json!(1))])
        .await
        .ok();
    assert_eq!(
        out,
        Some(vec![Some(Version::new(10_000_000_000_000_000_000))])
    );
}

#[tokio::test]
async fn an_exhausted_version_is_a_backend_error_that_writes_nothing() {
    let Some(store) = common::store_or_skip("an_exhausted_version").await else {
        return;
    };
    let k = Key::new("max");
    let other = Key::new("other");
    let max = u64::MAX.to_string();
    raw_hset(&store, &k, &[("v", "1"), ("ver", &max)]).await;
    let before = raw_fields(&store, &k).await;
    let results = [
        store
            .update(&k, Version::new(u64::MAX), json!(2))
            .await
            .map(|_| ()),
        store.put(&k, json!(2)).await.map(|_| ()),
        store
            .transact(vec![
                TxOp::insert(other.clone(), json!(1)),
                TxOp::put(k.clone(), json!(2)),
            ])
            .await
            .map(|_| ()),
        store
            .transact(vec![
                TxOp::insert(other.clone(), json!(1)),
                TxOp::update(k.clone(), Version::new(u64::MAX), json!(2)),
            ])
            .await
            .map(|_| ()),
    ];
    for result in results {
        let err = result.err();
        // Names the exhausted item, whichever op of a transaction it is.
        assert!(
            matches!(
                &err,
                Some(Error::Backend {
                    kind: ErrorKind::VersionExhausted,
                    retryable: false,
                    key: Some(key),
                    backend: "redis",
                    ..
                }) if *key == k
            ),
            "{err:?}"
        );
    }
    assert_eq!(raw_fields(&store, &k).await, before);
    assert_eq!(
        store.get(&other).await.ok(),
        Some(None),
        "the transactions wrote nothing"
    );
    // A conflict elsewhere in the same transaction is reported as the conflict.
    let err = store
        .transact(vec![
            TxOp::update(other.clone(), Version::FIRST, json!(1)),
            TxOp::put(k.clone(), json!(2)),
        ])
        .await
        .err();
    let Some(Error::TransactionConflict { failures }) = err else {
        panic!("expected a transaction conflict, got {err:?}");
    };
    assert_eq!(failures.iter().map(|f| f.index).collect::<Vec<_>>(), [0]);
    // Removing it is still possible.
    assert_eq!(
        store.remove(&k).await.ok(),
        Some(Some(Version::new(u64::MAX)))
    );
}

#[tokio::test]
async fn foreign_data_is_a_backend_error_never_a_conflict() {
    let Some(store) = common::store_or_skip("foreign_data_is_a_backend_error").await else {
        return;
    };
    let mut conn = store.connection();
    let string_key = Key::new("a-string");
    let _: () = redis::cmd("SET")
        .arg(store.redis_key(&string_key))
        .arg("x")
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let not_json = Key::new("not-json");
    raw_hset(&store, &not_json, &[("v", "{oops"), ("ver", "3")]).await;
    let bad_version = Key::new("bad-version");
    raw_hset(&store, &bad_version, &[("v", "1"), ("ver", "-1")]).await;
    let huge_version = Key::new("huge-version");
    raw_hset(
        &store,
        &huge_version,
        &[("v", "1"), ("ver", "18446744073709551616")],
    )
    .await;
    let no_value = Key::new("no-value");
    raw_hset(&store, &no_value, &[("other", "1")]).await;

    for k in [
        &string_key,
        &not_json,
        &bad_version,
        &huge_version,
        &no_value,
    ] {
        let mut results = vec![
            store.get(k).await.map(|_| ()),
            store.insert(k, json!(1)).await.map(|_| ()),
            store.update(k, Version::new(1), json!(1)).await.map(|_| ()),
            store
                .transact(vec![TxOp::check(k.clone(), Version::new(1))])
                .await
                .map(|_| ()),
        ];
        // Put and remove need the version only: over an item whose version reads
        // but whose value does not, they would go ahead (and replace the value).
        if k != &not_json {
            results.push(store.put(k, json!(1)).await.map(|_| ()));
            results.push(store.remove(k).await.map(|_| ()));
        }
        for err in results.into_iter().map(Result::err) {
            assert!(
                matches!(
                    err,
                    Some(Error::Backend {
                        kind: ErrorKind::Corrupt,
                        retryable: false,
                        ..
                    })
                ),
                "{k}: {err:?}"
            );
        }
    }
    // Nothing was overwritten.
    assert_eq!(
        raw_fields(&store, &not_json).await[0],
        ("v".to_string(), "{oops".to_string())
    );
    let kept: String = redis::cmd("GET")
        .arg(store.redis_key(&string_key))
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kept, "x");
}

#[tokio::test]
async fn debug_output_names_the_server_without_its_password() {
    let Some(store) = common::store_or_skip("debug_output_names_the_server").await else {
        return;
    };
    let shown = format!("{store:?}");
    assert!(shown.contains(store.prefix()), "{shown}");
    let url = common::url().unwrap_or_default();
    let password = url
        .rsplit_once('@')
        .and_then(|(userinfo, _)| userinfo.rsplit_once(':'));
    if let Some((_, password)) = password.filter(|(_, p)| !p.is_empty()) {
        assert!(!shown.contains(password), "{shown}");
        assert!(shown.contains("***@"), "{shown}");
    }
}

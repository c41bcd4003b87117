//! What the `json` value column keeps, and why it is not JSONB (see the README).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_core::{Error, ErrorKind, Key, TxOp, Version, VersionedStore};
use optimist_postgres::PostgresStore;
use serde_json::{Value, json};

fn bits(value: &Value) -> Option<u64> {
    value.as_f64().map(f64::to_bits)
}

#[tokio::test]
async fn numbers_round_trip_exactly_with_their_kind() {
    let Some(_) = common::url_or_skip("numbers_round_trip_exactly_with_their_kind") else {
        return;
    };
    let store = common::store().await.expect("store");
    let floats = [
        -0.0,
        1e-320,
        5e-324,
        f64::MIN_POSITIVE,
        1.7976931348623157e308,
        -1.7976931348623157e308,
        1e16,
        1.0,
        0.1,
        std::f64::consts::PI,
        123456789012345680.0,
    ];
    let key = Key::new("numbers");
    let value = json!({
        "i64": [i64::MIN, i64::MAX, -1, 0],
        "u64": [u64::MAX, 9007199254740993u64],
        "f64": floats,
    });
    store.put(&key, value.clone()).await.expect("put");
    let back = store.get(&key).await.expect("get").expect("present").value;
    assert_eq!(back["i64"], value["i64"]);
    assert_eq!(back["u64"][0].as_u64(), Some(u64::MAX));
    assert_eq!(back["u64"][1].as_u64(), Some(9007199254740993));
    for (i, f) in floats.iter().enumerate() {
        let got = &back["f64"][i];
        assert!(got.is_f64(), "{f:e} came back as {got}, not a float");
        assert_eq!(bits(got), Some(f.to_bits()), "{f:e} came back as {got}");
    }
}

#[tokio::test]
async fn nul_is_kept_in_values_and_refused_in_keys() {
    let Some(_) = common::url_or_skip("nul_is_kept_in_values_and_refused_in_keys") else {
        return;
    };
    let store = common::store().await.expect("store");
    let key = Key::new("nul");
    let value = json!({"a\u{0}b": "c\u{0}d"});
    store.insert(&key, value.clone()).await.expect("insert");
    assert_eq!(
        store.get(&key).await.expect("get").map(|i| i.value),
        Some(value)
    );
    assert!(store.capabilities().nul_in_values);
    assert!(!store.capabilities().nul_in_keys);
    for bad in [Key::new("a\u{0}"), Key::with_sort("a", "\u{0}")] {
        let err = store.put(&bad, json!(1)).await.expect_err("NUL key");
        assert!(err.to_string().contains("NUL"), "{err}");
    }
}

/// The reason the column is `json`, kept as a test so it is re-checked on every server:
/// JSONB turns an integral float into an integer and refuses `\u0000`.
#[tokio::test]
async fn jsonb_would_change_values() {
    let Some(url) = common::url_or_skip("jsonb_would_change_values") else {
        return;
    };
    let pool = sqlx::PgPool::connect(&url).await.expect("pool");
    let normalized: String = sqlx::query_scalar("SELECT '[1e16, -0.0, 1.50]'::jsonb::text")
        .fetch_one(&pool)
        .await
        .expect("jsonb");
    assert_eq!(normalized, "[10000000000000000, 0.0, 1.50]");
    let as_read: Value = serde_json::from_str(&normalized).expect("json");
    assert!(
        as_read[0].is_u64(),
        "1e16 (a float) would come back as an integer"
    );
    let nul = sqlx::query("SELECT '\"a\\u0000b\"'::jsonb")
        .execute(&pool)
        .await;
    assert!(nul.is_err(), "JSONB refuses \\u0000");
    let kept: String = sqlx::query_scalar("SELECT '[1e16, -0.0, \"a\\u0000b\"]'::json::text")
        .fetch_one(&pool)
        .await
        .expect("json");
    assert_eq!(kept, "[1e16, -0.0, \"a\\u0000b\"]");
}

#[tokio::test]
async fn values_over_the_declared_size_write_nothing() {
    let Some(url) = common::url_or_skip("values_over_the_declared_size_write_nothing") else {
        return;
    };
    let table = common::fresh_table();
    let store = PostgresStore::builder()
        .url(url)
        .table(table.clone())
        .max_item_bytes(1000)
        .build()
        .await
        .expect("store");
    let key = Key::new("big");
    let big = json!("x".repeat(1000));
    for result in [
        store.insert(&key, big.clone()).await.map(|_| ()),
        store.put(&key, big.clone()).await.map(|_| ()),
        store
            .update(&key, optimist_core::Version::FIRST, big.clone())
            .await
            .map(|_| ()),
    ] {
        match result {
            Err(Error::InvalidInput { reason, .. }) => {
                assert!(reason.contains("over the limit of 1000"), "{reason}")
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
    let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM \"{table}\""))
        .fetch_one(store.pool())
        .await
        .expect("count");
    assert_eq!(rows, 0, "nothing was written");
    // Just inside the limit is accepted.
    let fits = json!("x".repeat(1000 - 2 - key.encoded_len()));
    store.insert(&key, fits).await.expect("fits");
}

#[tokio::test]
async fn rows_written_by_another_tool_read_as_version_0() {
    let Some(url) = common::url_or_skip("rows_written_by_another_tool_read_as_version_0") else {
        return;
    };
    let table = common::fresh_table();
    let store = PostgresStore::builder()
        .url(url)
        .table(table.clone())
        .build()
        .await
        .expect("store");
    sqlx::query(&format!(
        "INSERT INTO \"{table}\" (partition, value) VALUES ('legacy', '{{\"a\": 1}}')"
    ))
    .execute(store.pool())
    .await
    .expect("foreign insert");
    let key = Key::new("legacy");
    let item = store.get(&key).await.expect("get").expect("present");
    assert_eq!(item.version, optimist_core::Version::UNVERSIONED);
    assert_eq!(
        store
            .update(&key, optimist_core::Version::UNVERSIONED, json!(2))
            .await
            .expect("update"),
        optimist_core::Version::FIRST
    );
    // A version beyond BIGINT was never stored: a mismatch, with the current item.
    let err = store
        .delete(&key, optimist_core::Version::new(u64::MAX))
        .await
        .expect_err("mismatch");
    assert!(err.is_conflict(), "{err:?}");
}

/// The version column is a BIGINT, so the counter ends at `i64::MAX` here, not at
/// `u64::MAX`: a write that would pass it fails as exhausted and writes nothing, while
/// a failing condition is still reported as the conflict it is.
#[tokio::test]
async fn the_counter_ends_at_bigint_max_and_writes_nothing_past_it() {
    let Some(url) = common::url_or_skip("the_counter_ends_at_bigint_max") else {
        return;
    };
    let table = common::fresh_table();
    let store = PostgresStore::builder()
        .url(url)
        .table(table.clone())
        .build()
        .await
        .expect("store");
    let key = Key::new("last");
    let other = Key::new("other");
    store.insert(&key, json!("v")).await.expect("insert");
    store.insert(&other, json!("o")).await.expect("insert");
    sqlx::query(&format!(
        "UPDATE \"{table}\" SET version = {} WHERE partition = 'last'",
        i64::MAX
    ))
    .execute(store.pool())
    .await
    .expect("to the end");
    let last = Version::new(i64::MAX as u64);
    let exhausted = |result: optimist_core::Result<Vec<Option<Version>>>| match result {
        Err(err) => {
            assert_eq!(
                err.backend_kind(),
                Some(ErrorKind::VersionExhausted),
                "{err:?}"
            );
            assert!(!err.is_retryable());
        }
        Ok(versions) => panic!("expected exhaustion, got {versions:?}"),
    };
    exhausted(
        store
            .update(&key, last, json!(1))
            .await
            .map(|v| vec![Some(v)]),
    );
    exhausted(store.put(&key, json!(1)).await.map(|v| vec![Some(v)]));
    exhausted(
        store
            .transact(vec![
                TxOp::update(key.clone(), last, json!(1)),
                TxOp::put(other.clone(), json!(2)),
            ])
            .await,
    );
    // A condition that fails is a conflict first, as without the exhausted counter.
    let err = store
        .transact(vec![
            TxOp::update(key.clone(), last, json!(1)),
            TxOp::check(other.clone(), Version::new(7)),
        ])
        .await
        .expect_err("conflict");
    assert!(
        matches!(&err, Error::TransactionConflict { failures } if failures.len() == 1 && failures[0].index == 1),
        "{err:?}"
    );
    // Nothing was written.
    let item = store.get(&key).await.expect("get").expect("present");
    assert_eq!((item.value, item.version), (json!("v"), last));
    let item = store.get(&other).await.expect("get").expect("present");
    assert_eq!((item.value, item.version), (json!("o"), Version::FIRST));
    // The item can still be checked and deleted at its last version.
    store
        .transact(vec![TxOp::check(key.clone(), last)])
        .await
        .expect("check");
    store.delete(&key, last).await.expect("delete");
    assert_eq!(store.get(&key).await.expect("get"), None);
}

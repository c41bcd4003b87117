//! contract R2: values.

use std::sync::Arc;

use optimist_core::{
    Capabilities, Key, NumberSupport, Operation, Value, Version, VersionedStore, validate,
};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::{Number, json};

use crate::support::{
    assert_absent, assert_invalid, assert_item, assert_same_value, doc, doc_for, key, key_for, ok,
};
use crate::verdict::{check, fail};

/// Values at the edges of JSON, kept to those inside the backend's declared limits.
fn edge_values(caps: &Capabilities) -> Vec<Value> {
    let long = "long ✓ ".repeat((caps.max_item_bytes / 4).min(100_000) / 9);
    let mut values = vec![
        json!(null),
        json!(true),
        json!(false),
        json!(""),
        json!("ünïcødé 中文 😀 \u{7f} \u{1b} \"quotes\" \\ / \n\t"),
        json!(long),
        json!({}),
        json!([]),
        json!([[], {}, [[]], {"a": {}}]),
        json!({"": "empty field name", "nested": {"a": [1, "two", null, false, {"b": []}]}}),
        json!({"a": 1, "b": 2, "c": {"z": 26, "y": 25}}),
        json!(0),
        json!(-1),
        json!(i64::MIN),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(i64::MAX as u64 + 1),
        json!(9_007_199_254_740_993_u64),
        json!([i64::MIN, -1, 0, 1, i64::MAX, u64::MAX]),
    ];
    let floats = [
        0.5,
        -0.0,
        0.1,
        1.0,
        -2.5e-3,
        123_456.789,
        1e21,
        1e-7,
        std::f64::consts::PI,
        f64::EPSILON,
        1.000_000_000_000_000_2,
        f64::MIN_POSITIVE,
        5e-324,
        2.225_073_858_507_201e-308,
        f64::MAX,
        f64::MIN,
        1e-300,
        1e125,
        -1e-130,
    ];
    values.extend(
        floats
            .iter()
            .filter_map(|f| Number::from_f64(*f))
            .map(Value::Number),
    );
    if !caps.nul_in_values {
        values.retain(|v| !v.to_string().contains("\\u0000"));
    } else {
        values.push(json!("nul \u{0} inside"));
    }
    // A value as deep as the backend allows (the wrapper of object-only stores adds one).
    let budget = if caps.object_values_only {
        caps.max_depth.saturating_sub(1)
    } else {
        caps.max_depth
    };
    values.push(nested(budget));
    values.retain(|v| {
        validate::value(
            Operation::Put,
            &key_for(caps, "k"),
            &doc_for(caps, v.clone()),
            caps,
        )
        .is_ok()
    });
    values
}

/// Arrays and objects alternating, `depth` levels deep.
fn nested(depth: usize) -> Value {
    let mut value = json!("bottom");
    for level in 0..depth {
        value = if level % 2 == 0 {
            json!([value])
        } else {
            json!({ "level": value })
        };
    }
    value
}

/// contract R2: edge values round-trip: empty, unicode and long strings, nesting up to the
/// declared depth, empty containers, the whole i64 and u64 range, floats bit for bit.
pub async fn r2_values_round_trip<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R2
    let caps = store.capabilities().clone();
    let values = edge_values(&caps);
    check(
        values.len() > 20,
        "edge values round-trip: empty, unicode and long strings, nesting up to the declared depth, empty containers, the whole i64 and u64 range, floats bit for bit",
        || format!("too few edge values fit the declared limits: {caps:?}"),
    );
    for (i, value) in values.into_iter().enumerate() {
        let k = key(&*store, &format!("value-{i}"));
        let value = doc(&*store, value);
        let context = format!("value {i} ({value})");
        let context = context.chars().take(200).collect::<String>();
        ok(store.insert(&k, value.clone()).await, &context);
        assert_item(&*store, &k, &value, Version::FIRST, &context).await;
        // Through update and put as well, which may take other code paths.
        ok(
            store.update(&k, Version::FIRST, value.clone()).await,
            &context,
        );
        ok(store.put(&k, value.clone()).await, &context);
        assert_item(&*store, &k, &value, Version::new(3), &context).await;
        // A conflict carries the value exactly too (contract R11).
        let conflict = crate::support::conflict_of(
            store.insert(&k, doc(&*store, json!(null))).await,
            &context,
        );
        if let Some(current) = conflict.current() {
            assert_same_value(
                &caps,
                &current.value,
                &value,
                &format!("{context}, in a conflict"),
            );
        }
    }
}

fn json_number(caps: &Capabilities) -> BoxedStrategy<Value> {
    let caps = caps.clone();
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        (-1000i64..1000).prop_map(Value::from),
        (-1e6f64..1e6).prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
    ]
    .prop_filter("inside the declared number range", move |v| match v {
        Value::Number(n) => validate::number_fits(n, caps.numbers).is_ok(),
        _ => true,
    })
    .boxed()
}

fn json_string(caps: &Capabilities) -> BoxedStrategy<String> {
    let nul = caps.nul_in_values;
    prop_oneof![
        Just(String::new()),
        "[a-z]{0,8}",
        any::<String>(),
        "\\PC{0,40}",
    ]
    .prop_map(move |s| if nul { s } else { s.replace('\0', "") })
    .boxed()
}

/// Arbitrary JSON inside the backend's declared limits.
pub fn json_value(caps: &Capabilities) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        json_number(caps),
        json_string(caps).prop_map(Value::String),
    ];
    let names = json_string(caps);
    let depth = u32::try_from(caps.max_depth.saturating_sub(1).min(6)).unwrap_or(6);
    leaf.prop_recursive(depth, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(names.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// An arbitrary key part inside the limits.
pub fn key_part(caps: &Capabilities) -> BoxedStrategy<String> {
    let nul = caps.nul_in_keys;
    prop_oneof![any::<String>(), "\\PC{1,20}", "[a-c:/#]{1,4}"]
        .prop_map(move |s| if nul { s } else { s.replace('\0', "") })
        .prop_filter("non-empty and at most 1024 bytes", |s| {
            !s.is_empty() && s.len() <= 1024
        })
        .boxed()
}

fn arbitrary_key(caps: &Capabilities) -> BoxedStrategy<Key> {
    let part = key_part(caps);
    match caps.key_shape {
        optimist_core::KeyShape::PartitionOnly => part.prop_map(Key::new).boxed(),
        optimist_core::KeyShape::PartitionAndSort => (part.clone(), part)
            .prop_map(|(p, s)| Key::with_sort(p, s))
            .boxed(),
        _ => (part.clone(), prop::option::of(part))
            .prop_map(|(p, s)| match s {
                Some(s) => Key::with_sort(p, s),
                None => Key::new(p),
            })
            .boxed(),
    }
}

/// contract R2 (property): arbitrary keys and JSON values inside the declared limits
/// round-trip through put, get, update and a conflict.
pub async fn r2_round_trip_property<S: VersionedStore + 'static>(store: Arc<S>) {
    // contract R2
    let caps = store.capabilities().clone();
    let handle = tokio::runtime::Handle::current();
    let context = crate::runner::context();
    let strategy = (arbitrary_key(&caps), json_value(&caps), json_value(&caps));
    tokio::task::block_in_place(|| {
        let mut runner = TestRunner::new(crate::property::config(&context));
        let result = runner.run(&strategy, |(k, first, second)| {
            let first = doc_for(&caps, first);
            let second = doc_for(&caps, second);
            let fits = |v: &Value| validate::write(Operation::Put, &k, v, &caps).is_ok();
            prop_assume!(fits(&first) && fits(&second));
            handle.block_on(async {
                let before = store.get(&k).await.map_err(unexpected)?.map(|i| i.version);
                let v1 = store.put(&k, first.clone()).await.map_err(unexpected)?;
                let expected_v1 = before.and_then(Version::next).unwrap_or(Version::FIRST);
                prop_assert!(
                    v1 == expected_v1,
                    "put of {k} returns the previous version plus one (R3, R8): expected {expected_v1}, got {v1}"
                );
                let got = store.get(&k).await.map_err(unexpected)?;
                let got = got.ok_or_else(|| {
                    TestCaseError::fail(format!("get {k} after a put answers the item put (R4), got none"))
                })?;
                prop_assert!(
                    crate::support::same_value(&caps, &got.value, &first),
                    "get {k} after a put reads back the value written (R2): expected {}, got {}",
                    first,
                    got.value
                );
                let v2 = store
                    .update(&k, v1, second.clone())
                    .await
                    .map_err(unexpected)?;
                match store.update(&k, v1, first.clone()).await {
                    Err(optimist_core::Error::Conflict { conflict, .. }) => {
                        let current = conflict
                            .current()
                            .ok_or_else(|| {
                                TestCaseError::fail(format!(
                                    "a stale update of {k} conflicts carrying the current item (R11), got a conflict without one"
                                ))
                            })?;
                        prop_assert!(
                            current.version == v2,
                            "a stale update's conflict carries the current item at {v2} (R11), got {}",
                            current.version
                        );
                        prop_assert!(
                            crate::support::same_value(&caps, &current.value, &second),
                            "a stale update's conflict carries the current value (R2, R11): expected {}, got {}",
                            second,
                            current.value
                        );
                    }
                    other => {
                        return Err(TestCaseError::fail(format!(
                            "an update of {k} expecting a stale version is a VersionMismatch (R6), got {other:?}"
                        )));
                    }
                }
                Ok(())
            })
        });
        if let Err(failure) = result {
            fail(
                "arbitrary keys and JSON values inside the declared limits round-trip through put, get, update and a conflict",
                format!("round-trip property failed: {failure}"),
            );
        }
    });
}

fn unexpected(err: optimist_core::Error) -> TestCaseError {
    TestCaseError::fail(format!(
        "a write or read inside the declared limits succeeds, got {err}"
    ))
}

/// contract R2: a value one step outside each declared limit is `InvalidInput`, and
/// nothing is written; a value exactly at the size limit is accepted.
pub async fn r2_values_outside_limits_are_rejected<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R2
    let caps = store.capabilities().clone();
    let fresh = key(&*store, "fresh");
    let existing = key(&*store, "existing");
    let original = doc(&*store, json!({"original": true}));
    ok(store.insert(&existing, original.clone()).await, "insert");

    let mut outside: Vec<(String, Value)> = vec![
        (
            "one byte over the size limit".into(),
            sized(&caps, &fresh, caps.max_item_bytes + 1),
        ),
        (
            "one level over the depth limit".into(),
            doc(
                &*store,
                nested(caps.max_depth + 1 - usize::from(caps.object_values_only)),
            ),
        ),
    ];
    if let NumberSupport::Decimal {
        min_exponent,
        max_exponent,
        ..
    } = caps.numbers
    {
        for exponent in [min_exponent - 1, max_exponent] {
            if let Some(n) = format!("1e{exponent}")
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
            {
                outside.push((
                    format!("number 1e{exponent}"),
                    doc(&*store, json!({"n": n})),
                ));
            }
        }
    }
    if caps.object_values_only {
        outside.push(("a value that is not an object".into(), json!([1, 2])));
        for field in &caps.reserved_fields {
            outside.push((
                format!("a document using reserved field {field:?}"),
                json!({ field.clone(): 1 }),
            ));
        }
    }
    if !caps.nul_in_values {
        outside.push(("a string with NUL".into(), doc(&*store, json!("a\u{0}b"))));
    }
    for (what, value) in outside {
        assert_invalid(
            store.insert(&fresh, value.clone()).await,
            &format!("insert {what}"),
        );
        assert_invalid(
            store.put(&fresh, value.clone()).await,
            &format!("put {what}"),
        );
        assert_absent(&*store, &fresh, &what).await;
        assert_invalid(
            store.update(&existing, Version::FIRST, value.clone()).await,
            &format!("update {what}"),
        );
        assert_invalid(
            store.put(&existing, value).await,
            &format!("put over existing {what}"),
        );
        assert_item(&*store, &existing, &original, Version::FIRST, &what).await;
    }
    let at_limit = sized(&caps, &fresh, caps.max_item_bytes);
    ok(
        store.insert(&fresh, at_limit.clone()).await,
        "insert a value exactly at the size limit",
    );
    assert_item(
        &*store,
        &fresh,
        &at_limit,
        Version::FIRST,
        "value at the size limit",
    )
    .await;
}

/// A document whose item size (key bytes plus compact JSON) is exactly `bytes`.
pub fn sized(caps: &Capabilities, key: &Key, bytes: usize) -> Value {
    let empty = doc_for(caps, json!(""));
    let overhead = key.encoded_len() + validate::encoded_len(&empty);
    doc_for(caps, json!("x".repeat(bytes.saturating_sub(overhead))))
}

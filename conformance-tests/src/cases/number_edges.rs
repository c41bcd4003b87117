//! contract R2: numbers at the edges of what JSON, `f64` and 64-bit integers hold, each
//! round-tripped where the store declares it can hold it and refused where it declares
//! it cannot.

use std::sync::Arc;

use optimist_core::{Key, NumberSupport, TxOp, Value, Version, VersionedStore, validate};
use serde_json::{Number, json};

use crate::support::{
    assert_absent, assert_invalid, assert_item, assert_same_value, conflict_of, doc, key, ok,
};
use crate::verdict::{check_eq, fail};

/// 0.1 + 0.2: its shortest exact decimal form needs all 17 significant digits.
const SEVENTEEN_DIGITS: f64 = 0.300_000_000_000_000_04;

/// The edge numbers, each with a name for messages.
fn edge_numbers() -> Vec<(String, Number)> {
    let two_53_plus_1: u64 = (1 << 53) + 1;
    let mut numbers = vec![
        ("2^53+1".to_string(), Number::from(two_53_plus_1)),
        ("-(2^53+1)".to_string(), Number::from(-(1_i64 << 53) - 1)),
        ("u64::MAX".to_string(), Number::from(u64::MAX)),
        ("i64::MIN".to_string(), Number::from(i64::MIN)),
        ("i64::MAX".to_string(), Number::from(i64::MAX)),
    ];
    let floats = [
        ("-0.0", -0.0),
        ("5e-324 (the smallest subnormal)", 5e-324),
        ("-5e-324", -5e-324),
        ("f64::MIN_POSITIVE", f64::MIN_POSITIVE),
        ("-f64::MIN_POSITIVE", -f64::MIN_POSITIVE),
        ("1e308", 1e308),
        ("-1e308", -1e308),
        (
            "0.30000000000000004 (17 significant digits)",
            SEVENTEEN_DIGITS,
        ),
        ("0.1", 0.1),
        ("-0.1", -0.1),
    ];
    numbers.extend(
        floats
            .into_iter()
            .filter_map(|(name, f)| Some((name.to_string(), Number::from_f64(f)?))),
    );
    numbers
}

/// The significant digits of a float's shortest exact decimal form.
fn significant_digits(f: f64) -> usize {
    let scientific = format!("{f:e}");
    let mantissa = scientific.split('e').next().unwrap_or_default();
    mantissa
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .trim_start_matches('0')
        .len()
}

/// The values a number is written in: alone, in an array and as an object's field, so
/// every place a backend encodes numbers is crossed.
fn placements(n: &Number) -> Vec<Value> {
    vec![
        Value::Number(n.clone()),
        json!([n, "after"]),
        json!({"n": n, "nested": {"n": [n]}}),
    ]
}

/// contract R2: 2^53+1, u64::MAX, i64::MIN, i64::MAX, -0.0, 5e-324, f64::MIN_POSITIVE,
/// 1e308, a float of 17 significant digits and 0.1 (and their negatives) come back
/// with their exact value through insert, get, update, put, a conflict and a
/// transaction, wherever the store's declared number support holds them; those it
/// declares it cannot hold are `InvalidInput`, and nothing is written.
pub async fn r2_number_edges_round_trip<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R2
    let s = &*store;
    let caps = s.capabilities().clone();
    check_eq(
        &significant_digits(SEVENTEEN_DIGITS),
        &17,
        "the 17-digit float's shortest form",
    );
    let numbers = edge_numbers();
    check_eq(
        &numbers.len(),
        &15,
        "every edge number is a finite JSON number",
    );
    let mut held = 0;
    for (i, (name, n)) in numbers.iter().enumerate() {
        let fits = validate::number_fits(n, caps.numbers);
        for (j, value) in placements(n).into_iter().enumerate() {
            let value = doc(s, value);
            let k = key(s, &format!("number-{i}-{j}"));
            let context = format!("{name} ({n}) in {value}");
            match &fits {
                Ok(()) => round_trip(s, &k, &value, &context).await,
                Err(why) => refused(s, &k, &value, &format!("{context}, outside: {why}")).await,
            }
        }
        held += usize::from(fits.is_ok());
    }
    if caps.numbers == NumberSupport::Full {
        check_eq(
            &held,
            &numbers.len(),
            "full number support holds every edge number",
        );
    }
}

/// Writes `value` every way a write can go and reads it back each time.
async fn round_trip<S: VersionedStore + ?Sized>(s: &S, k: &Key, value: &Value, context: &str) {
    let caps = s.capabilities();
    ok(
        s.insert(k, value.clone()).await,
        &format!("insert {context}"),
    );
    assert_item(s, k, value, Version::FIRST, &format!("insert {context}")).await;
    ok(
        s.update(k, Version::FIRST, value.clone()).await,
        &format!("update {context}"),
    );
    assert_item(s, k, value, Version::new(2), &format!("update {context}")).await;
    ok(s.put(k, value.clone()).await, &format!("put {context}"));
    assert_item(s, k, value, Version::new(3), &format!("put {context}")).await;
    let conflict = conflict_of(
        s.update(k, Version::FIRST, doc(s, json!(null))).await,
        &format!("stale update over {context}"),
    );
    let Some(current) = conflict.current() else {
        fail(
            format!("{context}: a VersionMismatch carrying the current item (R11)"),
            format!("{context}: a version mismatch without the current item"),
        );
    };
    assert_same_value(
        caps,
        &current.value,
        value,
        &format!("{context}, in a conflict"),
    );
    if caps.transactions {
        ok(
            s.transact(vec![TxOp::update(
                k.clone(),
                Version::new(3),
                value.clone(),
            )])
            .await,
            &format!("transaction writing {context}"),
        );
        assert_item(
            s,
            k,
            value,
            Version::new(4),
            &format!("transaction {context}"),
        )
        .await;
    }
}

/// Every write of `value` is `InvalidInput` and changes nothing.
async fn refused<S: VersionedStore + ?Sized>(s: &S, k: &Key, value: &Value, context: &str) {
    assert_invalid(
        s.insert(k, value.clone()).await,
        &format!("insert {context}"),
    );
    assert_invalid(s.put(k, value.clone()).await, &format!("put {context}"));
    assert_absent(s, k, context).await;
    let original = doc(s, json!({"original": true}));
    ok(s.insert(k, original.clone()).await, "insert a plain item");
    assert_invalid(
        s.update(k, Version::FIRST, value.clone()).await,
        &format!("update {context}"),
    );
    assert_invalid(
        s.put(k, value.clone()).await,
        &format!("put over an item {context}"),
    );
    if s.capabilities().transactions {
        assert_invalid(
            s.transact(vec![TxOp::put(k.clone(), value.clone())]).await,
            &format!("transaction {context}"),
        );
    }
    assert_item(s, k, &original, Version::FIRST, context).await;
}

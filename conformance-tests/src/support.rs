//! Helpers the cases share, public so a backend's own tests can use them too. A helper
//! that finds the store breaking the contract fails the case with a verdict saying what
//! the contract expected and what came instead ([`crate::verdict`]).

use optimist_core::{
    Capabilities, Conflict, Error, Key, KeyShape, NumberSupport, Result, Value, Version, Versioned,
    VersionedStore,
};
use serde_json::Number;

use crate::verdict::{check, describe_conflict, describe_error, fail};

/// A key named `name` in the shape the store accepts: with a fixed sort part `"s"` on
/// stores whose keys need one, without one otherwise.
///
/// ```
/// use optimist_conformance::support::key;
/// let store = optimist_memory::MemoryStore::new();
/// assert_eq!(key(&store, "a"), optimist_core::Key::new("a"));
/// ```
pub fn key<S: VersionedStore + ?Sized>(store: &S, name: &str) -> Key {
    key_for(store.capabilities(), name)
}

/// [`key`] from capabilities.
///
/// ```
/// use optimist_core::{Capabilities, Key, KeyShape};
/// let caps = Capabilities::new().with_key_shape(KeyShape::PartitionAndSort);
/// assert_eq!(optimist_conformance::support::key_for(&caps, "a"), Key::with_sort("a", "s"));
/// ```
pub fn key_for(caps: &Capabilities, name: &str) -> Key {
    match caps.key_shape {
        KeyShape::PartitionAndSort => Key::with_sort(name, "s"),
        _ => Key::new(name),
    }
}

/// A key from both parts, adapted to the store's shape: the sort part is dropped on a
/// partition-only store (where it is folded into the partition part, so distinct pairs
/// stay distinct keys).
///
/// ```
/// use optimist_conformance::support::key2;
/// let store = optimist_memory::MemoryStore::new();
/// assert_eq!(key2(&store, "a", "b"), optimist_core::Key::with_sort("a", "b"));
/// ```
pub fn key2<S: VersionedStore + ?Sized>(store: &S, partition: &str, sort: &str) -> Key {
    match store.capabilities().key_shape {
        KeyShape::PartitionOnly => Key::new(format!("{partition}\u{1F511}{sort}")),
        _ => Key::with_sort(partition, sort),
    }
}

/// The field a non-object value is wrapped in on stores that only hold objects.
fn wrapper_field(caps: &Capabilities) -> &'static str {
    ["doc", "doc_", "optimist_doc"]
        .into_iter()
        .find(|f| !caps.reserved_fields.iter().any(|r| r == f))
        .unwrap_or("optimist_doc")
}

/// `value` as the store can hold it: unchanged, or wrapped in an object on stores whose
/// values must be objects.
///
/// ```
/// use serde_json::json;
/// let store = optimist_memory::MemoryStore::new();
/// assert_eq!(optimist_conformance::support::doc(&store, json!(1)), json!(1));
/// ```
pub fn doc<S: VersionedStore + ?Sized>(store: &S, value: Value) -> Value {
    doc_for(store.capabilities(), value)
}

/// [`doc`] from capabilities.
///
/// ```
/// use optimist_core::Capabilities;
/// use serde_json::json;
/// let caps = Capabilities::new().with_object_values_only(true);
/// assert_eq!(optimist_conformance::support::doc_for(&caps, json!(1)), json!({"doc": 1}));
/// ```
pub fn doc_for(caps: &Capabilities, value: Value) -> Value {
    if caps.object_values_only {
        let mut wrapped = serde_json::Map::new();
        wrapped.insert(wrapper_field(caps).to_string(), value);
        Value::Object(wrapped)
    } else {
        value
    }
}

/// Whether two values are equal as contract R2 defines it: objects regardless of key order,
/// numbers by exact value (never through a lossy conversion), `-0.0` equal to `0.0`, and
/// on decimal stores an integral float equal to the same integer.
///
/// ```
/// use optimist_core::Capabilities;
/// use serde_json::json;
/// let caps = Capabilities::new();
/// assert!(optimist_conformance::support::same_value(&caps, &json!({"a": 1, "b": -0.0}), &json!({"b": 0.0, "a": 1})));
/// assert!(!optimist_conformance::support::same_value(&caps, &json!(9007199254740993u64), &json!(9007199254740992u64)));
/// ```
pub fn same_value(caps: &Capabilities, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => same_number(caps, x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(caps, x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(caps, v, w)))
        }
        _ => a == b,
    }
}

fn same_number(caps: &Capabilities, x: &Number, y: &Number) -> bool {
    let int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(x), int(y)) {
        (Some(a), Some(b)) => return a == b,
        (None, None) => {
            return match (x.as_f64(), y.as_f64()) {
                // 0.0 == -0.0 is true for floats; everything else must match bit for bit.
                (Some(a), Some(b)) => a == b && (a != 0.0 || b == 0.0),
                _ => false,
            };
        }
        _ => {}
    }
    // One integer, one float: equal only where the store keeps decimals, which turn an
    // integral float into an integer (contract R2).
    if !matches!(caps.numbers, NumberSupport::Decimal { .. }) {
        return false;
    }
    let (i, f) = match (int(x), int(y)) {
        (Some(i), None) => (i, y.as_f64()),
        (None, Some(i)) => (i, x.as_f64()),
        _ => return false,
    };
    match f {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e20 => {
            // Exact: |f| < 1e20 fits in i128 and an integral f64 converts without loss.
            #[allow(clippy::cast_possible_truncation)]
            let as_int = f as i128;
            as_int == i && (as_int as f64) == f
        }
        _ => false,
    }
}

/// Fails the case unless `actual` equals `expected` by [`same_value`] (contract R2).
///
/// ```
/// use optimist_core::Capabilities;
/// optimist_conformance::support::assert_same_value(&Capabilities::new(), &serde_json::json!([1]), &serde_json::json!([1]), "ctx");
/// ```
#[track_caller]
pub fn assert_same_value(caps: &Capabilities, actual: &Value, expected: &Value, context: &str) {
    check(
        same_value(caps, actual, expected),
        format!("{context}: the value reads back as written (R2): {expected}"),
        || actual.to_string(),
    );
}

/// The conflict of a single operation's result, or a failure saying what came instead.
///
/// ```
/// use optimist_core::{Conflict, Error, Key, Operation};
/// let result: optimist_core::Result<()> =
///     Err(Error::conflict(Operation::Update, Key::new("k"), Conflict::NotFound));
/// assert_eq!(optimist_conformance::support::conflict_of(result, "update"), Conflict::NotFound);
/// ```
#[track_caller]
pub fn conflict_of<T: std::fmt::Debug>(result: Result<T>, context: &str) -> Conflict {
    match result {
        Err(Error::Conflict { conflict, .. }) => conflict,
        Ok(answer) => fail(
            format!("{context}: refused with a conflict, nothing written"),
            format!("Ok({answer:?}): it was applied"),
        ),
        Err(err) => fail(
            format!("{context}: refused with a conflict, nothing written"),
            describe_error(&err),
        ),
    }
}

/// Fails the case unless the result is `InvalidInput`.
///
/// ```
/// use optimist_core::{Error, Operation};
/// let result: optimist_core::Result<()> = Err(Error::invalid(Operation::Get, None, "empty key"));
/// optimist_conformance::support::assert_invalid(result, "get");
/// ```
#[track_caller]
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<T>, context: &str) {
    match result {
        Err(Error::InvalidInput { .. }) => {}
        Ok(answer) => fail(
            format!("{context}: InvalidInput, with nothing sent or written"),
            format!("Ok({answer:?}): it was accepted"),
        ),
        Err(err) => fail(
            format!("{context}: InvalidInput, with nothing sent or written"),
            describe_error(&err),
        ),
    }
}

/// Unwraps an operation that must succeed, or fails the case saying what came instead.
///
/// ```
/// let v: optimist_core::Result<u8> = Ok(1);
/// assert_eq!(optimist_conformance::support::ok(v, "op"), 1);
/// ```
#[track_caller]
pub fn ok<T>(result: Result<T>, context: &str) -> T {
    match result {
        Ok(value) => value,
        Err(err) => fail(
            format!("{context}: succeeds"),
            format!("{} ({err:?})", describe_error(&err)),
        ),
    }
}

/// Reads an item that must exist (contract R4: a get sees every completed write).
pub async fn must_get<S: VersionedStore + ?Sized>(store: &S, key: &Key) -> Versioned<Value> {
    match ok(store.get(key).await, &format!("get {key}")) {
        Some(item) => item,
        None => fail(
            format!("get {key}: the item its completed writes left (R4)"),
            "none",
        ),
    }
}

/// Fails the case unless the key holds `value` at `version` (contract R2, R3, R4).
pub async fn assert_item<S: VersionedStore + ?Sized>(
    store: &S,
    key: &Key,
    value: &Value,
    version: Version,
    context: &str,
) {
    let want = || format!("{version} {value}");
    let item = match ok(store.get(key).await, &format!("{context}: get {key}")) {
        Some(item) => item,
        None => fail(
            format!(
                "{context}: get {key} answers the item its completed writes left (R4): {}",
                want()
            ),
            "none",
        ),
    };
    check(
        item.version == version && same_value(store.capabilities(), &item.value, value),
        format!(
            "{context}: get {key} answers the item its completed writes left, at the version they counted to (R3, R4): {}",
            want()
        ),
        || format!("{} {}", item.version, item.value),
    );
}

/// Fails the case unless the key holds nothing (contract R4).
pub async fn assert_absent<S: VersionedStore + ?Sized>(store: &S, key: &Key, context: &str) {
    let item = ok(store.get(key).await, &format!("{context}: get {key}"));
    if let Some(item) = item {
        fail(
            format!("{context}: get {key} answers none, the key holds no item"),
            format!("{} {}", item.version, item.value),
        );
    }
}

/// Fails the case unless the conflict is `VersionMismatch` expecting `expected` and
/// carrying `value` at `version` (contract R6, R7, R11).
#[track_caller]
pub fn assert_mismatch(
    caps: &Capabilities,
    conflict: &Conflict,
    expected: Version,
    value: &Value,
    version: Version,
    context: &str,
) {
    let holds = match conflict {
        Conflict::VersionMismatch {
            expected: e,
            current,
        } => {
            *e == expected && current.version == version && same_value(caps, &current.value, value)
        }
        _ => false,
    };
    check(
        holds,
        format!(
            "{context}: Conflict::VersionMismatch expecting {expected}, carrying the current item \
             (R11): {version} {value}"
        ),
        || describe_conflict(conflict),
    );
}

/// Fails the case unless the conflict is `AlreadyExists` carrying `value` at `version`
/// (contract R5, R11).
#[track_caller]
pub fn assert_exists(
    caps: &Capabilities,
    conflict: &Conflict,
    value: &Value,
    version: Version,
    context: &str,
) {
    let holds = match conflict {
        Conflict::AlreadyExists { current } => {
            current.version == version && same_value(caps, &current.value, value)
        }
        _ => false,
    };
    check(
        holds,
        format!(
            "{context}: Conflict::AlreadyExists carrying the current item (R11): {version} {value}"
        ),
        || describe_conflict(conflict),
    );
}

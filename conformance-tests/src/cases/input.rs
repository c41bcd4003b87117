//! Bad input: a clear `InvalidInput` naming the problem, and nothing written.

use std::sync::Arc;

use optimist_core::{Error, Key, MAX_KEY_PART_BYTES, TxOp, Version, VersionedStore};
use serde_json::json;

use crate::support::{assert_absent, assert_item, doc, key, ok};
use crate::verdict::{check, check_eq, fail};

#[track_caller]
fn assert_reason<T: std::fmt::Debug>(
    result: optimist_core::Result<T>,
    needle: &str,
    context: &str,
) {
    match result {
        Err(Error::InvalidInput { reason, .. }) => {
            check(
                reason.contains(needle),
                format!("{context}: InvalidInput whose reason names the problem ({needle:?})"),
                || format!("{context}: the reason {reason:?} should mention {needle:?}"),
            );
        }
        other => fail(
            format!("{context}: InvalidInput, with nothing sent"),
            format!("{context}: expected InvalidInput, got {other:?}"),
        ),
    }
}

/// contract R1: an empty key part is `InvalidInput` naming it; nothing is written.
pub async fn input_empty_key_is_rejected<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R1
    let s = &*store;
    assert_reason(
        s.put(&Key::new(""), doc(s, json!(1))).await,
        "empty",
        "put with an empty key",
    );
    assert_reason(
        s.insert(&Key::with_sort("", "s"), doc(s, json!(1))).await,
        "empty",
        "insert with an empty partition",
    );
    assert_reason(
        s.insert(&Key::with_sort("p", ""), doc(s, json!(1))).await,
        "empty",
        "insert with an empty sort part",
    );
    assert_absent(s, &key(s, "p"), "nothing written").await;
}

/// contract R1: a key part over 1024 bytes is `InvalidInput` naming the size; nothing is
/// written, while a part of exactly 1024 bytes is accepted.
pub async fn input_oversized_key_part_is_rejected<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R1
    let s = &*store;
    let over = "é".repeat(MAX_KEY_PART_BYTES / 2) + "x";
    check_eq(
        &over.len(),
        &(MAX_KEY_PART_BYTES + 1),
        "the test key part is one byte over the 1024-byte limit",
    );
    let over_key = key(s, &over);
    assert_reason(
        s.put(&over_key, doc(s, json!(1))).await,
        "1024",
        "put with a 1025-byte key part",
    );
    let at_limit = key(s, &"k".repeat(MAX_KEY_PART_BYTES));
    check_eq(
        &ok(
            s.put(&at_limit, doc(s, json!(1))).await,
            "put with a 1024-byte key part",
        ),
        &Version::FIRST,
        "a key part of exactly 1024 bytes is valid: put creates version 1",
    );
}

/// contract R2: a value over the declared item size is `InvalidInput` naming the size;
/// nothing is written.
pub async fn input_oversized_value_is_rejected<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R2
    let s = &*store;
    let k = key(s, "big");
    let max = s.capabilities().max_item_bytes;
    let value = super::values::sized(s.capabilities(), &k, max + 1);
    assert_reason(
        s.insert(&k, value.clone()).await,
        &max.to_string(),
        "insert over the size limit",
    );
    assert_absent(s, &k, "after the refused insert").await;
    let v = ok(s.insert(&k, doc(s, json!("small"))).await, "insert");
    assert_reason(
        s.update(&k, v, value).await,
        &max.to_string(),
        "update over the size limit",
    );
    assert_item(
        s,
        &k,
        &doc(s, json!("small")),
        v,
        "after the refused update",
    )
    .await;
}

/// contract R10: a transaction with no ops is `InvalidInput`.
pub async fn input_empty_transaction_is_rejected<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R10
    assert_reason(
        store.transact(vec![]).await,
        "no ops",
        "an empty transaction",
    );
}

/// contract R10: two ops on one key are `InvalidInput`; nothing is written.
pub async fn input_duplicate_transaction_keys_are_rejected<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // contract R10
    let s = &*store;
    let (a, b) = (key(s, "a"), key(s, "b"));
    let ops = vec![
        TxOp::put(b.clone(), doc(s, json!(1))),
        TxOp::put(a.clone(), doc(s, json!(1))),
        TxOp::remove(a.clone()),
    ];
    assert_reason(s.transact(ops).await, "more than once", "a key twice");
    assert_absent(s, &a, "nothing written").await;
    assert_absent(s, &b, "nothing written").await;
}

/// contract R10: more ops than `max_transaction_ops` is `InvalidInput` naming the limit;
/// nothing is written.
pub async fn input_too_many_transaction_ops_are_rejected<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // contract R10
    let s = &*store;
    let max = s.capabilities().max_transaction_ops;
    let ops = (0..=max)
        .map(|i| TxOp::put(key(s, &format!("k{i}")), doc(s, json!(i))))
        .collect();
    assert_reason(
        s.transact(ops).await,
        &max.to_string(),
        "one op over the limit",
    );
    assert_absent(s, &key(s, "k0"), "nothing written").await;
}

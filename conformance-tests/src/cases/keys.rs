//! contract R1: keys.

use std::sync::Arc;

use optimist_core::{Key, KeyShape, MAX_KEY_PART_BYTES, Operation, Version, VersionedStore};
use serde_json::json;

use crate::support::{assert_absent, assert_invalid, assert_item, doc, key, ok};
use crate::verdict::{check, check_eq, fail};

/// contract R1: a key without a sort part and keys with different sort parts are different
/// items, and no encoding of the parts makes two distinct keys collide.
pub async fn r1_partition_and_sort_keys_are_distinct<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R1
    let keys = [
        Key::new("a"),
        Key::with_sort("a", "b"),
        Key::with_sort("a", "c"),
        Key::new("a#b"),
        Key::new("a:b"),
        Key::new("a/b"),
        Key::new("a\u{0}b"),
        Key::with_sort("a#b", "c"),
        Key::with_sort("a", "b#c"),
        Key::with_sort("b", "a"),
    ];
    distinct(&*store, &keys).await;
}

/// contract R1: keys that differ only in their sort part are different items.
pub async fn r1_sort_parts_are_distinct<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R1
    let keys = [
        Key::with_sort("a", "b"),
        Key::with_sort("a", "c"),
        Key::with_sort("a", "b:c"),
        Key::with_sort("a:b", "c"),
        Key::with_sort("ab", "c"),
        Key::with_sort("a", "bc"),
    ];
    distinct(&*store, &keys).await;
}

async fn distinct<S: VersionedStore + ?Sized>(store: &S, keys: &[Key]) {
    let caps = store.capabilities().clone();
    let keys: Vec<&Key> = keys
        .iter()
        .filter(|k| caps.nul_in_keys || !has_nul(k))
        .collect();
    for (i, k) in keys.iter().enumerate() {
        ok(
            store.insert(k, doc(store, json!({"key": i}))).await,
            &format!("insert {k}"),
        );
    }
    for (i, k) in keys.iter().enumerate() {
        assert_item(
            store,
            k,
            &doc(store, json!({"key": i})),
            Version::FIRST,
            "each key is its own item",
        )
        .await;
    }
    // Writing one must leave every other untouched.
    ok(
        store
            .update(keys[0], Version::FIRST, doc(store, json!("changed")))
            .await,
        "update",
    );
    for (i, k) in keys.iter().enumerate().skip(1) {
        assert_item(
            store,
            k,
            &doc(store, json!({"key": i})),
            Version::FIRST,
            "after updating another key",
        )
        .await;
    }
}

fn has_nul(key: &Key) -> bool {
    key.partition().contains('\0') || key.sort().is_some_and(|s| s.contains('\0'))
}

/// contract R1: any string within the limits round-trips as a key part, whatever characters
/// it holds; a NUL is refused with `InvalidInput` where the backend declares it cannot
/// store one.
pub async fn r1_unusual_key_strings_round_trip<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R1
    let caps = store.capabilities().clone();
    let max = "k".repeat(MAX_KEY_PART_BYTES);
    let max_multibyte = "é".repeat(MAX_KEY_PART_BYTES / 2);
    let parts = [
        "plain",
        ":",
        "/",
        "#",
        "a:b/c#d",
        "\"quoted\"",
        "'single'",
        "emoji 😀🔑",
        "spaces  in  key",
        " ",
        "\\backslash\\",
        "%s%d",
        "{tag}",
        "line\nbreak",
        "tab\t",
        "ünïcødé",
        "中文",
        "NULL",
        "?",
        "*",
        "$1",
        max.as_str(),
        max_multibyte.as_str(),
    ];
    let mut i = 0;
    for part in parts {
        let keys = match caps.key_shape {
            KeyShape::PartitionOnly => vec![Key::new(part)],
            KeyShape::PartitionAndSort => {
                vec![Key::with_sort(part, "s"), Key::with_sort("p", part)]
            }
            _ => vec![Key::new(part), Key::with_sort("p", part)],
        };
        for k in keys {
            i += 1;
            let value = doc(&*store, json!({"i": i}));
            ok(
                store.insert(&k, value.clone()).await,
                &format!("insert key {k}"),
            );
            assert_item(&*store, &k, &value, Version::FIRST, &format!("key {k}")).await;
            ok(
                store.delete(&k, Version::FIRST).await,
                &format!("delete key {k}"),
            );
            assert_absent(&*store, &k, "after delete").await;
        }
    }
    let nul = key(&*store, "nul\u{0}inside");
    if caps.nul_in_keys {
        ok(
            store.put(&nul, doc(&*store, json!(1))).await,
            "put key with NUL",
        );
        assert_item(
            &*store,
            &nul,
            &doc(&*store, json!(1)),
            Version::FIRST,
            "key with NUL",
        )
        .await;
    } else {
        assert_invalid(
            store.put(&nul, doc(&*store, json!(1))).await,
            "put key with NUL where undeclared",
        );
    }
}

/// contract R1: an empty part, a part over 1024 bytes and a key of the wrong shape are
/// `InvalidInput` for every operation, and nothing is written.
pub async fn r1_invalid_keys_are_rejected<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R1
    let caps = store.capabilities().clone();
    let long = "x".repeat(MAX_KEY_PART_BYTES + 1);
    let mut bad = vec![
        Key::new(""),
        Key::new(long.clone()),
        Key::with_sort("", "s"),
        Key::with_sort("p", ""),
        Key::with_sort("p", long.clone()),
    ];
    match caps.key_shape {
        KeyShape::PartitionOnly => bad.push(Key::with_sort("p", "s")),
        KeyShape::PartitionAndSort => bad.push(Key::new("p")),
        _ => {}
    }
    for k in &bad {
        let v = doc(&*store, json!(1));
        assert_invalid(store.get(k).await, &format!("get {k}"));
        assert_invalid(store.insert(k, v.clone()).await, &format!("insert {k}"));
        assert_invalid(
            store.update(k, Version::FIRST, v.clone()).await,
            &format!("update {k}"),
        );
        assert_invalid(
            store.delete(k, Version::FIRST).await,
            &format!("delete {k}"),
        );
        assert_invalid(store.put(k, v.clone()).await, &format!("put {k}"));
        assert_invalid(store.remove(k).await, &format!("remove {k}"));
    }
    // Bad input never reaches the store: an error names the problem and the operation.
    let err = store.insert(&Key::new(""), doc(&*store, json!(1))).await;
    match err {
        Err(optimist_core::Error::InvalidInput {
            operation, reason, ..
        }) => {
            check_eq(
                &operation,
                &Operation::Insert,
                "the InvalidInput error names the operation it refused (insert)",
            );
            check(
                reason.contains("empty"),
                "the InvalidInput error says what is wrong: an empty part",
                || format!("reason should name the problem: {reason}"),
            );
        }
        other => fail(
            "a key with an empty part is InvalidInput for every operation, and nothing is written",
            format!("expected InvalidInput, got {other:?}"),
        ),
    }
}

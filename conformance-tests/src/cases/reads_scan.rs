//! contract R18: `scan` reads the whole store in pages, in an order of the backend's
//! choosing that is the same on every call: every item exactly once, deleted items
//! never, bad input and foreign cursors `InvalidInput`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use optimist_core::{Cursor, Key, KeyShape, ScanOptions, Value, Version, VersionedStore};
use serde_json::json;

use super::reads_pages::{Entry, Read, page_bound, read_all};
use super::reads_query::{invalid_reason, tampered};
use crate::support::{assert_same_value, doc, ok};
use crate::verdict::{check, check_eq, fail};

/// The keys a scan case writes: both shapes where the store takes them, multi-byte
/// parts, partitions that are prefixes of each other.
fn scan_keys<S: VersionedStore + ?Sized>(store: &S, count: usize) -> Vec<Key> {
    let shape = store.capabilities().key_shape;
    let names = ["a", "é", "中", "Z", "a b", "😀"];
    (0..count)
        .map(|i| {
            let name = format!("{}{i:02}", names[i % names.len()]);
            match (shape, i % 3) {
                (KeyShape::PartitionOnly, _) | (KeyShape::Any, 0) => Key::new(name),
                (_, 1) => Key::with_sort("scan", name),
                _ => Key::with_sort(format!("scan-{}", i % 2), name),
            }
        })
        .collect()
}

/// Panics unless `items` hold each key of `expected` exactly once with its value and
/// version, and nothing else.
#[track_caller]
fn assert_exactly<S: VersionedStore + ?Sized>(
    store: &S,
    items: &[Entry],
    expected: &BTreeMap<Key, (Value, Version)>,
    context: &str,
) {
    let mut seen = HashSet::new();
    for (key, item) in items {
        check(
            seen.insert(key),
            format!("{context}: every item comes exactly once"),
            || format!("{context}: {key} came twice"),
        );
        let Some((value, version)) = expected.get(key) else {
            fail(
                format!(
                    "{context}: only items the store holds come (none deleted or never written)"
                ),
                format!("{context}: {key} came, but it holds nothing"),
            );
        };
        check_eq(
            &item.version,
            version,
            format!("{context}: {key} comes with the version it holds"),
        );
        assert_same_value(
            store.capabilities(),
            &item.value,
            value,
            &format!("{context}: {key}"),
        );
    }
    let missing: Vec<&Key> = expected.keys().filter(|k| !seen.contains(k)).collect();
    check(
        missing.is_empty(),
        format!("{context}: every item of the store comes"),
        || format!("{context}: these items never came: {missing:?}"),
    );
}

/// contract R18: an empty store scans as one empty, final page; a store's items come
/// each exactly once with their versions, in pages of any size, in the same order
/// every time.
pub async fn r18_scan_pages_cover_the_store_exactly_once<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // contract R18
    let s = &*store;
    let empty = ok(s.scan(ScanOptions::new()).await, "scan of an empty store");
    check(
        empty.items.is_empty() && empty.next.is_none(),
        "an empty store scans as one empty, final page",
        || format!("an empty store: one empty, final page, got {empty:?}"),
    );
    let keys = scan_keys(s, 25);
    let mut expected = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        let mut version = ok(s.insert(k, doc(s, json!(i))).await, "insert");
        if i % 4 == 0 {
            version = ok(s.update(k, version, doc(s, json!(i * 10))).await, "update");
        }
        let value = doc(s, json!(if i % 4 == 0 { i * 10 } else { i }));
        expected.insert(k.clone(), (value, version));
    }
    let max = s.capabilities().max_page_size;
    let whole = read_all(s, &Read::Scan, max, page_bound(keys.len()), "one page").await;
    assert_exactly(s, &whole, &expected, "in one page");
    let order: Vec<&Key> = whole.iter().map(|(k, _)| k).collect();
    for limit in [1, 2, 7, 24, 25, 26] {
        let context = format!("in pages of {limit}");
        let items = read_all(s, &Read::Scan, limit, page_bound(keys.len()), &context).await;
        assert_exactly(s, &items, &expected, &context);
        let again: Vec<&Key> = items.iter().map(|(k, _)| k).collect();
        check_eq(
            &again,
            &order,
            format!("{context}: a scan's order is the backend's own, but the same on every call"),
        );
    }
}

/// contract R18, R15: deleted and removed items never appear in a scan, in tombstone
/// mode too, at any page size; an item inserted again appears with its new version.
pub async fn r18_deleted_items_never_appear_in_scan<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R18 R15
    let s = &*store;
    let keys = scan_keys(s, 14);
    let mut expected = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        let value = doc(s, json!(i));
        let version = ok(s.insert(k, value.clone()).await, "insert");
        match i % 3 {
            0 => {
                ok(s.delete(k, version).await, "delete");
            }
            1 if i == 1 => {
                ok(s.remove(k).await, "remove");
                let value = doc(s, json!("again"));
                let again = ok(s.insert(k, value.clone()).await, "insert again");
                expected.insert(k.clone(), (value, again));
            }
            1 => {
                ok(s.remove(k).await, "remove");
            }
            _ => {
                expected.insert(k.clone(), (value, version));
            }
        }
    }
    for limit in [1, 2, 3, s.capabilities().max_page_size] {
        let context = format!("in pages of {limit}");
        let items = read_all(s, &Read::Scan, limit, page_bound(keys.len()), &context).await;
        assert_exactly(s, &items, &expected, &context);
    }
}

/// contract R18: a page limit of 0 or above the maximum, and a malformed, tampered or
/// foreign cursor (of a query, of another store of the same kind) are `InvalidInput`;
/// the refusals change nothing.
pub async fn r18_scan_bad_input_is_rejected<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R18
    let s = &*store;
    let keys = scan_keys(s, 4);
    for k in &keys {
        ok(s.insert(k, doc(s, json!(1))).await, "insert");
    }
    let max = s.capabilities().max_page_size;
    let with = |cursor: Cursor| ScanOptions::new().limit(2).cursor(Some(cursor));
    invalid_reason(
        s.scan(ScanOptions::new().limit(0)).await,
        "a page limit of 0",
    );
    invalid_reason(
        s.scan(ScanOptions::new().limit(max + 1)).await,
        "a page limit over the maximum",
    );
    let first = ok(s.scan(ScanOptions::new().limit(2)).await, "the first page");
    let Some(cursor) = first.next.clone() else {
        fail(
            "a scan with this bad input is InvalidInput",
            format!("a page of 2 of 4 items says more follow: {first:?}"),
        );
    };
    invalid_reason(
        s.scan(with(Cursor::from("garbage".to_string()))).await,
        "a malformed cursor",
    );
    invalid_reason(s.scan(with(tampered(&cursor))).await, "a tampered cursor");
    if s.capabilities().key_shape.accepts(true) {
        let k = Key::with_sort("scan-q", "a");
        ok(s.insert(&k, doc(s, json!(1))).await, "insert");
        ok(
            s.insert(&Key::with_sort("scan-q", "b"), doc(s, json!(1)))
                .await,
            "insert",
        );
        let page = ok(
            s.query(
                "scan-q",
                optimist_core::SortRange::All,
                optimist_core::QueryOptions::new().limit(1),
            )
            .await,
            "a query page",
        );
        if let Some(query_cursor) = page.next {
            invalid_reason(s.scan(with(query_cursor)).await, "a query's cursor");
        }
    }
    let other: S = crate::runner::another_store().await;
    for k in &keys {
        ok(
            other.insert(k, doc(s, json!(2))).await,
            "insert into the other store",
        );
    }
    invalid_reason(
        other.scan(with(cursor.clone())).await,
        "a cursor of another store of the same kind",
    );
    drop(other);
    let rest = ok(
        s.scan(with(cursor)).await,
        "the real cursor after the refusals",
    );
    check(
        !rest.items.is_empty() || rest.next.is_some(),
        "a scan continued with its own cursor answers the rest",
        || format!("the real cursor still continues the scan: {rest:?}"),
    );
}

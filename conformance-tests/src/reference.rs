//! A reference store (the memory store, say) for a backend's reads (contract R16–R18):
//! the same items written to both, every query (each kind of range, both directions, several
//! page sizes) and every scan must give the same items with the same versions, in the
//! same order. A backend's own tests call [`reads_match_the_reference`] on the stores
//! they care about (a file and memory database, a table of another collation),
//! [`get_many_answers_in_the_order_asked`] and [`tombstones_never_show_and_pages_stay_full`]
//! for their point and tombstone reads, and [`query_all`] / [`scan_all`] to gather every
//! page of one read.
//!
//! ```
//! use optimist_conformance::reference::{ScanOrder, reads_match_the_reference};
//! use optimist_memory::MemoryStore;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = MemoryStore::new(); // the backend under test
//! reads_match_the_reference(&store, &MemoryStore::new(), ScanOrder::Bytes).await;
//! # });
//! ```

use std::future::Future;

use optimist_core::{
    Cursor, Direction, Key, Page, QueryOptions, ScanOptions, SortRange, Value, Versioned,
    VersionedStore,
};
use serde_json::json;

/// Items as reads return them.
pub type Items = Vec<(Key, Versioned<Value>)>;

/// What a backend promises of a scan's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanOrder {
    /// Byte order of the keys (partition, then sort part), as the reference scans.
    Bytes,
    /// Some order of its own: each item once, compared once sorted.
    Any,
}

/// Sort parts whose byte order differs from a linguistic one, and from UTF-16's.
const SORTS: [&str; 17] = [
    "a",
    "B",
    "b",
    "a-b",
    "ab",
    "aa",
    "a\u{0}",
    "é",
    "f",
    "z",
    "\u{FFFF}",
    "\u{10000}",
    "2026-01",
    "2026-02-14",
    "2026-03",
    "2026-03-01",
    "~",
];

/// The sort parts `store` takes (a NUL only where keys may hold one), and the partition
/// that sorts right after `p`'s items.
fn layout(store: &dyn VersionedStore) -> (Vec<&'static str>, &'static str) {
    let nul = store.capabilities().nul_in_keys;
    let sorts = SORTS
        .into_iter()
        .filter(|sort| nul || !sort.contains('\u{0}'))
        .collect();
    (sorts, if nul { "p\u{0}" } else { "P" })
}

/// The same items in each store: two partitions of the sort parts, a key without a
/// sort part in each, neighbouring partitions, and some items updated past version 1.
async fn fill(store: &dyn VersionedStore, (sorts, neighbour): &(Vec<&str>, &str)) {
    for partition in ["p", "q"] {
        for (i, sort) in sorts.iter().enumerate() {
            let key = Key::with_sort(partition, *sort);
            let v1 = must(store.insert(&key, json!({"i": i})).await, "insert", &key);
            if i % 3 == 0 {
                let again = json!({"i": i, "again": true});
                must(store.update(&key, v1, again).await, "update", &key);
            }
        }
        let bare = Key::new(partition);
        must(store.insert(&bare, json!("no sort")).await, "insert", &bare);
    }
    for partition in [*neighbour, "pa", "o"] {
        let key = Key::with_sort(partition, "a");
        must(store.insert(&key, json!(partition)).await, "insert", &key);
    }
}

#[allow(clippy::panic)] // a test helper: it fails by panicking
fn must<T>(result: optimist_core::Result<T>, what: &str, key: &Key) -> T {
    result.unwrap_or_else(|err| panic!("filling the store: {what} of {key} failed: {err}"))
}

/// Every item of a read made of pages: `read` fetches the page after a cursor (the first
/// one after none); fails if a page holds more than `limit` items, a cursor comes twice
/// (the read would never end) or a read fails.
#[allow(clippy::panic)] // a test helper: it fails by panicking
async fn all_pages<F, Fut>(limit: usize, what: &str, mut read: F) -> Items
where
    F: FnMut(Option<Cursor>) -> Fut,
    Fut: Future<Output = optimist_core::Result<Page>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    let mut given = std::collections::HashSet::new();
    loop {
        let page = read(cursor)
            .await
            .unwrap_or_else(|err| panic!("{what} failed: {err}"));
        assert!(
            page.items.len() <= limit,
            "{what}: a page of {} items for a limit of {limit}",
            page.items.len()
        );
        items.extend(page.items);
        match page.next {
            Some(next) if !given.insert(next.clone()) => {
                panic!("{what} cannot end: a cursor came twice (contract R17)")
            }
            Some(next) => cursor = Some(next),
            None => return items,
        }
    }
}

/// Every item of a query, page by page; fails if a page holds more than `limit` items
/// or the query fails.
pub async fn query_all(
    store: &dyn VersionedStore,
    partition: &str,
    range: &SortRange,
    direction: Direction,
    limit: usize,
) -> Items {
    let what = format!("query {partition:?} {range:?} {direction:?}");
    all_pages(limit, &what, |cursor| {
        let options = QueryOptions::new()
            .limit(limit)
            .direction_of(direction)
            .cursor(cursor);
        store.query(partition, range.clone(), options)
    })
    .await
}

/// Every item of a scan, page by page; fails if a page holds more than `limit` items
/// or the scan fails.
pub async fn scan_all(store: &dyn VersionedStore, limit: usize) -> Items {
    all_pages(limit, "scan", |cursor| {
        store.scan(ScanOptions::new().limit(limit).cursor(cursor))
    })
    .await
}

fn ranges() -> Vec<SortRange> {
    vec![
        SortRange::All,
        SortRange::prefix("a"),
        SortRange::prefix("2026-"),
        SortRange::prefix("\u{FFFF}"),
        SortRange::between("2026-01", "2026-03"),
        SortRange::between("B", "b"),
        SortRange::after("a"),
        SortRange::after("\u{10000}"),
        SortRange::before("é"),
        SortRange::before("B"),
    ]
}

/// Writes the same items to `store` and to `reference` (both empty), then checks every
/// range, both directions, several page sizes: `store`'s pages hold what the
/// reference's hold, in the same order, in UTF-8 byte order of the sort part;
/// and a scan returns the same items, each once, in the order `scan` says.
pub async fn reads_match_the_reference(
    store: &dyn VersionedStore,
    reference: &dyn VersionedStore,
    scan: ScanOrder,
) {
    // Both stores get what the store under test can hold.
    let layout = layout(store);
    fill(reference, &layout).await;
    fill(store, &layout).await;
    let mut by_bytes = layout.0.clone();
    by_bytes.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let all = query_all(store, "p", &SortRange::All, Direction::Ascending, 100).await;
    let got: Vec<&str> = all.iter().filter_map(|(key, _)| key.sort()).collect();
    assert_eq!(
        got, by_bytes,
        "a query of every item must answer in UTF-8 byte order of the sort part, without the \
         partition's key that has no sort part (contract R17)"
    );
    for range in ranges() {
        for direction in [Direction::Ascending, Direction::Descending] {
            for limit in [1, 4, 1000] {
                let expected = query_all(reference, "p", &range, direction, limit).await;
                let got = query_all(store, "p", &range, direction, limit).await;
                assert_eq!(
                    got, expected,
                    "query {range:?} {direction:?} in pages of {limit}: the items and versions \
                     the reference returns, in its order (contract R17)"
                );
            }
        }
    }
    let expected = scan_all(reference, 1000).await;
    for limit in [1, 5, 1000] {
        let mut got = scan_all(store, limit).await;
        if scan == ScanOrder::Any {
            got.sort_by(|a, b| a.0.cmp(&b.0));
        }
        assert_eq!(
            got, expected,
            "scan in pages of {limit}: every item once, with its version (contract R18)"
        );
    }
}

/// On an empty `store`: a `get_many` of 100 keys (sort keys of one partition in reverse,
/// half of them written; a key without a sort part; a key with a NUL in its partition
/// where the store takes one; keys never written) answers each key's item in the order
/// asked, as one `get` each would (contract R16); so does a `get_many` of one key.
pub async fn get_many_answers_in_the_order_asked(store: &dyn VersionedStore) {
    let mut keys = Vec::new();
    for i in 0..50 {
        let key = Key::with_sort("p", format!("{i:03}"));
        if i % 2 == 0 {
            must(store.insert(&key, json!(i)).await, "insert", &key);
        }
        keys.push(key);
    }
    keys.reverse();
    let mut extra = vec![Key::new("p")];
    if store.capabilities().nul_in_keys {
        extra.push(Key::with_sort("p\u{0}", "x"));
    }
    for key in &extra {
        must(
            store.insert(key, json!(key.to_string())).await,
            "insert",
            key,
        );
    }
    let written = 25 + extra.len();
    keys.extend(extra);
    let absent = 100 - keys.len();
    keys.extend((0..absent).map(|i| Key::new(format!("absent-{i}"))));
    let got = must(store.get_many(&keys).await, "get_many", &keys[0]);
    let mut expected = Vec::new();
    for key in &keys {
        expected.push(must(store.get(key).await, "get", key));
    }
    assert_eq!(
        got, expected,
        "get_many answers each key's item in the order asked (contract R16)"
    );
    assert_eq!(
        got.iter().filter(|item| item.is_some()).count(),
        written,
        "get_many finds every item written and no other"
    );
    let one = must(store.get_many(&keys[..1]).await, "get_many", &keys[0]);
    assert_eq!(one, expected[..1], "a get_many of one key");
}

/// On an empty `store` in tombstone mode whose reads skip tombstones inside the
/// statement: of ten items, the five removed never show in `get_many`, `query` or
/// `scan` (contract R15–R18), every page but the last is full, and an item inserted
/// again over its tombstone shows at its new version.
pub async fn tombstones_never_show_and_pages_stay_full(store: &dyn VersionedStore) {
    let keys: Vec<Key> = (0..10)
        .map(|i| Key::with_sort("p", format!("{i}")))
        .collect();
    for key in &keys {
        must(store.insert(key, json!(1)).await, "insert", key);
    }
    for key in keys.iter().step_by(2) {
        must(store.remove(key).await, "remove", key);
    }
    let live: Vec<Key> = keys.iter().skip(1).step_by(2).cloned().collect();
    let got = must(store.get_many(&keys).await, "get_many", &keys[0]);
    for (key, item) in keys.iter().zip(&got) {
        assert_eq!(
            item.is_some(),
            live.contains(key),
            "get_many of {key}: a removed item is absent, a live one present"
        );
    }
    let first = must(
        store
            .query("p", SortRange::All, QueryOptions::new().limit(2))
            .await,
        "query",
        &keys[0],
    );
    assert_eq!(
        first.items.len(),
        2,
        "the tombstones are skipped inside the read: the first page is full"
    );
    let descending = query_all(store, "p", &SortRange::All, Direction::Descending, 2).await;
    let mut expected = live.clone();
    expected.reverse();
    let seen: Vec<Key> = descending.into_iter().map(|(key, _)| key).collect();
    assert_eq!(
        seen, expected,
        "a descending query shows the live items only"
    );
    let scanned: Vec<Key> = scan_all(store, 3)
        .await
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    assert_eq!(scanned, live, "a scan shows the live items only");
    let again = must(store.insert(&keys[0], json!(2)).await, "insert", &keys[0]);
    let page = must(
        store
            .query("p", SortRange::prefix("0"), QueryOptions::new())
            .await,
        "query",
        &keys[0],
    );
    let versions: Vec<_> = page.items.iter().map(|(_, item)| item.version).collect();
    assert_eq!(
        versions,
        vec![again],
        "an item inserted over its tombstone shows at the version after the tombstone's"
    );
}

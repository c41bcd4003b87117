//! A reference store (the memory store, say) for a backend's reads (contract R16–R18):
//! the same items written to both, every query (each kind of range, both directions, several
//! page sizes) and every scan must give the same items with the same versions, in the
//! same order. A backend's own tests call [`reads_match_the_reference`] on the stores
//! they care about (a file and memory database, a table of another collation), and
//! [`query_all`] / [`scan_all`] to gather every page of one read.
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

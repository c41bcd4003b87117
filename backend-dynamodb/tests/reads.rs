//! get_many, query and scan against the DynamoDB server (contract R16-R18): the order
//! asked, every range in both directions by UTF-8 bytes across pages, a page that
//! continues past an item deleted meanwhile, tombstone mode with attribute names of
//! its own, cursors refused by a store on another table. The suite's cases cover the
//! rest on every backend; these are the DynamoDB-specific paths (`ExclusiveStartKey`,
//! `Limit` + 1, `BatchGetItem` answers put back in order).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use optimist_core::{
    Direction, Error, Key, QueryOptions, ScanOptions, SortRange, Version, VersionedStore,
};
use optimist_dynamodb::{DynamoDbStore, TableDescription};
use serde_json::json;

/// A store on a fresh table, or `None` after reporting why there is none.
async fn store(test: &str, sort: bool) -> Option<DynamoDbStore> {
    match common::fresh_store(sort).await {
        Ok(store) => Some(store),
        Err(why) => {
            common::unavailable(test, why);
            None
        }
    }
}

/// Every page of a query, as (sort part, version), and how many pages it took.
async fn query_all(
    store: &DynamoDbStore,
    partition: &str,
    range: &SortRange,
    options: QueryOptions,
) -> (Vec<(String, u64)>, usize) {
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = store
            .query(partition, range.clone(), options.clone().cursor(cursor))
            .await
            .unwrap_or_else(|e| panic!("query {partition} {range:?}: {e}"));
        pages += 1;
        for (key, item) in page.items {
            assert_eq!(key.partition(), partition);
            seen.push((key.sort().unwrap().to_string(), item.version.get()));
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (seen, pages),
        }
    }
}

/// Every page of a scan, as keys.
async fn scan_all(store: &DynamoDbStore, limit: usize) -> Vec<Key> {
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .scan(ScanOptions::new().limit(limit).cursor(cursor))
            .await
            .unwrap_or_else(|e| panic!("scan: {e}"));
        keys.extend(page.items.into_iter().map(|(key, _)| key));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return keys,
        }
    }
}

#[tokio::test]
async fn get_many_answers_in_the_order_asked_with_versions() {
    let Some(store) = store("get_many order", true).await else {
        return;
    };
    let key = |i: usize| Key::with_sort("p", format!("s{i}"));
    for i in 0..5 {
        store.insert(&key(i), json!({"i": i})).await.unwrap();
    }
    store
        .update(&key(3), Version::FIRST, json!({"i": 33}))
        .await
        .unwrap();
    let asked = [
        key(4),
        Key::with_sort("p", "absent"),
        key(0),
        key(3),
        key(2),
    ];
    let items = store.get_many(&asked).await.unwrap();
    let got: Vec<Option<(serde_json::Value, u64)>> = items
        .into_iter()
        .map(|item| item.map(|item| (item.value, item.version.get())))
        .collect();
    assert_eq!(
        got,
        vec![
            Some((json!({"i": 4}), 1)),
            None,
            Some((json!({"i": 0}), 1)),
            Some((json!({"i": 33}), 2)),
            Some((json!({"i": 2}), 1)),
        ]
    );
}

#[tokio::test]
async fn query_reads_every_range_both_ways_by_utf8_bytes_across_pages() {
    let Some(store) = store("query ranges", true).await else {
        return;
    };
    // Byte order, not code-unit or collation order: "\u{7f}" < "é" < "😀" as UTF-8.
    let sorts = [
        "a", "a#1", "a#2", "ab", "b", "b\u{7f}", "bé", "b😀", "c", "z",
    ];
    for sort in sorts {
        store
            .insert(&Key::with_sort("c-9", sort), json!({"s": sort}))
            .await
            .unwrap();
    }
    // Neighbouring partitions hold matching sort parts; none of them may show.
    for partition in ["c-", "c-90", "c-8"] {
        store
            .insert(&Key::with_sort(partition, "a#1"), json!({}))
            .await
            .unwrap();
    }
    store
        .update(
            &Key::with_sort("c-9", "bé"),
            Version::FIRST,
            json!({"s": "bé", "n": 2}),
        )
        .await
        .unwrap();
    let version = |sort: &str| if sort == "bé" { 2 } else { 1 };
    let ranges = [
        SortRange::All,
        SortRange::prefix("a#"),
        SortRange::prefix("b"),
        SortRange::between("a#2", "b😀"),
        SortRange::after("b"),
        SortRange::before("b"),
        SortRange::between("d", "y"),
    ];
    for range in &ranges {
        for direction in [Direction::Ascending, Direction::Descending] {
            let mut expected: Vec<&str> = sorts
                .iter()
                .copied()
                .filter(|s| range.contains(s))
                .collect();
            expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            if direction == Direction::Descending {
                expected.reverse();
            }
            let expected: Vec<(String, u64)> = expected
                .iter()
                .map(|s| (s.to_string(), version(s)))
                .collect();
            let options = QueryOptions::new().limit(3).direction_of(direction);
            let (seen, pages) = query_all(&store, "c-9", range, options).await;
            assert_eq!(seen, expected, "{range:?} {direction:?}");
            // Limit + 1 tells the last page: no empty page after a full one.
            assert_eq!(
                pages,
                expected.len().div_ceil(3).max(1),
                "{range:?} {direction:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_query_and_a_scan_continue_past_an_item_deleted_between_pages() {
    let Some(store) = store("continue past a deleted item", true).await else {
        return;
    };
    let key = |s: &str| Key::with_sort("p", s);
    for s in ["s0", "s1", "s2", "s3", "s4", "s5"] {
        store.insert(&key(s), json!({})).await.unwrap();
    }
    let first = store
        .query("p", SortRange::All, QueryOptions::new().limit(2))
        .await
        .unwrap();
    let sorts = |items: &[(Key, _)]| -> Vec<String> {
        items
            .iter()
            .map(|(k, _)| k.sort().unwrap().to_string())
            .collect()
    };
    assert_eq!(sorts(&first.items), ["s0", "s1"]);
    // The page ended at s1: delete it, and s2 after it; add one between.
    store.delete(&key("s1"), Version::FIRST).await.unwrap();
    store.delete(&key("s2"), Version::FIRST).await.unwrap();
    store.insert(&key("s1a"), json!({})).await.unwrap();
    let mut rest = Vec::new();
    let mut cursor = first.next;
    while let Some(next) = cursor {
        let page = store
            .query(
                "p",
                SortRange::All,
                QueryOptions::new().limit(2).cursor(Some(next)),
            )
            .await
            .unwrap();
        rest.extend(sorts(&page.items));
        cursor = page.next;
    }
    assert_eq!(
        rest,
        ["s1a", "s3", "s4", "s5"],
        "each once, from where the page ended"
    );

    // The same for a scan, in DynamoDB's own order: the items present throughout come
    // exactly once.
    let first = store.scan(ScanOptions::new().limit(2)).await.unwrap();
    let mut seen: Vec<Key> = first.items.iter().map(|(k, _)| k.clone()).collect();
    let last = seen.last().cloned().unwrap();
    store.delete(&last, Version::FIRST).await.unwrap();
    let mut cursor = first.next;
    while let Some(next) = cursor {
        let page = store
            .scan(ScanOptions::new().limit(2).cursor(Some(next)))
            .await
            .unwrap();
        seen.extend(page.items.into_iter().map(|(k, _)| k));
        cursor = page.next;
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no item twice: {seen:?}");
    assert_eq!(sorted, ["s0", "s1a", "s3", "s4", "s5"].map(key));
}

#[tokio::test]
async fn tombstone_mode_never_shows_deleted_items_with_attribute_names_of_its_own() {
    let table = TableDescription::new(common::unique_table("reads-tomb"), "Customer")
        .with_sort_key("Order")
        .with_version_attribute("Rev")
        .with_token_attribute("Tok")
        .with_deleted_attribute("Gone")
        .with_ttl_attribute("Expires");
    let store = match common::client() {
        Ok(client) => common::store_on_with(client, table, |b| b.tombstones(true)).await,
        Err(why) => Err(why),
    };
    let store = match store {
        Ok(store) => store,
        Err(why) => return common::unavailable("tombstone reads", why),
    };
    let key = |i: usize| Key::with_sort("c", format!("o{i}"));
    for i in 0..6 {
        store.insert(&key(i), json!({"i": i})).await.unwrap();
    }
    for i in [0, 2, 3] {
        store.delete(&key(i), Version::FIRST).await.unwrap();
    }
    let keys: Vec<Key> = (0..6).map(key).collect();
    let present: Vec<bool> = store
        .get_many(&keys)
        .await
        .unwrap()
        .iter()
        .map(Option::is_some)
        .collect();
    assert_eq!(present, [false, true, false, false, true, true]);

    let (seen, pages) = query_all(&store, "c", &SortRange::All, QueryOptions::new().limit(2)).await;
    let live: Vec<(String, u64)> = ["o1", "o4", "o5"]
        .iter()
        .map(|s| (s.to_string(), 1))
        .collect();
    assert_eq!(seen, live);
    assert_eq!(
        pages, 3,
        "pages of 2 records, tombstones among them: short pages"
    );
    let descending = QueryOptions::new().limit(4).descending();
    let (seen, _) = query_all(&store, "c", &SortRange::prefix("o"), descending).await;
    assert_eq!(
        seen.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(),
        ["o5", "o4", "o1"]
    );

    let mut scanned = scan_all(&store, 2).await;
    scanned.sort();
    assert_eq!(scanned, [key(1), key(4), key(5)]);

    // Inserting again continues after the tombstone, and reads see it.
    assert_eq!(
        store.insert(&key(2), json!({"i": 2})).await.unwrap(),
        Version::new(2)
    );
    let (seen, _) = query_all(
        &store,
        "c",
        &SortRange::between("o2", "o3"),
        QueryOptions::new(),
    )
    .await;
    assert_eq!(seen, [("o2".to_string(), 2)]);
}

#[tokio::test]
async fn a_scan_of_a_hash_only_table_reads_each_item_once_and_a_query_is_unsupported() {
    let Some(store) = store("scan hash-only", false).await else {
        return;
    };
    let mut keys: Vec<Key> = (0..7).map(|i| Key::new(format!("k{i}"))).collect();
    for key in &keys {
        store.insert(key, json!({})).await.unwrap();
    }
    let mut scanned = scan_all(&store, 3).await;
    scanned.sort();
    keys.sort();
    assert_eq!(scanned, keys);
    let query = store.query("k1", SortRange::All, QueryOptions::new()).await;
    assert!(
        matches!(query, Err(Error::Unsupported { .. })),
        "a table without a sort key has no partition to query: {query:?}"
    );
}

#[tokio::test]
async fn a_cursor_continues_on_the_same_table_only() {
    let (Some(a), Some(b)) = (
        store("cursors a", true).await,
        store("cursors b", true).await,
    ) else {
        return;
    };
    for store in [&a, &b] {
        for s in ["x", "y"] {
            store
                .insert(&Key::with_sort("p", s), json!({}))
                .await
                .unwrap();
        }
    }
    let page = a
        .query("p", SortRange::All, QueryOptions::new().limit(1))
        .await
        .unwrap();
    let cursor = page.next.unwrap();
    let foreign = b
        .query(
            "p",
            SortRange::All,
            QueryOptions::new().limit(1).cursor(Some(cursor.clone())),
        )
        .await;
    assert!(
        foreign.as_ref().is_err_and(Error::is_invalid_input),
        "a cursor of another table: {foreign:?}"
    );
    // Another store on the same table, through another client, continues it.
    let same_table =
        DynamoDbStore::builder(common::client().unwrap(), a.table_description().clone())
            .build()
            .unwrap();
    let rest = same_table
        .query(
            "p",
            SortRange::All,
            QueryOptions::new().limit(1).cursor(Some(cursor)),
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].0, Key::with_sort("p", "y"));

    let scanned = a.scan(ScanOptions::new().limit(1)).await.unwrap();
    let foreign = b
        .scan(ScanOptions::new().limit(1).cursor(scanned.next))
        .await;
    assert!(
        foreign.as_ref().is_err_and(Error::is_invalid_input),
        "{foreign:?}"
    );
}

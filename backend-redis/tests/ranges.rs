//! get_many, query and scan on Redis (contract R16-R18), beside the memory store, the
//! reference: the same writes on both, then the same reads must answer the same pages.
//! And the indexes behind query and scan: after every kind of write, in both modes,
//! after a purge, a partition's index holds exactly the sort parts of its items and
//! the partitions set exactly the partitions that hold one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use optimist_core::{
    Key, Page, QueryOptions, ScanOptions, SortRange, TxOp, Version, VersionedStore,
};
use optimist_memory::MemoryStore;
use optimist_redis::{Prefix, RedisStore};
use serde_json::json;

/// Sort parts whose byte order differs from other orders: case, accents (UTF-8 bytes,
/// not code units or collation), a prefix of another, digits, a character above the
/// BMP, NUL and `#` and `:` (which the Redis keys use).
const SORTS: [&str; 14] = [
    "a", "ab", "a\0", "a#", "a:", "B", "b", "é", "e", "z", "10", "9", "😀", "\u{FFFF}",
];

async fn both(redis: &RedisStore, memory: &MemoryStore, key: &Key, n: u64) {
    redis.insert(key, json!(n)).await.unwrap();
    memory.insert(key, json!(n)).await.unwrap();
}

/// Every page of a query, its items' keys and values, and how many pages it took.
async fn all_pages(
    store: &dyn VersionedStore,
    partition: &str,
    range: &SortRange,
    limit: usize,
    descending: bool,
) -> (Vec<(Key, serde_json::Value, Version)>, usize) {
    let mut items = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let mut options = QueryOptions::new().limit(limit).cursor(cursor);
        if descending {
            options = options.descending();
        }
        let page: Page = store
            .query(partition, range.clone(), options)
            .await
            .unwrap_or_else(|e| panic!("query {range:?}: {e}"));
        pages += 1;
        items.extend(page.items.into_iter().map(|(k, v)| (k, v.value, v.version)));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (items, pages),
        }
        assert!(pages < 1000, "the query does not end");
    }
}

async fn all_scanned(store: &dyn VersionedStore, limit: usize) -> Vec<(Key, serde_json::Value)> {
    let mut items = Vec::new();
    let mut cursor = None;
    for _ in 0..1000 {
        let page = store
            .scan(ScanOptions::new().limit(limit).cursor(cursor))
            .await
            .unwrap_or_else(|e| panic!("scan: {e}"));
        items.extend(page.items.into_iter().map(|(k, v)| (k, v.value)));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return items,
        }
    }
    panic!("the scan does not end");
}

#[tokio::test]
async fn queries_answer_as_the_reference_in_byte_order() {
    let Some(redis) = common::store_or_skip("queries_answer_as_the_reference").await else {
        return;
    };
    let memory = MemoryStore::new();
    let mut n = 0;
    for sort in SORTS {
        n += 1;
        both(&redis, &memory, &Key::with_sort("p", sort), n).await;
    }
    // Neighbours that a sloppy key spelling or range would mix in: the partition's key
    // without a sort part, partitions that extend it or sort right next to it.
    for key in [
        Key::new("p"),
        Key::with_sort("pa", "a"),
        Key::with_sort("p\0", "a"),
        Key::with_sort("o", "z"),
        Key::new("p1"),
    ] {
        n += 1;
        both(&redis, &memory, &key, n).await;
    }
    let ranges = [
        SortRange::All,
        SortRange::prefix("a"),
        SortRange::prefix("é"),
        SortRange::prefix("\u{FFFF}"),
        SortRange::between("a#", "b"),
        SortRange::between("ab", "ab"),
        SortRange::between("c", "d"),
        SortRange::after("a"),
        SortRange::after("😀"),
        SortRange::before("b"),
        SortRange::before("\0"),
    ];
    for range in &ranges {
        for descending in [false, true] {
            let (expected, _) = all_pages(&memory, "p", range, 1000, descending).await;
            for limit in [1, 3, 1000] {
                let (got, pages) = all_pages(&redis, "p", range, limit, descending).await;
                assert_eq!(
                    got, expected,
                    "{range:?}, limit {limit}, descending {descending}"
                );
                // Full pages but the last, and no empty page at the end: the store
                // knows when nothing follows.
                assert_eq!(
                    pages,
                    expected.len().div_ceil(limit).max(1),
                    "{range:?}, limit {limit}"
                );
            }
        }
    }
    let (all, _) = all_pages(&redis, "p", &SortRange::All, 100, false).await;
    let sorts: Vec<&str> = all.iter().filter_map(|(k, _, _)| k.sort()).collect();
    let mut by_bytes = SORTS.to_vec();
    by_bytes.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(sorts, by_bytes, "byte order of the UTF-8 sort parts");
    // A partition with nothing, or only a key without a sort part: an empty last page.
    for empty in ["nothing", "p1"] {
        let (items, pages) = all_pages(&redis, empty, &SortRange::All, 10, false).await;
        assert_eq!((items.len(), pages), (0, 1), "{empty}");
    }
}

#[tokio::test]
async fn scans_answer_as_the_reference_each_item_once() {
    let Some(redis) = common::store_or_skip("scans_answer_as_the_reference").await else {
        return;
    };
    let other = common::store_or_skip("scans_answer_as_the_reference")
        .await
        .unwrap();
    let memory = MemoryStore::new();
    let mut n = 0;
    for partition in ["a", "ab", "a\0", "b", "é", "10", "9"] {
        n += 1;
        both(&redis, &memory, &Key::new(partition), n).await;
        for sort in ["x", "y", "yy"] {
            n += 1;
            both(&redis, &memory, &Key::with_sort(partition, sort), n).await;
        }
    }
    // A partition of sort parts only, and one whose items are all gone.
    both(&redis, &memory, &Key::with_sort("only-sorted", "s"), 0).await;
    redis
        .insert(&Key::with_sort("gone", "s"), json!(0))
        .await
        .unwrap();
    redis.remove(&Key::with_sort("gone", "s")).await.unwrap();
    // Another store on the same server: never in this one's scan.
    other.insert(&Key::new("a"), json!("other")).await.unwrap();

    let expected = all_scanned(&memory, 1000).await;
    assert_eq!(expected.len(), 29);
    for limit in [1, 2, 7, 29, 30, 1000] {
        let got = all_scanned(&redis, limit).await;
        // Redis's own order: partitions by bytes, each with its key without a sort part
        // first, which is `Key`'s order, and so the memory store's.
        assert_eq!(got, expected, "limit {limit}");
    }
    // The last page knows it is the last.
    let page = redis.scan(ScanOptions::new().limit(29)).await.unwrap();
    assert_eq!((page.items.len(), page.next.is_none()), (29, true));
}

#[tokio::test]
async fn pages_under_concurrent_writes_keep_the_guarantees() {
    // Between the pages of one query and one scan, other writes land before, at and
    // after the position: an item present and unchanged throughout comes exactly once,
    // an item absent throughout never, and every item comes with the version it had.
    let Some(store) = common::store_or_skip("pages_under_concurrent_writes").await else {
        return;
    };
    let stable: Vec<Key> = (0..20)
        .map(|i| Key::with_sort("p", format!("s{i:02}")))
        .collect();
    for key in &stable {
        store.insert(key, json!("stable")).await.unwrap();
    }
    let doomed: Vec<Key> = (0..20)
        .map(|i| Key::with_sort("p", format!("s{i:02}-doomed")))
        .collect();
    for key in &doomed {
        store.insert(key, json!("doomed")).await.unwrap();
    }
    // Deleted before the read starts: never seen.
    for key in &doomed[..5] {
        store.remove(key).await.unwrap();
    }

    let mut seen: Vec<Key> = Vec::new();
    let mut cursor = None;
    let mut round = 0;
    loop {
        let page = store
            .query(
                "p",
                SortRange::All,
                QueryOptions::new().limit(3).cursor(cursor),
            )
            .await
            .unwrap();
        for (key, item) in &page.items {
            let current = store.get(key).await.unwrap();
            // Nothing else writes the stable items: what came is what is there.
            if stable.contains(key) {
                assert_eq!(current.as_ref(), Some(item), "{key:?}");
            }
            seen.push(key.clone());
        }
        // Writes between pages: remove an item ahead, insert new ones behind and ahead.
        round += 1;
        if let Some(key) = doomed.get(5 + round) {
            store.remove(key).await.unwrap();
        }
        let new = Key::with_sort("p", format!("s{:02}-new", (round * 3) % 20));
        store.put(&new, json!("new")).await.unwrap();
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    for key in &stable {
        assert_eq!(
            seen.iter().filter(|k| *k == key).count(),
            1,
            "{key:?} present throughout comes exactly once"
        );
    }
    for key in &doomed[..5] {
        assert!(!seen.contains(key), "{key:?} was gone before the query");
    }
    let unique: BTreeSet<&Key> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no item twice");

    // The same for a scan, with new partitions appearing ahead and behind.
    let mut scanned: Vec<Key> = Vec::new();
    let mut cursor = None;
    for round in 0.. {
        let page = store
            .scan(ScanOptions::new().limit(4).cursor(cursor))
            .await
            .unwrap();
        scanned.extend(page.items.into_iter().map(|(k, _)| k));
        for partition in [format!("a{round}"), format!("z{round}"), "p".to_string()] {
            store
                .put(
                    &Key::with_sort(partition, format!("t{round}")),
                    json!(round),
                )
                .await
                .unwrap();
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(round < 1000);
    }
    for key in &stable {
        assert_eq!(scanned.iter().filter(|k| *k == key).count(), 1, "{key:?}");
    }
    let unique: BTreeSet<&Key> = scanned.iter().collect();
    assert_eq!(unique.len(), scanned.len(), "no item twice");
}

#[tokio::test]
async fn get_many_answers_in_the_order_asked() {
    let Some(store) = common::tombstone_store_or_skip("get_many_answers_in_the_order_asked").await
    else {
        return;
    };
    let keys = [
        Key::new("a"),
        Key::with_sort("a", "b"),
        Key::new("absent"),
        Key::new("deleted"),
    ];
    store.insert(&keys[0], json!(1)).await.unwrap();
    let v = store.insert(&keys[1], json!(2)).await.unwrap();
    store.update(&keys[1], v, json!(3)).await.unwrap();
    let d = store.insert(&keys[3], json!(4)).await.unwrap();
    store.delete(&keys[3], d).await.unwrap();
    let asked = [&keys[3], &keys[1], &keys[2], &keys[0]].map(Clone::clone);
    let got: Vec<Option<(serde_json::Value, u64)>> = store
        .get_many(&asked)
        .await
        .unwrap()
        .into_iter()
        .map(|item| item.map(|i| (i.value, i.version.get())))
        .collect();
    assert_eq!(
        got,
        vec![None, Some((json!(3), 2)), None, Some((json!(1), 1))]
    );
}

/// The members of a sorted set, in order.
async fn members(store: &RedisStore, key: Vec<u8>) -> Vec<String> {
    let mut conn = store.connection();
    redis::cmd("ZRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap()
}

/// Asserts that the store's indexes hold exactly its items: each partition's index
/// the sort parts of its items ('' for the key without one), the partitions set the
/// partitions that hold one, as a scan finds them.
async fn assert_indexes_match(store: &RedisStore, partitions: &[&str], what: &str) {
    let items: Vec<Key> = all_scanned(store, 1000)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let prefix = Prefix::new(store.prefix()).unwrap();
    for partition in partitions {
        let mut expected: Vec<String> = Vec::new();
        for probe in [Key::new(*partition)]
            .into_iter()
            .chain(["a", "b", "c"].map(|s| Key::with_sort(*partition, s)))
        {
            if store.get(&probe).await.unwrap().is_some() {
                expected.push(probe.sort().unwrap_or_default().to_string());
            }
        }
        let index = prefix.index_key(partition);
        assert_eq!(
            members(store, index).await,
            expected,
            "{what}: index of {partition:?}"
        );
    }
    let live: BTreeSet<String> = items.iter().map(|k| k.partition().to_string()).collect();
    let set = prefix.partitions_key();
    let in_set: BTreeSet<String> = members(store, set).await.into_iter().collect();
    assert_eq!(in_set, live, "{what}: partitions set");
}

#[tokio::test]
async fn the_indexes_follow_every_write_in_both_modes() {
    for tombstones in [false, true] {
        let store = if tombstones {
            common::tombstone_store_or_skip("the_indexes_follow_every_write").await
        } else {
            common::store_or_skip("the_indexes_follow_every_write").await
        };
        let Some(store) = store else {
            return;
        };
        let mode = if tombstones { "tombstones" } else { "default" };
        let parts = ["p", "q"];
        let k = |p: &str, s: Option<&str>| match s {
            Some(s) => Key::with_sort(p, s),
            None => Key::new(p),
        };
        let v1 = Version::FIRST;
        store.insert(&k("p", None), json!(0)).await.unwrap();
        store.insert(&k("p", Some("a")), json!(1)).await.unwrap();
        store.put(&k("p", Some("b")), json!(2)).await.unwrap();
        store
            .update(&k("p", Some("a")), v1, json!(3))
            .await
            .unwrap();
        assert_indexes_match(&store, &parts, &format!("{mode}: after puts")).await;
        store.delete(&k("p", None), v1).await.unwrap();
        store.remove(&k("p", Some("b"))).await.unwrap();
        assert_indexes_match(&store, &parts, &format!("{mode}: after deletes")).await;
        // Refused writes and writes of nothing change nothing.
        assert!(store.insert(&k("p", Some("a")), json!(9)).await.is_err());
        assert!(store.delete(&k("p", Some("b")), v1).await.is_err());
        store.remove(&k("p", Some("c"))).await.unwrap();
        assert_indexes_match(&store, &parts, &format!("{mode}: after refusals")).await;
        // Re-inserted over a tombstone (tombstone mode) or an empty key.
        store.insert(&k("p", Some("b")), json!(4)).await.unwrap();
        assert_indexes_match(&store, &parts, &format!("{mode}: after a re-insert")).await;
        // A transaction: a new partition, a delete, a check, a put.
        let got = store
            .transact(vec![
                TxOp::insert(k("q", Some("a")), json!(5)),
                TxOp::insert(k("q", None), json!(6)),
                TxOp::remove(k("p", Some("b"))),
                TxOp::check(k("p", Some("a")), Version::new(2)),
            ])
            .await
            .unwrap();
        assert_eq!(got.len(), 4);
        assert_indexes_match(&store, &parts, &format!("{mode}: after a transaction")).await;
        // A refused transaction changes nothing.
        assert!(
            store
                .transact(vec![
                    TxOp::remove(k("q", Some("a"))),
                    TxOp::insert(k("q", None), json!(7)),
                ])
                .await
                .is_err()
        );
        assert_indexes_match(&store, &parts, &format!("{mode}: after a refused one")).await;
        // The last item of a partition gone: its index and its set entry gone too.
        store.remove(&k("p", Some("a"))).await.unwrap();
        assert_indexes_match(&store, &parts, &format!("{mode}: p emptied")).await;
        let (items, _) = all_pages(&store, "p", &SortRange::All, 10, false).await;
        assert!(items.is_empty(), "{mode}: deleted items never appear");
        if tombstones {
            // Tombstones stay out of the indexes, so a purge leaves them right.
            let purged = store.purge_tombstones(Duration::ZERO).await.unwrap();
            assert!(purged >= 3, "{mode}: purged {purged}");
            assert_indexes_match(&store, &parts, &format!("{mode}: after a purge")).await;
            store.insert(&k("p", Some("a")), json!(8)).await.unwrap();
            assert_indexes_match(&store, &parts, &format!("{mode}: after purge, insert")).await;
        }
    }
}

#[tokio::test]
async fn an_item_written_by_another_client_joins_the_index_with_the_stores_first_write() {
    let Some(store) = common::store_or_skip("an_item_written_by_another_client").await else {
        return;
    };
    let key = Key::with_sort("p", "foreign");
    let mut conn = store.connection();
    let _: i64 = redis::cmd("HSET")
        .arg(store.redis_key(&key))
        .arg("v")
        .arg("1")
        .arg("ver")
        .arg("4")
        .query_async(&mut conn)
        .await
        .unwrap();
    // Not indexed: query and scan do not see it, get and get_many do.
    let (items, _) = all_pages(&store, "p", &SortRange::All, 10, false).await;
    assert!(items.is_empty());
    assert!(store.get_many(std::slice::from_ref(&key)).await.unwrap()[0].is_some());
    store.update(&key, Version::new(4), json!(2)).await.unwrap();
    let (items, _) = all_pages(&store, "p", &SortRange::All, 10, false).await;
    assert_eq!(items, vec![(key, json!(2), Version::new(5))]);
}

#[tokio::test]
async fn a_cursor_of_another_prefix_is_refused() {
    let Some(one) = common::store_or_skip("a_cursor_of_another_prefix").await else {
        return;
    };
    let two = common::store_or_skip("a_cursor_of_another_prefix")
        .await
        .unwrap();
    for store in [&one, &two] {
        for sort in ["a", "b"] {
            store
                .insert(&Key::with_sort("p", sort), json!(1))
                .await
                .unwrap();
        }
    }
    let page = one
        .query("p", SortRange::All, QueryOptions::new().limit(1))
        .await
        .unwrap();
    let err = two
        .query(
            "p",
            SortRange::All,
            QueryOptions::new().limit(1).cursor(page.next.clone()),
        )
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    // The same prefix through another store value: the same data, so it continues.
    let same = RedisStore::builder()
        .url(common::url().unwrap())
        .prefix(one.prefix())
        .build()
        .await
        .unwrap();
    let rest = same
        .query(
            "p",
            SortRange::All,
            QueryOptions::new().limit(1).cursor(page.next),
        )
        .await
        .unwrap();
    assert_eq!(rest.items[0].0, Key::with_sort("p", "b"));
}

#[tokio::test]
async fn an_index_entry_whose_key_was_deleted_behind_the_store_is_skipped() {
    let Some(store) = common::store_or_skip("an_index_entry_whose_key_was_deleted").await else {
        return;
    };
    for sort in ["a", "b", "c"] {
        store
            .insert(&Key::with_sort("p", sort), json!(sort))
            .await
            .unwrap();
    }
    // Another client removes "b" with DEL: its index entry stays.
    let mut conn = store.connection();
    let _: i64 = redis::cmd("DEL")
        .arg(store.redis_key(&Key::with_sort("p", "b")))
        .query_async(&mut conn)
        .await
        .unwrap();
    let first = store
        .query("p", SortRange::All, QueryOptions::new().limit(2))
        .await
        .unwrap();
    let sorts: Vec<_> = first.items.iter().filter_map(|(k, _)| k.sort()).collect();
    // The page examined "a" and "b" and answers "a"; the next one continues after "b".
    assert_eq!(sorts, ["a"]);
    let rest = store
        .query(
            "p",
            SortRange::All,
            QueryOptions::new().limit(2).cursor(first.next),
        )
        .await
        .unwrap();
    let sorts: Vec<_> = rest.items.iter().filter_map(|(k, _)| k.sort()).collect();
    assert_eq!((sorts, rest.next), (vec!["c"], None));
    let scanned: Vec<_> = all_scanned(&store, 1)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        scanned,
        [Key::with_sort("p", "a"), Key::with_sort("p", "c")]
    );
}

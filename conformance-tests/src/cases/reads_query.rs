//! contract R17: `query` reads one partition in the UTF-8 byte order of the sort parts,
//! over every kind of range, in both directions, in pages that join without gaps or
//! duplicates; deleted items never appear; bad input and foreign cursors are
//! `InvalidInput`; a store whose keys have no sort part says `Unsupported`.

use std::collections::BTreeMap;
use std::sync::Arc;

use optimist_core::{
    Cursor, Direction, Error, Key, KeyShape, MAX_KEY_PART_BYTES, Operation, QueryOptions,
    ScanOptions, SortRange, Value, Version, VersionedStore,
};
use serde_json::json;

use super::reads_pages::{Read, expected_sorts, page_bound, read_all, sorts_of};
use crate::support::{assert_invalid, assert_same_value, doc, ok};
use crate::verdict::{check, check_eq, fail};

const DIRECTIONS: [Direction; 2] = [Direction::Ascending, Direction::Descending];

/// A partition's items as written: sort part -> (value, version).
type Written = BTreeMap<String, (Value, Version)>;

/// Inserts one item per sort part under `partition`, each with its own value.
async fn fill<S: VersionedStore + ?Sized>(store: &S, partition: &str, sorts: &[&str]) -> Written {
    let mut written = Written::new();
    for sort in sorts {
        let key = Key::with_sort(partition, *sort);
        let value = doc(store, json!({ "sort": sort }));
        let version = ok(
            store.insert(&key, value.clone()).await,
            &format!("insert {key}"),
        );
        written.insert((*sort).to_string(), (value, version));
    }
    written
}

/// Items that a query of `partition` must never return: other partitions that start,
/// end or differ by case like it, and (on stores with both key shapes) the partition's
/// own key without a sort part.
async fn decoys<S: VersionedStore + ?Sized>(store: &S, partition: &str) {
    let upper = partition.to_uppercase();
    for other in [
        &partition[..partition.len() - 1],
        &format!("{partition}a"),
        &format!("{partition}#"),
        upper.as_str(),
    ] {
        for sort in ["a", "m", "é"] {
            let key = Key::with_sort(other, sort);
            ok(
                store.put(&key, doc(store, json!("decoy"))).await,
                &format!("put {key}"),
            );
        }
    }
    if store.capabilities().key_shape == KeyShape::Any {
        let key = Key::new(partition);
        ok(
            store.put(&key, doc(store, json!("no sort part"))).await,
            "put",
        );
    }
}

/// Panics unless `items` are exactly `expected` (sort parts in order) with the values
/// and versions written.
#[track_caller]
fn assert_items<S: VersionedStore + ?Sized>(
    store: &S,
    partition: &str,
    items: &[super::reads_pages::Entry],
    expected: &[&str],
    written: &Written,
    context: &str,
) {
    let got = sorts_of(items, partition, context);
    check_eq(
        &got,
        &expected,
        format!(
            "{context}: exactly the items whose sort part lies in the range, in UTF-8 byte order of the sort part (sort parts, in order)"
        ),
    );
    for (key, item) in items {
        let sort = key.sort().unwrap_or_default();
        let Some((value, version)) = written.get(sort) else {
            fail(
                format!("{context}: only items that were written come"),
                format!("{context}: {key} was never written"),
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
}

/// contract R17: a partition's items come in the byte order of their UTF-8 sort parts
/// ("Z" < "a" < "é" < "中"), reversed when descending; items of other partitions and
/// the partition's key without a sort part never come.
pub async fn r17_query_orders_by_utf8_bytes<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R17
    let s = &*store;
    let sorts = [
        "中", "a", "Z", "é", "b", "ab", "a b", "a#2", "a#10", "0", "~", "\u{7f}", "e", "ê",
        "\u{D7FF}", "\u{E000}", "😀", "\u{FFFD}", "A", "aa",
    ];
    let written = fill(s, "orders", &sorts).await;
    decoys(s, "orders").await;
    let max = s.capabilities().max_page_size;
    for direction in DIRECTIONS {
        let expected = expected_sorts(&written, &SortRange::All, direction);
        for limit in [max, 3] {
            let read = Read::query("orders", SortRange::All, direction);
            let context = format!("{direction:?} in pages of {limit}");
            let items = read_all(s, &read, limit, page_bound(sorts.len()), &context).await;
            assert_items(s, "orders", &items, &expected, &written, &context);
        }
    }
    // The order spelled out, so it cannot be mistaken for a collation's.
    let items = read_all(
        s,
        &Read::query("orders", SortRange::All, Direction::Ascending),
        max,
        page_bound(sorts.len()),
        "ascending",
    )
    .await;
    let got = sorts_of(&items, "orders", "ascending");
    let at = |sort: &str| got.iter().position(|s| *s == sort);
    check(
        at("Z") < at("a") && at("a") < at("é") && at("é") < at("中") && at("中") < at("😀"),
        "sort parts order by their UTF-8 bytes: \"Z\" < \"a\" < \"é\" < \"中\" < \"😀\"",
        || format!("byte order puts Z < a < é < 中 < 😀: {got:?}"),
    );
    check(
        at("a#10") < at("a#2") && at("\u{D7FF}") < at("\u{E000}"),
        "sort parts order by their UTF-8 bytes, not numerically or by UTF-16: \"a#10\" < \"a#2\", U+D7FF < U+E000",
        || format!("byte order, not number or locale order: {got:?}"),
    );
}

/// contract R17: each kind of range (all, prefix, between with both bounds included,
/// after and before excluding their bound) selects by bytes, in both directions,
/// whole and in pages; prefixes of multi-byte characters included.
pub async fn r17_query_range_kinds_select_by_bytes<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R17
    let s = &*store;
    let sorts = [
        "a",
        "a#1",
        "a#2",
        "a#10",
        "ab",
        "b",
        "e",
        "é",
        "éa",
        "é中",
        "ê",
        "z",
        "Z",
        "中",
        "中文",
        "丫",
        "\u{D7FF}",
        "\u{D7FF}x",
        "\u{E000}",
        "\u{10FFFF}",
        "\u{10FFFF}a",
    ];
    let written = fill(s, "ranges", &sorts).await;
    decoys(s, "ranges").await;
    let ranges = [
        SortRange::All,
        SortRange::prefix("a#"),
        SortRange::prefix("a"),
        SortRange::prefix("é"),
        SortRange::prefix("中"),
        SortRange::prefix("\u{D7FF}"),
        SortRange::prefix("\u{10FFFF}"),
        SortRange::prefix("none"),
        SortRange::between("a#1", "a#2"),
        SortRange::between("b", "é"),
        SortRange::between("é", "é"),
        SortRange::between("c", "d"),
        SortRange::after("é"),
        SortRange::after("a"),
        SortRange::after("\u{10FFFF}a"),
        SortRange::before("a#10"),
        SortRange::before("é中"),
        SortRange::before("Z"),
    ];
    let max = s.capabilities().max_page_size;
    for (n, range) in ranges.iter().enumerate() {
        for direction in DIRECTIONS {
            let expected = expected_sorts(&written, range, direction);
            // Every range whole; every other one in small pages too, each direction
            // (the paging cases page every way; this keeps the case cheap on servers).
            let paged = (n % 2 == 0) == (direction == Direction::Ascending);
            for limit in if paged { vec![max, 2] } else { vec![max] } {
                let read = Read::query("ranges", range.clone(), direction);
                let context = format!("{range:?} {direction:?} in pages of {limit}");
                let items = read_all(s, &read, limit, page_bound(sorts.len()), &context).await;
                assert_items(s, "ranges", &items, &expected, &written, &context);
            }
        }
    }
}

/// contract R17: in pages of any size, the pages joined are the whole answer, in order,
/// without a gap or a duplicate at a page boundary; the last page has no cursor.
pub async fn r17_query_pages_join_without_gaps_or_duplicates<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // contract R17
    let s = &*store;
    let names: Vec<String> = (0..23).map(|i| format!("item-{i:02}")).collect();
    let sorts: Vec<&str> = names.iter().map(String::as_str).collect();
    let written = fill(s, "pages", &sorts).await;
    decoys(s, "pages").await;
    let max = s.capabilities().max_page_size;
    for range in [SortRange::All, SortRange::between("item-03", "item-19")] {
        for direction in DIRECTIONS {
            let expected = expected_sorts(&written, &range, direction);
            for limit in [1, 2, 5, 16, 17, 23, 24, max] {
                let read = Read::query("pages", range.clone(), direction);
                let context = format!("{range:?} {direction:?} in pages of {limit}");
                let items = read_all(s, &read, limit, page_bound(sorts.len()), &context).await;
                assert_items(s, "pages", &items, &expected, &written, &context);
            }
        }
    }
    // A full page of exactly the items left may still say more follow; the page after
    // it is then empty and final.
    let first = ok(
        s.query("pages", SortRange::All, QueryOptions::new().limit(23))
            .await,
        "one page of everything",
    );
    check_eq(
        &first.items.len(),
        &23,
        "a page holds up to its limit (23 of 23 items asked)",
    );
    if let Some(next) = first.next {
        let rest = ok(
            s.query(
                "pages",
                SortRange::All,
                QueryOptions::new().limit(23).cursor(Some(next)),
            )
            .await,
            "the page after the last item",
        );
        check(
            rest.items.is_empty() && rest.next.is_none(),
            "after a page that ended the answer, nothing more follows",
            || format!("after the last item: an empty, final page, got {rest:?}"),
        );
    }
}

/// contract R17: each item comes with its version, so the caller can update it; the
/// update is seen by the next query.
pub async fn r17_query_items_carry_their_versions<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R17
    let s = &*store;
    for n in 0..4u64 {
        let key = Key::with_sort("versions", format!("k{n}"));
        let mut version = ok(s.insert(&key, doc(s, json!(0))).await, "insert");
        for step in 0..n {
            version = ok(
                s.update(&key, version, doc(s, json!(step + 1))).await,
                "update",
            );
        }
    }
    let page = ok(
        s.query("versions", SortRange::All, QueryOptions::new())
            .await,
        "query",
    );
    check_eq(
        &page.items.len(),
        &4,
        "the query answers the 4 items written",
    );
    for (n, (key, item)) in page.items.iter().enumerate() {
        check_eq(
            &item.version,
            &Version::new(n as u64 + 1),
            format!("{key} comes with the version it holds"),
        );
        let next = ok(
            s.update(key, item.version, doc(s, json!("updated"))).await,
            &format!("update {key} at the version the query answered"),
        );
        check_eq(
            &next,
            &Version::new(n as u64 + 2),
            "the version a query answered is the one to update with: the update returns it plus one",
        );
    }
    let page = ok(
        s.query("versions", SortRange::All, QueryOptions::new().descending())
            .await,
        "query after the updates",
    );
    for (key, item) in &page.items {
        assert_same_value(
            s.capabilities(),
            &item.value,
            &doc(s, json!("updated")),
            &format!("{key} after its update"),
        );
    }
}

/// contract R17, R15: deleted and removed items never appear, in tombstone mode too, at
/// any page size; an item inserted again appears with its new version; a partition whose
/// items are all deleted answers nothing.
pub async fn r17_deleted_items_never_appear_in_query<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R17 R15
    let s = &*store;
    let names: Vec<String> = (0..12).map(|i| format!("d{i:02}")).collect();
    let sorts: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut written = fill(s, "deleted", &sorts).await;
    for (i, name) in names.iter().enumerate() {
        let key = Key::with_sort("deleted", name.as_str());
        let version = written[name.as_str()].1;
        match i % 4 {
            1 => ok(s.delete(&key, version).await, "delete"),
            2 => {
                ok(s.remove(&key).await, "remove");
            }
            3 if i == 3 => {
                ok(s.delete(&key, version).await, "delete");
                let value = doc(s, json!("again"));
                let again = ok(s.insert(&key, value.clone()).await, "insert again");
                written.insert(name.clone(), (value, again));
                continue;
            }
            _ => continue,
        }
        written.remove(name.as_str());
    }
    let gone = fill(s, "all-gone", &["a", "b", "c"]).await;
    for (sort, (_, version)) in &gone {
        ok(
            s.delete(&Key::with_sort("all-gone", sort.as_str()), *version)
                .await,
            "delete",
        );
    }
    let max = s.capabilities().max_page_size;
    for direction in DIRECTIONS {
        let expected = expected_sorts(&written, &SortRange::All, direction);
        for limit in [1, 2, 3, max] {
            let context = format!("{direction:?} in pages of {limit}");
            let read = Read::query("deleted", SortRange::All, direction);
            let items = read_all(s, &read, limit, page_bound(names.len()), &context).await;
            assert_items(s, "deleted", &items, &expected, &written, &context);
            let read = Read::query("all-gone", SortRange::All, direction);
            let items = read_all(s, &read, limit, page_bound(3), &context).await;
            check(
                items.is_empty(),
                "deleted and removed items never appear in a query",
                || format!("{context}: every item was deleted: {items:?}"),
            );
        }
    }
}

/// The reason of an `InvalidInput`, or a panic saying what came instead.
#[track_caller]
pub(crate) fn invalid_reason<T: std::fmt::Debug>(
    result: optimist_core::Result<T>,
    context: &str,
) -> String {
    match result {
        Err(Error::InvalidInput { reason, .. }) => reason,
        other => fail(
            format!("{context}: InvalidInput, with nothing sent"),
            format!("{context}: expected InvalidInput, got {other:?}"),
        ),
    }
}

/// A copy of `cursor` with one character in its middle changed, as a hand edit would.
pub(crate) fn tampered(cursor: &Cursor) -> Cursor {
    let text = cursor.as_str();
    let middle = text.len() / 2;
    let mut chars: Vec<char> = text.chars().collect();
    if let Some(c) = chars.get_mut(middle) {
        *c = if *c == '0' { '1' } else { '0' };
    }
    Cursor::from(chars.into_iter().collect::<String>())
}

/// contract R17: an empty or oversized partition or bound, inverted bounds, a page
/// limit of 0 or above the maximum, and a malformed, tampered or foreign cursor (of
/// another query, of a scan, of another store of the same kind) are `InvalidInput`.
pub async fn r17_query_bad_input_is_rejected<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R17
    let s = &*store;
    let written = fill(s, "bad", &["a", "b", "c", "d"]).await;
    let max = s.capabilities().max_page_size;
    let query = |partition: &str, range: SortRange, options: QueryOptions| {
        let partition = partition.to_string();
        async move { s.query(&partition, range, options).await }
    };
    let over = "x".repeat(MAX_KEY_PART_BYTES + 1);
    let refused = [
        (
            "an empty partition",
            query("", SortRange::All, QueryOptions::new()).await,
        ),
        (
            "an oversized partition",
            query(&over, SortRange::All, QueryOptions::new()).await,
        ),
        (
            "an empty prefix",
            query("bad", SortRange::prefix(""), QueryOptions::new()).await,
        ),
        (
            "an oversized bound",
            query("bad", SortRange::after(over.clone()), QueryOptions::new()).await,
        ),
        (
            "an empty bound",
            query("bad", SortRange::between("", "b"), QueryOptions::new()).await,
        ),
        (
            "inverted bounds",
            query("bad", SortRange::between("c", "b"), QueryOptions::new()).await,
        ),
        (
            "inverted bounds by bytes (é > z)",
            query("bad", SortRange::between("é", "z"), QueryOptions::new()).await,
        ),
        (
            "a page limit of 0",
            query("bad", SortRange::All, QueryOptions::new().limit(0)).await,
        ),
        (
            "a page limit over the maximum",
            query("bad", SortRange::All, QueryOptions::new().limit(max + 1)).await,
        ),
    ];
    for (what, result) in refused {
        let reason = invalid_reason(result, what);
        check(
            !reason.is_empty(),
            "the InvalidInput reason names the problem",
            || format!("{what}: the reason names the problem"),
        );
    }

    // A real cursor, then the same read with it altered or carried elsewhere.
    let first = ok(
        query("bad", SortRange::All, QueryOptions::new().limit(2)).await,
        "the first page",
    );
    let Some(cursor) = first.next.clone() else {
        fail(
            "a query with this bad input is InvalidInput",
            format!("a page of 2 of 4 items says more follow: {first:?}"),
        );
    };
    let with = |cursor: Cursor| QueryOptions::new().limit(2).cursor(Some(cursor));
    let foreign = [
        (
            "a malformed cursor",
            query(
                "bad",
                SortRange::All,
                with(Cursor::from("not a cursor".to_string())),
            )
            .await,
        ),
        (
            "an empty cursor",
            query("bad", SortRange::All, with(Cursor::from(String::new()))).await,
        ),
        (
            "a tampered cursor",
            query("bad", SortRange::All, with(tampered(&cursor))).await,
        ),
        (
            "a cursor of another partition's query",
            query("bad2", SortRange::All, with(cursor.clone())).await,
        ),
        (
            "a cursor of a query with another range",
            query("bad", SortRange::prefix("a"), with(cursor.clone())).await,
        ),
        (
            "a cursor of a query in the other direction",
            query("bad", SortRange::All, with(cursor.clone()).descending()).await,
        ),
    ];
    for (what, result) in foreign {
        invalid_reason(result, what);
    }
    let scan = ok(s.scan(ScanOptions::new().limit(1)).await, "a scan page");
    if let Some(scan_cursor) = scan.next {
        invalid_reason(
            query("bad", SortRange::All, with(scan_cursor)).await,
            "a scan's cursor given to a query",
        );
    }
    let other: S = crate::runner::another_store().await;
    fill(&other, "bad", &["a", "b", "c", "d"]).await;
    invalid_reason(
        other
            .query("bad", SortRange::All, with(cursor.clone()))
            .await,
        "a cursor of another store of the same kind",
    );
    let theirs = ok(
        other
            .query("bad", SortRange::All, QueryOptions::new().limit(2))
            .await,
        "a page of the other store",
    );
    if let Some(theirs) = theirs.next {
        invalid_reason(
            query("bad", SortRange::All, with(theirs)).await,
            "the other store's cursor",
        );
    }
    drop(other);

    // The refusals changed nothing, and the real cursor still continues the read.
    let rest = ok(
        query("bad", SortRange::All, with(cursor)).await,
        "the real cursor after the refusals",
    );
    let mut items = first.items;
    items.extend(rest.items);
    let mut cursor = rest.next;
    while let Some(next) = cursor {
        let page = ok(
            query("bad", SortRange::All, with(next)).await,
            "a later page",
        );
        items.extend(page.items);
        cursor = page.next;
    }
    let expected = expected_sorts(&written, &SortRange::All, Direction::Ascending);
    assert_items(s, "bad", &items, &expected, &written, "after the refusals");
    assert_invalid(
        query("bad", SortRange::between("b", "a"), QueryOptions::new()).await,
        "inverted bounds, again",
    );
}

/// contract R17: on a store whose keys have no sort part (or that reads no ranges),
/// `query` is `Unsupported` naming the operation, not an empty answer; so is `scan`
/// when the store reads no ranges.
pub async fn r17_query_is_unsupported_without_sort_keys<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // contract R17
    let s = &*store;
    match s.query("p", SortRange::All, QueryOptions::new()).await {
        Err(Error::Unsupported { operation }) => check_eq(
            &operation,
            &Operation::Query,
            "query on a store without sort keys is Unsupported naming the query operation",
        ),
        other => fail(
            "query on a store without sort keys is Unsupported, not an empty answer",
            format!("query on this store: expected Unsupported, got {other:?}"),
        ),
    }
    if !s.capabilities().range_reads {
        match s.scan(ScanOptions::new()).await {
            Err(Error::Unsupported { operation }) => check_eq(
                &operation,
                &Operation::Scan,
                "scan on a store without range reads is Unsupported naming the scan operation",
            ),
            other => fail(
                "scan on a store without range reads is Unsupported, not an empty answer",
                format!("scan on a store without range reads: expected Unsupported, got {other:?}"),
            ),
        }
    }
}

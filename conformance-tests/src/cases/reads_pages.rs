//! What the query and scan cases share: reading every page of one read, and the
//! answer a range must give, computed here from plain byte comparisons (not from the
//! library's own range code, so a fault there shows too).

use std::collections::BTreeMap;

use optimist_core::{
    Cursor, Direction, Key, Page, QueryOptions, Result, ScanOptions, SortRange, Value, Versioned,
    VersionedStore,
};

use crate::support::ok;
use crate::verdict::{check, check_eq, fail};

/// One item as a page returns it.
pub(crate) type Entry = (Key, Versioned<Value>);

/// Which read to page through.
#[derive(Clone, Debug)]
pub(crate) enum Read {
    /// `query(partition, range)` in `direction`.
    Query {
        partition: String,
        range: SortRange,
        direction: Direction,
    },
    /// `scan`.
    Scan,
}

impl Read {
    /// A query of `partition`.
    pub(crate) fn query(partition: &str, range: SortRange, direction: Direction) -> Self {
        Read::Query {
            partition: partition.to_string(),
            range,
            direction,
        }
    }

    /// One page of the read, `limit` items at most, continuing at `cursor`.
    pub(crate) async fn page<S: VersionedStore + ?Sized>(
        &self,
        store: &S,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<Page> {
        match self {
            Read::Query {
                partition,
                range,
                direction,
            } => {
                let options = QueryOptions::new()
                    .limit(limit)
                    .direction_of(*direction)
                    .cursor(cursor);
                store.query(partition, range.clone(), options).await
            }
            Read::Scan => {
                store
                    .scan(ScanOptions::new().limit(limit).cursor(cursor))
                    .await
            }
        }
    }
}

/// Every page of `read` in pages of `limit`, concatenated. Each page holds at most
/// `limit` items; a page may be short or empty while more follow. Panics if the pages
/// do not end within `max_pages` (a cursor that never moves on).
pub(crate) async fn read_all<S: VersionedStore + ?Sized>(
    store: &S,
    read: &Read,
    limit: usize,
    max_pages: usize,
    context: &str,
) -> Vec<Entry> {
    let mut items = Vec::new();
    let mut cursor = None;
    for n in 0..max_pages {
        let page = ok(
            read.page(store, limit, cursor).await,
            &format!("{context}: page {n} of {read:?} (limit {limit})"),
        );
        check(
            page.items.len() <= limit,
            format!("{context}: a page holds at most its limit of {limit} items"),
            || {
                format!(
                    "{context}: page {n} of {read:?} holds {} items, over its limit of {limit}",
                    page.items.len()
                )
            },
        );
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return items,
        }
    }
    fail(
        format!("{context}: a paged read ends, its last page with no next cursor"),
        format!("{context}: {read:?} in pages of {limit} did not end within {max_pages} pages"),
    );
}

/// A page bound that still ends reads over `written` keys, empty pages allowed.
pub(crate) fn page_bound(written: usize) -> usize {
    written * 4 + 16
}

/// Whether `sort` lies in `range`, by the UTF-8 bytes (contract R17).
pub(crate) fn in_range(range: &SortRange, sort: &str) -> bool {
    let s = sort.as_bytes();
    match range {
        SortRange::All => true,
        SortRange::Prefix(prefix) => s.starts_with(prefix.as_bytes()),
        SortRange::Between { from, to } => s >= from.as_bytes() && s <= to.as_bytes(),
        SortRange::After(bound) => s > bound.as_bytes(),
        SortRange::Before(bound) => s < bound.as_bytes(),
        other => fail(
            "a range kind the suite knows (a bug of the suite otherwise)",
            format!("the suite does not know the range {other:?}"),
        ),
    }
}

/// The sort parts of a partition's items a query must answer, in its order.
pub(crate) fn expected_sorts<'a, T>(
    partition: &'a BTreeMap<String, T>,
    range: &SortRange,
    direction: Direction,
) -> Vec<&'a str> {
    // BTreeMap<String, _> orders by bytes, which is UTF-8 byte order.
    let mut sorts: Vec<&str> = partition
        .keys()
        .map(String::as_str)
        .filter(|sort| in_range(range, sort))
        .collect();
    if direction == Direction::Descending {
        sorts.reverse();
    }
    sorts
}

/// The sort parts of query answers, panicking at an item of another partition or
/// without a sort part.
#[track_caller]
pub(crate) fn sorts_of<'a>(items: &'a [Entry], partition: &str, context: &str) -> Vec<&'a str> {
    items
        .iter()
        .map(|(key, _)| {
            check_eq(
                &key.partition(),
                &partition,
                format!("{context}: a query answers only items of the partition queried"),
            );
            match key.sort() {
                Some(sort) => sort,
                None => fail(
                    format!("{context}: a query answers only items with a sort part"),
                    format!("{context}: {key} has no sort part, so it is in no query"),
                ),
            }
        })
        .collect()
}

//! `query` and `scan` pages: one strongly consistent `Query` (a partition, by sort
//! key) or `Scan` (the whole table, in DynamoDB's own order) per page.
//!
//! A page asks for one item more than the page holds (`Limit` = limit + 1): an extra
//! item says that more follow, so the last page ends the read without one more request
//! (DynamoDB may also answer a `LastEvaluatedKey` when the limit is met exactly at the
//! end, moto does not). The page continues after the last item it holds, sent as the
//! next request's `ExclusiveStartKey`: the primary key of that item, which is what
//! DynamoDB's own `LastEvaluatedKey` would be for a page of `limit` items (for a query,
//! it lies within the key condition, as DynamoDB requires). An answer cut short by the
//! service (1 MB a page) continues after its `LastEvaluatedKey`. A position in the
//! table does not need its item to still be there, so items written or deleted
//! meanwhile move no other item: one present throughout comes exactly once.
//!
//! Tombstones are answered like items (the engine drops them), so in tombstone mode a
//! page can hold fewer items than asked, or none, with more to follow.

use optimist_core::{
    Applied, Direction, ErrorKind, Key, RangePage, RangeRequest, RangeScope, SortRange,
    StorageError,
};

use crate::error::from_sdk;
use crate::item::{Item, answered_key, decode, key_item};
use crate::key_condition::key_condition;
use crate::{DynamoDbStore, TableDescription};

/// One page of `request`.
pub(crate) async fn read_range(
    store: &DynamoDbStore,
    request: &RangeRequest<'_>,
) -> Result<RangePage, StorageError> {
    let (items, last_evaluated) = match request.scope {
        RangeScope::Partition {
            partition,
            range,
            direction,
        } => query(store, partition, range, direction, request).await?,
        RangeScope::Store => scan(store, request).await?,
        other => {
            return Err(StorageError::not_applied(
                ErrorKind::Rejected,
                format!("this backend cannot read the scope {other:?}"),
            ));
        }
    };
    page(
        store.table_description(),
        items,
        last_evaluated,
        request.limit,
    )
}

/// What one `Query` or `Scan` answered: its items and its `LastEvaluatedKey`.
type Answer = (Vec<Item>, Option<Item>);

/// One consistent `Query` of `partition` in `direction`, past `request.after`.
async fn query(
    store: &DynamoDbStore,
    partition: &str,
    range: &SortRange,
    direction: Direction,
    request: &RangeRequest<'_>,
) -> Result<Answer, StorageError> {
    let table = store.table_description();
    let condition = key_condition(table, partition, range)?;
    let output = store
        .requests()
        .query()
        .table_name(table.name())
        .consistent_read(true)
        .key_condition_expression(condition.expression)
        .set_expression_attribute_names(Some(condition.names))
        .set_expression_attribute_values(Some(condition.values))
        .scan_index_forward(direction == Direction::Ascending)
        .set_exclusive_start_key(request.after.map(|after| key_item(table, after)))
        .limit(ask_for(request.limit))
        .send()
        .await
        .map_err(|e| from_sdk(e, Applied::No, table.name()))?;
    Ok((output.items.unwrap_or_default(), output.last_evaluated_key))
}

/// One consistent `Scan` of the table, past `request.after`.
async fn scan(store: &DynamoDbStore, request: &RangeRequest<'_>) -> Result<Answer, StorageError> {
    let table = store.table_description();
    let output = store
        .requests()
        .scan()
        .table_name(table.name())
        .consistent_read(true)
        .set_exclusive_start_key(request.after.map(|after| key_item(table, after)))
        .limit(ask_for(request.limit))
        .send()
        .await
        .map_err(|e| from_sdk(e, Applied::No, table.name()))?;
    Ok((output.items.unwrap_or_default(), output.last_evaluated_key))
}

/// The `Limit` of a page of `limit`: one more, to learn whether more follow.
fn ask_for(limit: usize) -> i32 {
    i32::try_from(limit.saturating_add(1)).unwrap_or(i32::MAX)
}

/// The page: the first `limit` items as records, and where the read continues.
fn page(
    table: &TableDescription,
    items: Vec<Item>,
    last_evaluated: Option<Item>,
    limit: usize,
) -> Result<RangePage, StorageError> {
    let more = items.len() > limit;
    let mut records = Vec::with_capacity(items.len().min(limit));
    for item in items.into_iter().take(limit) {
        let key = answered_key(table, &item)?;
        let record = decode(table, &key, &item)?;
        records.push((key, record));
    }
    let resume_after: Option<Key> = if more {
        records.last().map(|(key, _)| key.clone())
    } else {
        match last_evaluated.filter(|key| !key.is_empty()) {
            Some(position) => Some(answered_key(table, &position)?),
            None => None,
        }
    };
    Ok(RangePage::new(records, resume_after))
}

#[cfg(test)]
#[allow(clippy::panic)] // tests fail by panicking
mod tests {
    use std::time::SystemTime;

    use optimist_core::{Version, WriteToken};
    use serde_json::json;

    use super::*;
    use crate::item::{full_item, tombstone_item};

    fn table() -> TableDescription {
        TableDescription::new("t", "pk").with_sort_key("sk")
    }

    fn item(sort: &str) -> Item {
        let key = Key::with_sort("p", sort);
        full_item(
            &table(),
            &key,
            &json!({"s": sort}),
            Version::FIRST,
            WriteToken::random(),
        )
    }

    fn sorts(page: &RangePage) -> Vec<&str> {
        page.records
            .iter()
            .filter_map(|(key, _)| key.sort())
            .collect()
    }

    #[test]
    fn an_extra_item_means_more_follow_after_the_last_one_kept() {
        let page = page(&table(), vec![item("a"), item("b"), item("c")], None, 2)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sorts(&page), ["a", "b"]);
        assert_eq!(page.resume_after, Some(Key::with_sort("p", "b")));
    }

    #[test]
    fn no_extra_item_and_no_position_is_the_last_page() {
        let page =
            page(&table(), vec![item("a"), item("b")], None, 2).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sorts(&page), ["a", "b"]);
        assert_eq!(page.resume_after, None);
        let empty = page_of_nothing();
        assert_eq!((empty.records.len(), empty.resume_after), (0, None));
    }

    fn page_of_nothing() -> RangePage {
        page(&table(), Vec::new(), None, 5).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_answer_cut_short_by_the_service_continues_after_its_position() {
        let position = crate::item::key_item(&table(), &Key::with_sort("p", "a"));
        let page =
            page(&table(), vec![item("a")], Some(position), 10).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page.resume_after, Some(Key::with_sort("p", "a")));
    }

    #[test]
    fn tombstones_are_answered_as_records_for_the_engine_to_drop() {
        let key = Key::with_sort("p", "gone");
        let tombstone = tombstone_item(
            &table(),
            &key,
            Version::new(3),
            WriteToken::random(),
            SystemTime::now(),
            None,
        );
        let page =
            page(&table(), vec![tombstone, item("x")], None, 1).unwrap_or_else(|e| panic!("{e}"));
        assert!(page.records[0].1.is_tombstone());
        assert_eq!(
            page.resume_after,
            Some(key),
            "the position is the tombstone's"
        );
    }

    #[test]
    fn an_item_without_a_readable_key_is_corrupt() {
        let mut broken = item("a");
        broken.insert(
            "sk".to_string(),
            aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
        );
        let err = page(&table(), vec![broken], None, 5)
            .err()
            .map(|e| e.kind());
        assert_eq!(err, Some(ErrorKind::Corrupt));
    }
}

//! The `KeyConditionExpression` of a partition query: the partition key equal to the
//! partition, and at most one condition on the sort key, which is all DynamoDB takes
//! (`begins_with`, `BETWEEN`, `>`, `<`). Where a page continues is not part of it: that
//! is the query's `ExclusiveStartKey` (see `src/range.rs`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use optimist_core::{ErrorKind, SortRange, StorageError};

use crate::TableDescription;

/// A key condition with its placeholders' names and values.
#[derive(Debug, PartialEq)]
pub(crate) struct KeyCondition {
    pub(crate) expression: String,
    pub(crate) names: HashMap<String, String>,
    pub(crate) values: HashMap<String, AttributeValue>,
}

/// The condition for the items of `partition` whose sort part lies in `range`, on a
/// table with a sort key. DynamoDB compares `S` sort keys by their UTF-8 bytes, the
/// order `SortRange` is defined by.
pub(crate) fn key_condition(
    table: &TableDescription,
    partition: &str,
    range: &SortRange,
) -> Result<KeyCondition, StorageError> {
    let Some(sort_key) = table.sort_key() else {
        return Err(StorageError::not_applied(
            ErrorKind::Rejected,
            "a query needs a table with a sort key",
        ));
    };
    let text = |s: &str| AttributeValue::S(s.to_string());
    let (sort_condition, bounds): (Option<&str>, Vec<&str>) = match range {
        SortRange::All => (None, vec![]),
        SortRange::Prefix(prefix) => (Some("begins_with(#sk, :a)"), vec![prefix]),
        SortRange::Between { from, to } => (Some("#sk BETWEEN :a AND :b"), vec![from, to]),
        SortRange::After(bound) => (Some("#sk > :a"), vec![bound]),
        SortRange::Before(bound) => (Some("#sk < :a"), vec![bound]),
        other => {
            return Err(StorageError::not_applied(
                ErrorKind::Rejected,
                format!("this backend cannot query the range {other:?}"),
            ));
        }
    };
    let mut names = HashMap::from([("#pk".to_string(), table.partition_key().to_string())]);
    let mut values = HashMap::from([(":pk".to_string(), text(partition))]);
    let expression = match sort_condition {
        None => "#pk = :pk".to_string(),
        Some(condition) => {
            names.insert("#sk".to_string(), sort_key.to_string());
            for (placeholder, bound) in [":a", ":b"].into_iter().zip(bounds) {
                values.insert(placeholder.to_string(), text(bound));
            }
            format!("#pk = :pk AND {condition}")
        }
    };
    Ok(KeyCondition {
        expression,
        names,
        values,
    })
}

#[cfg(test)]
#[allow(clippy::panic)] // tests fail by panicking
mod tests {
    use super::*;

    fn table() -> TableDescription {
        TableDescription::new("t", "Customer").with_sort_key("Order")
    }

    fn condition(range: SortRange) -> KeyCondition {
        key_condition(&table(), "c-9", &range).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn each_range_is_one_condition_on_the_sort_key() {
        let all = condition(SortRange::All);
        assert_eq!(all.expression, "#pk = :pk");
        assert_eq!(
            all.names.len(),
            1,
            "an unused name is a ValidationException"
        );
        assert_eq!(
            all.values.get(":pk"),
            Some(&AttributeValue::S("c-9".into()))
        );

        let prefix = condition(SortRange::prefix("2026-"));
        assert_eq!(prefix.expression, "#pk = :pk AND begins_with(#sk, :a)");
        assert_eq!(prefix.names.get("#sk").map(String::as_str), Some("Order"));
        assert_eq!(
            prefix.values.get(":a"),
            Some(&AttributeValue::S("2026-".into()))
        );

        let between = condition(SortRange::between("a", "c"));
        assert_eq!(between.expression, "#pk = :pk AND #sk BETWEEN :a AND :b");
        assert_eq!(
            between.values.get(":b"),
            Some(&AttributeValue::S("c".into()))
        );
        assert_eq!(between.values.len(), 3);

        assert_eq!(
            condition(SortRange::after("b")).expression,
            "#pk = :pk AND #sk > :a"
        );
        assert_eq!(
            condition(SortRange::before("b")).expression,
            "#pk = :pk AND #sk < :a"
        );
    }

    #[test]
    fn a_table_without_a_sort_key_has_no_query() {
        let hash_only = TableDescription::new("t", "pk");
        let refused = key_condition(&hash_only, "p", &SortRange::All);
        assert_eq!(refused.err().map(|e| e.kind()), Some(ErrorKind::Rejected));
    }
}

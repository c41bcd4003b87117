//! The condition expressions, with their names and values.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use optimist_core::Version;

use crate::TableDescription;

/// What a write requires of the item it replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// No item under the key.
    Absent,
    /// An item at this version (0: an item without a version attribute).
    At(Version),
}

/// A condition expression with its placeholders.
pub(crate) struct Condition {
    pub(crate) expression: String,
    pub(crate) names: HashMap<String, String>,
    pub(crate) values: Option<HashMap<String, AttributeValue>>,
}

/// The condition for `expect`. Version 0 matches an item without the version attribute
/// (written by another tool) and one whose version attribute is 0 (contract R3).
pub(crate) fn condition(table: &TableDescription, expect: Expect) -> Condition {
    let mut names = HashMap::new();
    names.insert("#pk".to_string(), table.partition_key().to_string());
    match expect {
        Expect::Absent => Condition {
            expression: "attribute_not_exists(#pk)".to_string(),
            names,
            values: None,
        },
        Expect::At(version) => {
            names.insert("#v".to_string(), table.version_attribute().to_string());
            let values = HashMap::from([(
                ":expected".to_string(),
                AttributeValue::N(version.get().to_string()),
            )]);
            let expression = if version == Version::UNVERSIONED {
                "attribute_exists(#pk) AND (attribute_not_exists(#v) OR #v = :expected)"
            } else {
                // `attribute_exists(#pk)` is implied: a missing item has no #v to compare.
                names.remove("#pk");
                "#v = :expected"
            };
            Condition {
                expression: expression.to_string(),
                names,
                values: Some(values),
            }
        }
    }
}

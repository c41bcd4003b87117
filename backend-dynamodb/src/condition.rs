//! The condition expressions every conditional request carries, with their names and
//! values.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use optimist_core::{Expect, Version};

use crate::TableDescription;

/// What a request requires of the item, as DynamoDB judges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Requirement {
    /// No item under the key.
    Absent,
    /// An item at this version (0: an item without a version attribute).
    At(Version),
    /// Nothing can meet it: a transaction item that must fail and return the item.
    Never,
    /// Anything meets it: a transaction check on whatever is there.
    Always,
}

impl Requirement {
    /// The requirement that the item is in state `state` (`None`: absent).
    pub(crate) fn state(state: Option<Version>) -> Self {
        state.map_or(Requirement::Absent, Requirement::At)
    }

    /// The requirement of a precondition.
    pub(crate) fn of(expect: Expect) -> Self {
        match expect {
            Expect::Absent => Requirement::Absent,
            Expect::At(version) => Requirement::At(version),
            Expect::Any => Requirement::Always,
        }
    }
}

/// A condition expression with its placeholders.
pub(crate) struct Condition {
    pub(crate) expression: String,
    pub(crate) names: HashMap<String, String>,
    pub(crate) values: Option<HashMap<String, AttributeValue>>,
}

impl Condition {
    /// The condition for `requirement`. Version 0 matches an item without the version
    /// attribute (written by another tool) and one whose version attribute is 0
    /// (contract R3).
    pub(crate) fn new(table: &TableDescription, requirement: Requirement) -> Self {
        let mut names = HashMap::from([("#pk".to_string(), table.partition_key().to_string())]);
        let expression = match requirement {
            Requirement::Absent => "attribute_not_exists(#pk)",
            Requirement::Never => "attribute_exists(#pk) AND attribute_not_exists(#pk)",
            Requirement::Always => "attribute_exists(#pk) OR attribute_not_exists(#pk)",
            Requirement::At(version) => {
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
                return Self {
                    expression: expression.to_string(),
                    names,
                    values: Some(values),
                };
            }
        };
        Self {
            expression: expression.to_string(),
            names,
            values: None,
        }
    }
}

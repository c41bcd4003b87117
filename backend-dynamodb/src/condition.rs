//! The condition expressions every conditional request carries, with their names and
//! values.
//!
//! A key is in one of three states, and every condition tells them apart: no item
//! (`attribute_not_exists` on the partition key), a live item at a version (the version
//! attribute, and no deleted attribute), or a tombstone at a version (the version
//! attribute and the deleted attribute). Items written by other clients have no deleted
//! attribute, so they are live items.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use optimist_core::{Expect, Held, Version};

use crate::TableDescription;

/// What a request requires of the key, as DynamoDB judges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Requirement {
    /// No record under the key: no item and no tombstone.
    Absent,
    /// A live item at this version (0: an item without a version attribute).
    Item(Version),
    /// A tombstone at this version.
    Tombstone(Version),
    /// No tombstone: nothing, or a live item at any version (`remove` in the default
    /// mode, which deletes an item but must leave a tombstone alone).
    NoTombstone,
    /// Nothing can meet it: a transaction item that must fail and return the item.
    Never,
    /// Anything meets it: a transaction check on whatever is there.
    Always,
}

impl Requirement {
    /// The requirement that the key is in state `held`.
    pub(crate) fn held(held: Held) -> Self {
        match held {
            Held::Nothing => Requirement::Absent,
            Held::Item(version) => Requirement::Item(version),
            Held::Tombstone(version) => Requirement::Tombstone(version),
        }
    }

    /// The requirement of a precondition.
    pub(crate) fn of(expect: Expect) -> Self {
        match expect {
            Expect::Absent => Requirement::Absent,
            Expect::At(version) => Requirement::Item(version),
            Expect::Tombstone(version) => Requirement::Tombstone(version),
            // `Any`, and whatever core adds later: no condition on the state.
            _ => Requirement::Always,
        }
    }

    /// The state the key held when a request under this requirement applied, where the
    /// requirement names exactly one.
    pub(crate) fn state(self) -> Option<Held> {
        match self {
            Requirement::Absent => Some(Held::Nothing),
            Requirement::Item(version) => Some(Held::Item(version)),
            Requirement::Tombstone(version) => Some(Held::Tombstone(version)),
            Requirement::NoTombstone | Requirement::Never | Requirement::Always => None,
        }
    }

    /// Whether a key holding nothing meets it. When a condition that nothing does not
    /// meet fails without an item, the service says that there is none.
    pub(crate) fn admits_nothing(self) -> bool {
        matches!(
            self,
            Requirement::Absent | Requirement::NoTombstone | Requirement::Always
        )
    }
}

/// A condition expression with its placeholders.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Condition {
    pub(crate) expression: String,
    pub(crate) names: HashMap<String, String>,
    pub(crate) values: Option<HashMap<String, AttributeValue>>,
}

impl Condition {
    /// The condition for `requirement`. Version 0 matches a record without the version
    /// attribute (written by another tool) and one whose version attribute is 0
    /// (contract R3).
    pub(crate) fn new(table: &TableDescription, requirement: Requirement) -> Self {
        let mut names = HashMap::new();
        let mut name = |placeholder: &str, attribute: &str| {
            names.insert(placeholder.to_string(), attribute.to_string());
        };
        let mut values = None;
        let expression = match requirement {
            Requirement::Absent => {
                name("#pk", table.partition_key());
                "attribute_not_exists(#pk)".to_string()
            }
            Requirement::Never => {
                name("#pk", table.partition_key());
                "attribute_exists(#pk) AND attribute_not_exists(#pk)".to_string()
            }
            Requirement::Always => {
                name("#pk", table.partition_key());
                "attribute_exists(#pk) OR attribute_not_exists(#pk)".to_string()
            }
            Requirement::NoTombstone => {
                name("#d", table.deleted_attribute());
                "attribute_not_exists(#d)".to_string()
            }
            Requirement::Item(version) | Requirement::Tombstone(version) => {
                name("#v", table.version_attribute());
                name("#d", table.deleted_attribute());
                values = Some(HashMap::from([(
                    ":expected".to_string(),
                    AttributeValue::N(version.get().to_string()),
                )]));
                let marker = match requirement {
                    Requirement::Tombstone(_) => "attribute_exists(#d)",
                    _ => "attribute_not_exists(#d)",
                };
                if version == Version::UNVERSIONED {
                    name("#pk", table.partition_key());
                    format!(
                        "attribute_exists(#pk) AND (attribute_not_exists(#v) OR #v = :expected) AND {marker}"
                    )
                } else {
                    // `attribute_exists(#pk)` is implied: a missing item has no #v to compare.
                    format!("#v = :expected AND {marker}")
                }
            }
        };
        Self {
            expression,
            names,
            values,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_and_tombstones_are_told_apart() {
        let table = TableDescription::new("t", "pk");
        let item = Condition::new(&table, Requirement::Item(Version::new(3)));
        assert_eq!(
            item.expression,
            "#v = :expected AND attribute_not_exists(#d)"
        );
        assert_eq!(
            item.names.get("#d").map(String::as_str),
            Some("optimist_deleted")
        );
        let tombstone = Condition::new(&table, Requirement::Tombstone(Version::new(3)));
        assert_eq!(
            tombstone.expression,
            "#v = :expected AND attribute_exists(#d)"
        );
        let unversioned = Condition::new(&table, Requirement::Item(Version::UNVERSIONED));
        assert_eq!(
            unversioned.expression,
            "attribute_exists(#pk) AND (attribute_not_exists(#v) OR #v = :expected) AND attribute_not_exists(#d)"
        );
        // Every placeholder used is defined, and every one defined is used.
        for condition in [item, tombstone, unversioned] {
            for placeholder in condition.names.keys() {
                assert!(condition.expression.contains(placeholder.as_str()));
            }
        }
    }

    #[test]
    fn requirements_name_the_state_they_require() {
        let v = Version::new(2);
        for held in [Held::Nothing, Held::Item(v), Held::Tombstone(v)] {
            assert_eq!(Requirement::held(held).state(), Some(held));
        }
        assert_eq!(
            Requirement::of(Expect::Tombstone(v)),
            Requirement::Tombstone(v)
        );
        assert_eq!(Requirement::of(Expect::Any), Requirement::Always);
        assert!(!Requirement::Item(v).admits_nothing());
        assert!(Requirement::NoTombstone.admits_nothing());
    }
}

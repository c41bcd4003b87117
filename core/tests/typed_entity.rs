//! How entities map to items: key parts, names, and errors that name no value.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use optimist_core::typed::{Entity, EntityFields, Error};
use optimist_core::{Key, Operation, Version, Versioned};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Entity, Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Order {
    #[entity(partition_key)]
    #[serde(rename = "orderId")]
    order_id: String,
    #[entity(sort_key)]
    line: i64,
    item_name: String,
    #[entity(version)]
    version_number: Option<u64>,
}

#[test]
fn fields_follow_serde_renames() {
    assert_eq!(
        Order::FIELDS,
        EntityFields {
            partition: "orderId",
            sort: Some("Line"),
            version: "VersionNumber",
        }
    );
    let order = Order {
        order_id: "o-1".into(),
        line: -2,
        item_name: "pen".into(),
        version_number: Some(3),
    };
    assert_eq!(order.key(), Key::with_sort("o-1", "-2"));
    assert_eq!(
        order.to_document(Operation::Put).unwrap(),
        json!({"ItemName": "pen"})
    );
    let item = Versioned::new(json!({"ItemName": "pen"}), Version::new(3));
    let back = Order::from_item(&Key::with_sort("o-1", "-2"), item, Operation::Get).unwrap();
    assert_eq!(back, order);
}

#[test]
fn a_key_of_the_wrong_shape_or_type_does_not_decode() {
    let item = || Versioned::new(json!({"ItemName": "pen"}), Version::FIRST);
    for key in [Key::new("o-1"), Key::with_sort("o-1", "not-a-number")] {
        let err = Order::from_item(&key, item(), Operation::Get).unwrap_err();
        assert!(matches!(err, Error::Serialization { .. }), "{err:?}");
    }
}

#[test]
fn a_stored_value_that_does_not_fit_is_a_serialization_error_without_the_value() {
    // The document is a string where an object is needed.
    let not_object = Versioned::new(json!("secret-text-123"), Version::FIRST);
    let key = Key::with_sort("o-1", "1");
    let err = Order::from_item(&key, not_object, Operation::Get).unwrap_err();
    assert!(!err.to_string().contains("secret-text-123"));

    let wrong_type = Versioned::new(json!({"ItemName": ["secret-text-123"]}), Version::FIRST);
    let err = Order::from_item(&key, wrong_type, Operation::Get).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("secret-text-123"), "{shown}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "serde's error is kept as the source"
    );
}

//! The strict check every test client carries (`common/strict.rs`) refuses what the
//! service refuses: a check that let everything through would prove nothing.

#![allow(clippy::unwrap_used, clippy::panic)] // tests fail by panicking

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use common::strict::violations;
use serde_json::json;

fn one(operation: &str, body: serde_json::Value) -> String {
    let broken = violations(operation, &body);
    assert_eq!(broken.len(), 1, "{broken:?}");
    broken.into_iter().next().unwrap()
}

#[test]
fn a_request_that_keeps_the_rules_passes() {
    let update = json!({
        "TableName": "t",
        "Key": {"pk": {"S": "a"}},
        "UpdateExpression": "SET #v = :v, #d = if_not_exists(#d, :d)",
        "ConditionExpression": "attribute_exists(#pk) AND #v = :old",
        "ExpressionAttributeNames": {"#v": "version", "#d": "data", "#pk": "pk"},
        "ExpressionAttributeValues": {":v": {"N": "2"}, ":d": {"S": "x"}, ":old": {"N": "1"}}
    });
    assert_eq!(violations("UpdateItem", &update), Vec::<String>::new());
    let put = json!({
        "TableName": "t",
        "Item": {"pk": {"S": "a"}},
        "ConditionExpression": "attribute_not_exists(#pk)",
        "ExpressionAttributeNames": {"#pk": "pk"}
    });
    assert_eq!(violations("PutItem", &put), Vec::<String>::new());
}

#[test]
fn placeholders_defined_and_unused_or_used_and_undefined_are_refused() {
    let unused = one(
        "PutItem",
        json!({
            "TableName": "t",
            "Item": {"pk": {"S": "a"}},
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": "pk", "#v": "version"}
        }),
    );
    assert!(unused.contains("#v, unused"), "{unused}");
    let undefined = one(
        "DeleteItem",
        json!({
            "TableName": "t",
            "Key": {"pk": {"S": "a"}},
            "ConditionExpression": "#v = :v",
            "ExpressionAttributeNames": {"#v": "version"}
        }),
    );
    assert!(undefined.contains(":v is used"), "{undefined}");
    let empty = one(
        "GetItem",
        json!({
            "TableName": "t",
            "Key": {"pk": {"S": "a"}},
            "ExpressionAttributeNames": {}
        }),
    );
    assert!(empty.contains("must not be empty"), "{empty}");
}

#[test]
fn an_attribute_named_bare_is_refused() {
    let bare = one(
        "Query",
        json!({
            "TableName": "t",
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "a"}}
        }),
    );
    assert!(bare.contains("`pk` bare"), "{bare}");
}

#[test]
fn a_function_name_used_as_an_attribute_is_bare() {
    let bare = one(
        "Scan",
        json!({
            "TableName": "t",
            "FilterExpression": "size > :n",
            "ExpressionAttributeValues": {":n": {"N": "1"}}
        }),
    );
    assert!(bare.contains("`size` bare"), "{bare}");
    let called = json!({
        "TableName": "t",
        "FilterExpression": "size (#a) > :n AND (#a <> :n OR NOT (#a = :n))",
        "ExpressionAttributeNames": {"#a": "a"},
        "ExpressionAttributeValues": {":n": {"N": "1"}}
    });
    assert_eq!(violations("Scan", &called), Vec::<String>::new());
}

#[test]
fn an_empty_key_attribute_is_refused() {
    let empty = one(
        "GetItem",
        json!({"TableName": "t", "Key": {"pk": {"S": ""}}}),
    );
    assert!(empty.contains("pk is empty"), "{empty}");
    // A put's key, read from its item by the table's key schema.
    violations(
        "CreateTable",
        &json!({"TableName": "strict-put", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}),
    );
    let put = json!({"TableName": "strict-put", "Item": {"pk": {"S": ""}, "v": {"N": "1"}}});
    let empty = one("PutItem", put);
    assert!(empty.contains("pk is empty"), "{empty}");
}

#[test]
fn two_actions_on_one_item_in_a_transaction_are_refused() {
    violations(
        "CreateTable",
        &json!({"TableName": "strict-t", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}),
    );
    let twice = one(
        "TransactWriteItems",
        json!({"TransactItems": [
            {"Put": {"TableName": "strict-t", "Item": {"pk": {"S": "a"}, "v": {"N": "1"}}}},
            {"Delete": {"TableName": "strict-t", "Key": {"pk": {"S": "a"}}}}
        ]}),
    );
    assert!(twice.contains("a second action"), "{twice}");
}

#[test]
fn batches_past_their_limits_or_with_a_key_twice_are_refused() {
    let twice = one(
        "BatchGetItem",
        json!({"RequestItems": {"t": {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "a"}}]}}}),
    );
    assert!(twice.contains("asked for twice"), "{twice}");
    let keys: Vec<_> = (0..101)
        .map(|i| json!({"pk": {"S": i.to_string()}}))
        .collect();
    let many = one(
        "BatchGetItem",
        json!({"RequestItems": {"t": {"Keys": keys}}}),
    );
    assert!(many.contains("101 keys"), "{many}");
    let writes: Vec<_> = (0..26)
        .map(|i| json!({"DeleteRequest": {"Key": {"pk": {"S": i.to_string()}}}}))
        .collect();
    let many = one("BatchWriteItem", json!({"RequestItems": {"t": writes}}));
    assert!(many.contains("26 requests"), "{many}");
}

/// The check is on the wire path of the test clients: a request that breaks a rule
/// never leaves, and fails its test.
#[tokio::test]
async fn the_test_clients_check_what_they_send() {
    let client = match common::client() {
        Ok(client) => client,
        Err(why) => return common::unavailable("the_test_clients_check_what_they_send", why),
    };
    let sent = tokio::spawn(async move {
        client
            .get_item()
            .table_name("strict-requests-no-such-table")
            .key("pk", AttributeValue::S("a".to_string()))
            .projection_expression("#a")
            .send()
            .await
    })
    .await;
    let Err(refused) = sent else {
        panic!("the request went out: {sent:?}");
    };
    let panic = refused.into_panic();
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or_default();
    assert!(message.contains("#a is used, not defined"), "{message}");
}

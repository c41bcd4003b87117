//! What DynamoDB itself refuses in a request and a lenient emulator (moto) may let
//! through, checked on every request a test client sends: the tests' clients carry
//! [`StrictRequests`], so the whole suite runs as against a strict service. A request
//! that breaks a rule panics the test, naming the rule and the request. The rules
//! hold for the requests the tests send themselves, playing other clients, too.
//!
//! The rules, each a `ValidationException` of the service:
//! - in each expression scope (an operation, one action of a transaction, one table of
//!   a `BatchGetItem`), every placeholder an expression uses (`#name`, `:value`) is
//!   defined, every one defined is used, and the maps of placeholders are not empty;
//! - no attribute is named bare in an expression: a reserved word (`data`, `size`,
//!   `name`, hundreds more) would be refused, so the store names every attribute
//!   through a placeholder (a rule of ours, stricter than the service's);
//! - no key attribute is an empty string or binary (a `Put`'s key read from its item,
//!   by the key schema of the table's `CreateTable` this process sent);
//! - a `BatchGetItem` asks for at most 100 keys, a `BatchWriteItem` for at most 25
//!   requests, each key once; a transaction has at most 100 actions, each on its own
//!   item.

#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use serde_json::{Map, Value};

/// The interceptor: checks each request before it is sent.
#[derive(Debug, Default)]
pub struct StrictRequests;

impl Intercept for StrictRequests {
    fn name(&self) -> &'static str {
        "strict-requests"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let Some(target) = request.headers().get("x-amz-target") else {
            return Ok(());
        };
        let operation = target.rsplit('.').next().unwrap_or(target).to_string();
        let Some(bytes) = request.body().bytes() else {
            return Ok(());
        };
        let Ok(body) = serde_json::from_slice::<Value>(bytes) else {
            panic!("strict DynamoDB: {operation} body is not JSON");
        };
        let broken = violations(&operation, &body);
        assert!(
            broken.is_empty(),
            "strict DynamoDB would refuse this {operation} (ValidationException): {}\nrequest: {body}",
            broken.join("; ")
        );
        Ok(())
    }
}

/// The key attributes of the tables this process created, by table name.
static KEY_SCHEMAS: Mutex<Option<HashMap<String, Vec<String>>>> = Mutex::new(None);

/// The rules `operation`'s request `body` breaks; empty when it keeps them all.
pub fn violations(operation: &str, body: &Value) -> Vec<String> {
    let mut broken = Vec::new();
    match operation {
        "CreateTable" => learn_key_schema(body),
        "GetItem" | "PutItem" | "UpdateItem" | "DeleteItem" | "Query" | "Scan" => {
            scope(operation, body, &mut broken);
            let table = body.get("TableName").and_then(Value::as_str).unwrap_or("");
            if let Some(key) = key_of(table, body) {
                key_values(&key, &mut broken);
            }
        }
        "TransactWriteItems" | "TransactGetItems" => transaction(body, &mut broken),
        "BatchGetItem" => batch_get(body, &mut broken),
        "BatchWriteItem" => batch_write(body, &mut broken),
        _ => {}
    }
    broken
}

fn learn_key_schema(body: &Value) {
    let (Some(table), Some(schema)) = (
        body.get("TableName").and_then(Value::as_str),
        body.get("KeySchema").and_then(Value::as_array),
    ) else {
        return;
    };
    let names = schema
        .iter()
        .filter_map(|element| element.get("AttributeName").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    KEY_SCHEMAS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(HashMap::new)
        .insert(table.to_string(), names);
}

/// The key `request` names in `table`: its `Key`, or the key attributes of its `Item`
/// if this process created the table (and so knows its key schema).
fn key_of(table: &str, request: &Value) -> Option<Value> {
    if let Some(key) = request.get("Key") {
        return Some(key.clone());
    }
    let item = request.get("Item")?.as_object()?;
    let schemas = KEY_SCHEMAS.lock().unwrap_or_else(PoisonError::into_inner);
    let names = schemas.as_ref()?.get(table)?;
    let key: Map<String, Value> = names
        .iter()
        .filter_map(|name| Some((name.clone(), item.get(name)?.clone())))
        .collect();
    Some(Value::Object(key))
}

const EXPRESSIONS: [&str; 5] = [
    "ConditionExpression",
    "UpdateExpression",
    "ProjectionExpression",
    "KeyConditionExpression",
    "FilterExpression",
];

/// The keywords an expression may hold besides placeholders (any letter case).
const KEYWORDS: [&str; 9] = [
    "and", "or", "not", "between", "in", "set", "remove", "add", "delete",
];

/// The functions, each a name followed by `(`.
const FUNCTIONS: [&str; 8] = [
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "size",
    "if_not_exists",
    "list_append",
];

/// The placeholder rules in one expression scope: `what` names it in a violation.
fn scope(what: &str, object: &Value, broken: &mut Vec<String>) {
    let mut used_names = BTreeSet::new();
    let mut used_values = BTreeSet::new();
    for field in EXPRESSIONS {
        let Some(expression) = object.get(field).and_then(Value::as_str) else {
            continue;
        };
        for (token, called) in tokens(expression) {
            match token.chars().next() {
                Some('#') => {
                    used_names.insert(token);
                }
                Some(':') => {
                    used_values.insert(token);
                }
                Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                    // A keyword may precede a parenthesis (`AND (`); a function is
                    // one only when called.
                    let grammar = KEYWORDS.contains(&token.to_ascii_lowercase().as_str())
                        || (called && FUNCTIONS.contains(&token.as_str()));
                    if !grammar {
                        broken.push(format!("{what}: {field} names attribute `{token}` bare"));
                    }
                }
                _ => {}
            }
        }
    }
    placeholders(
        what,
        object,
        "ExpressionAttributeNames",
        &used_names,
        broken,
    );
    placeholders(
        what,
        object,
        "ExpressionAttributeValues",
        &used_values,
        broken,
    );
}

fn placeholders(
    what: &str,
    object: &Value,
    field: &str,
    used: &BTreeSet<String>,
    broken: &mut Vec<String>,
) {
    let defined: BTreeSet<String> = match object.get(field) {
        None | Some(Value::Null) => BTreeSet::new(),
        Some(Value::Object(map)) if map.is_empty() => {
            broken.push(format!("{what}: {field} must not be empty"));
            BTreeSet::new()
        }
        Some(Value::Object(map)) => map.keys().cloned().collect(),
        Some(other) => {
            broken.push(format!("{what}: {field} is not a map: {other}"));
            BTreeSet::new()
        }
    };
    for unused in defined.difference(used) {
        broken.push(format!(
            "{what}: {field} defines {unused}, unused in expressions"
        ));
    }
    for undefined in used.difference(&defined) {
        broken.push(format!(
            "{what}: {undefined} is used, not defined in {field}"
        ));
    }
}

/// The words of an expression: placeholders (`#a`, `:b`), names, numbers, each with
/// whether a `(` follows it (a function call); the punctuation between them dropped.
fn tokens(expression: &str) -> Vec<(String, bool)> {
    let mut words: Vec<(String, usize)> = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (at, c) in expression.char_indices() {
        let starts = c == '#' || c == ':';
        if c.is_ascii_alphanumeric() || c == '_' || (starts && current.is_empty()) {
            if current.is_empty() {
                start = at;
            }
            current.push(c);
        } else {
            if !current.is_empty() {
                words.push((std::mem::take(&mut current), start));
            }
            if starts {
                start = at;
                current.push(c);
            }
        }
    }
    if !current.is_empty() {
        words.push((current, start));
    }
    words
        .into_iter()
        .map(|(word, start)| {
            let after = &expression[start + word.len()..];
            let called = after.trim_start().starts_with('(');
            (word, called)
        })
        .collect()
}

/// Key attributes that are an empty string or binary.
fn key_values(key: &Value, broken: &mut Vec<String>) {
    let Some(key) = key.as_object() else {
        broken.push(format!("Key is not a map: {key}"));
        return;
    };
    for (name, value) in key {
        let empty = ["S", "B"]
            .iter()
            .any(|kind| value.get(kind).and_then(Value::as_str) == Some(""));
        if empty {
            broken.push(format!("key attribute {name} is empty"));
        }
    }
}

fn transaction(body: &Value, broken: &mut Vec<String>) {
    let actions = body
        .get("TransactItems")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if actions.is_empty() || actions.len() > 100 {
        broken.push(format!(
            "{} actions in a transaction (1 to 100)",
            actions.len()
        ));
    }
    let mut items = BTreeSet::new();
    for (i, action) in actions.iter().enumerate() {
        let Some((kind, body)) = action.as_object().and_then(|a| a.iter().next()) else {
            broken.push(format!("action {i} is empty"));
            continue;
        };
        let what = format!("action {i} ({kind})");
        scope(&what, body, broken);
        let table = body.get("TableName").and_then(Value::as_str).unwrap_or("");
        if let Some(key) = key_of(table, body) {
            key_values(&key, broken);
            if !items.insert((table.to_string(), key.to_string())) {
                broken.push(format!(
                    "{what}: a second action on the item {key} of {table}"
                ));
            }
        }
    }
}

fn batch_get(body: &Value, broken: &mut Vec<String>) {
    let tables = body.get("RequestItems").and_then(Value::as_object);
    let mut total = 0;
    for (table, request) in tables.into_iter().flatten() {
        scope(&format!("table {table}"), request, broken);
        let keys = request.get("Keys").and_then(Value::as_array);
        let mut seen = BTreeSet::new();
        for key in keys.into_iter().flatten() {
            total += 1;
            key_values(key, broken);
            if !seen.insert(key.to_string()) {
                broken.push(format!("table {table}: the key {key} asked for twice"));
            }
        }
    }
    if total == 0 || total > 100 {
        broken.push(format!("{total} keys in a BatchGetItem (1 to 100)"));
    }
}

fn batch_write(body: &Value, broken: &mut Vec<String>) {
    let tables = body.get("RequestItems").and_then(Value::as_object);
    let mut total = 0;
    for (table, requests) in tables.into_iter().flatten() {
        let mut seen = BTreeSet::new();
        for request in requests.as_array().into_iter().flatten() {
            total += 1;
            let write = request
                .get("DeleteRequest")
                .or_else(|| request.get("PutRequest"));
            if let Some(key) = write.and_then(|write| key_of(table, write)) {
                key_values(&key, broken);
                if !seen.insert(key.to_string()) {
                    broken.push(format!("table {table}: the key {key} written twice"));
                }
            }
        }
    }
    if total == 0 || total > 25 {
        broken.push(format!("{total} requests in a BatchWriteItem (1 to 25)"));
    }
}

//! JSON documents as native DynamoDB items, and back.
//!
//! A document's fields become top-level attributes: strings `S`, numbers `N`, booleans
//! `BOOL`, null `NULL`, arrays `L`, objects `M`. The key parts go in the key attributes
//! (`S`) and the version in the version attribute (`N`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use optimist_core::{Key, StorageError, Value, Version, Versioned};
use serde_json::{Map, Number};

use crate::TableDescription;
use crate::error::unreadable;

/// An item as the SDK holds it.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// The key attributes of `key`.
pub(crate) fn key_item(table: &TableDescription, key: &Key) -> Item {
    let mut item = HashMap::with_capacity(2);
    item.insert(
        table.partition_key().to_string(),
        AttributeValue::S(key.partition().to_string()),
    );
    if let (Some(name), Some(sort)) = (table.sort_key(), key.sort()) {
        item.insert(name.to_string(), AttributeValue::S(sort.to_string()));
    }
    item
}

/// The whole item: key attributes, the document's fields and the version.
/// The document is an object without reserved names (checked before).
pub(crate) fn full_item(
    table: &TableDescription,
    key: &Key,
    document: &Value,
    version: Version,
) -> Item {
    let mut item = key_item(table, key);
    if let Value::Object(fields) = document {
        item.extend(fields.iter().map(|(k, v)| (k.clone(), to_attribute(v))));
    }
    item.insert(
        table.version_attribute().to_string(),
        AttributeValue::N(version.get().to_string()),
    );
    item
}

/// A JSON value as an attribute value.
pub(crate) fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(number_text(n)),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(to_attribute).collect()),
        Value::Object(fields) => AttributeValue::M(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_attribute(v)))
                .collect(),
        ),
    }
}

/// A number as DynamoDB text: integers as they are, floats in the shortest scientific
/// form that reads back to the same bits (`{:e}` is shortest round-trip in Rust).
pub(crate) fn number_text(number: &Number) -> String {
    if let Some(i) = number.as_u64() {
        i.to_string()
    } else if let Some(i) = number.as_i64() {
        i.to_string()
    } else {
        format!("{:e}", number.as_f64().unwrap_or(0.0))
    }
}

/// DynamoDB number text as a JSON number: an integer when it is one that fits i64 or
/// u64, otherwise the nearest f64 (exact for every number this backend wrote).
pub(crate) fn parse_number(text: &str) -> Result<Number, String> {
    let text = text.trim();
    if let Ok(i) = text.parse::<u64>() {
        return Ok(Number::from(i));
    }
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Number::from(i));
    }
    let float: f64 = text
        .parse()
        .map_err(|_| format!("number attribute {text:?} is not a decimal number"))?;
    Number::from_f64(float).ok_or_else(|| format!("number attribute {text:?} is not finite"))
}

/// An attribute value as JSON. Types this backend never writes, from other tools, read
/// as the closest JSON: string and number sets as arrays, binary as base64 strings.
pub(crate) fn from_attribute(value: &AttributeValue) -> Result<Value, String> {
    Ok(match value {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => Value::Number(parse_number(n)?),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::L(items) => {
            Value::Array(items.iter().map(from_attribute).collect::<Result<_, _>>()?)
        }
        AttributeValue::M(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| Ok((k.clone(), from_attribute(v)?)))
                .collect::<Result<Map<_, _>, String>>()?,
        ),
        AttributeValue::Ss(items) => {
            Value::Array(items.iter().cloned().map(Value::String).collect())
        }
        AttributeValue::Ns(items) => Value::Array(
            items
                .iter()
                .map(|n| parse_number(n).map(Value::Number))
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::B(blob) => Value::String(aws_smithy_types::base64::encode(blob.as_ref())),
        AttributeValue::Bs(blobs) => Value::Array(
            blobs
                .iter()
                .map(|b| Value::String(aws_smithy_types::base64::encode(b.as_ref())))
                .collect(),
        ),
        _ => {
            return Err("the item holds an attribute of a type this SDK does not know".to_string());
        }
    })
}

/// The version an item holds: its version attribute, or 0 when it has none (an item
/// written by another tool, contract R3).
pub(crate) fn version_of(table: &TableDescription, item: &Item) -> Result<Version, String> {
    match item.get(table.version_attribute()) {
        None | Some(AttributeValue::Null(_)) => Ok(Version::UNVERSIONED),
        Some(AttributeValue::N(n)) => n.trim().parse::<u64>().map(Version::new).map_err(|_| {
            format!(
                "version attribute {:?} holds {n:?}, which is not an unsigned 64-bit integer",
                table.version_attribute()
            )
        }),
        Some(_) => Err(format!(
            "version attribute {:?} is not a number",
            table.version_attribute()
        )),
    }
}

/// The item of `key` as the engine knows it, from what the service returned; an item
/// this backend cannot read is corrupt storage.
pub(crate) fn decode(
    table: &TableDescription,
    key: &Key,
    item: &Item,
) -> Result<Versioned<Value>, StorageError> {
    from_item(table, item).map_err(|reason| unreadable(key, reason))
}

/// The document and version an item holds: every attribute but the key and version.
pub(crate) fn from_item(table: &TableDescription, item: &Item) -> Result<Versioned<Value>, String> {
    let version = version_of(table, item)?;
    let reserved = table.reserved_attributes();
    let mut fields = Map::new();
    for (name, value) in item {
        if !reserved.contains(&name.as_str()) {
            fields.insert(name.clone(), from_attribute(value)?);
        }
    }
    Ok(Versioned::new(Value::Object(fields), version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round(value: Value) -> Value {
        from_attribute(&to_attribute(&value)).unwrap_or(Value::Null)
    }

    #[test]
    fn numbers_round_trip_exactly() {
        for n in [
            json!(0),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(0.1),
            json!(-2.5e-3),
            json!(1e125),
            json!(-1e-130),
            json!(f64::EPSILON),
            json!(1.000_000_000_000_000_2),
            json!(std::f64::consts::PI),
        ] {
            assert_eq!(round(n.clone()), n, "{n}");
        }
        assert_eq!(round(json!(1.0)), json!(1.0));
        // DynamoDB normalizes "1e0" to "1", which reads as an integer (contract R2 allows it).
        assert_eq!(parse_number("1").ok(), Some(Number::from(1)));
        assert_eq!(
            number_text(&Number::from_f64(1e21).unwrap_or_else(|| 0.into())),
            "1e21"
        );
        assert_eq!(
            parse_number("100000000000000000000").ok(),
            Number::from_f64(1e20)
        );
    }

    #[test]
    fn documents_become_attributes() {
        let table = TableDescription::new("t", "Id").with_version_attribute("VersionNumber");
        let doc = json!({"title": "Dune", "tags": ["a"], "meta": {"n": null, "ok": true}});
        let item = full_item(&table, &Key::new("k"), &doc, Version::new(3));
        assert_eq!(item.get("Id"), Some(&AttributeValue::S("k".into())));
        assert_eq!(
            item.get("VersionNumber"),
            Some(&AttributeValue::N("3".into()))
        );
        assert_eq!(item.get("title"), Some(&AttributeValue::S("Dune".into())));
        let back = from_item(&table, &item).ok();
        assert_eq!(back, Some(Versioned::new(doc, Version::new(3))));
    }

    #[test]
    fn missing_version_reads_as_zero() {
        let table = TableDescription::new("t", "pk");
        let item: Item = [("pk".to_string(), AttributeValue::S("k".into()))].into();
        assert_eq!(version_of(&table, &item), Ok(Version::UNVERSIONED));
        let bad: Item = [("version".to_string(), AttributeValue::N("1.5".into()))].into();
        assert!(version_of(&table, &bad).is_err());
    }
}

//! JSON documents as native DynamoDB items, and back.
//!
//! A document's fields become top-level attributes: strings `S`, numbers `N`, booleans
//! `BOOL`, null `NULL`, arrays `L`, objects `M`. The key parts go in the key attributes
//! (`S`), the version in the version attribute (`N`) and the write token in the token
//! attribute (`S`). A tombstone holds the key, the version, the token, the deletion
//! time in the deleted attribute (`N`, which marks it a tombstone) and, when the store
//! sets a retention, the TTL expiry (`N`); no document attribute.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use optimist_core::{Key, Record, StorageError, Value, Version, WriteToken};
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

/// The whole item: key attributes, the document's fields, the version and the token
/// of the write storing it. The document is an object without reserved names
/// (checked before).
pub(crate) fn full_item(
    table: &TableDescription,
    key: &Key,
    document: &Value,
    version: Version,
    token: WriteToken,
) -> Item {
    let mut item = key_item(table, key);
    if let Value::Object(fields) = document {
        item.extend(fields.iter().map(|(k, v)| (k.clone(), to_attribute(v))));
    }
    stamp(table, &mut item, version, token);
    item
}

/// The tombstone a delete leaves in tombstone mode: the key attributes, the deleted
/// item's version, the delete's token, the deletion time in milliseconds since the
/// epoch (the marker) and, with a retention, the TTL expiry in seconds since the epoch.
pub(crate) fn tombstone_item(
    table: &TableDescription,
    key: &Key,
    version: Version,
    token: WriteToken,
    deleted_at: SystemTime,
    retention: Option<Duration>,
) -> Item {
    let mut item = key_item(table, key);
    stamp(table, &mut item, version, token);
    let since_epoch = deleted_at.duration_since(UNIX_EPOCH).unwrap_or_default();
    item.insert(
        table.deleted_attribute().to_string(),
        AttributeValue::N(since_epoch.as_millis().to_string()),
    );
    if let Some(retention) = retention {
        let expires = since_epoch.saturating_add(retention).as_secs();
        item.insert(
            table.ttl_attribute().to_string(),
            AttributeValue::N(expires.to_string()),
        );
    }
    item
}

/// Adds the version and the token.
fn stamp(table: &TableDescription, item: &mut Item, version: Version, token: WriteToken) {
    item.insert(
        table.version_attribute().to_string(),
        AttributeValue::N(version.get().to_string()),
    );
    item.insert(
        table.token_attribute().to_string(),
        AttributeValue::S(token_text(token, version)),
    );
}

/// The token attribute's text: the token, `@`, and the version the write left.
///
/// Other clients update items in place (an `UpdateItem` that sets their attributes
/// and `version = version + 1`, as boto3 and PynamoDB do), which keeps attributes they
/// do not know, our token among them. The version in the text tells such an item apart: its version moved on
/// without us, so the record is theirs, and reads as written by no token of ours.
pub(crate) fn token_text(token: WriteToken, version: Version) -> String {
    format!("{token}@{}", version.get())
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

/// The token of the write that left an item at `version`: `None` when it has no token
/// attribute (written by another client), or one written at another version (updated
/// in place by another client since, see [`token_text`]).
pub(crate) fn token_of(
    table: &TableDescription,
    item: &Item,
    version: Version,
) -> Result<Option<WriteToken>, String> {
    let name = table.token_attribute();
    let text = match item.get(name) {
        None | Some(AttributeValue::Null(_)) => return Ok(None),
        Some(AttributeValue::S(text)) => text,
        Some(_) => return Err(format!("token attribute {name:?} is not a string")),
    };
    let malformed = || format!("token attribute {name:?} holds {text:?}, not TOKEN@VERSION");
    let (token, written_at) = text.split_once('@').ok_or_else(malformed)?;
    let token: WriteToken = token.parse().map_err(|_| malformed())?;
    let written_at: u64 = written_at.parse().map_err(|_| malformed())?;
    if written_at != version.get() {
        tracing::debug!(
            written_at,
            version = version.get(),
            "the item's token is from an earlier version: another client updated it in place"
        );
        return Ok(None);
    }
    Ok(Some(token))
}

/// Whether an item is a tombstone: it holds the deleted attribute, whatever its type
/// and whatever else the item holds (the conditions judge it the same way, by
/// `attribute_exists`).
pub(crate) fn is_tombstone(table: &TableDescription, item: &Item) -> bool {
    item.contains_key(table.deleted_attribute())
}

/// The record of `key` as the engine knows it, from what the service returned; an item
/// this backend cannot read is corrupt storage.
pub(crate) fn decode(
    table: &TableDescription,
    key: &Key,
    item: &Item,
) -> Result<Record, StorageError> {
    from_item(table, item).map_err(|reason| unreadable(key, reason))
}

/// The key an item holds in the table's key attributes (both `S`): with a sort part
/// exactly when the table has a sort key. For the items a `BatchGetItem`, `Query` or
/// `Scan` answers, and their `LastEvaluatedKey`.
pub(crate) fn key_of(table: &TableDescription, item: &Item) -> Result<Key, String> {
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(text)) => Ok(text.clone()),
        Some(_) => Err(format!("key attribute {name:?} is not a string")),
        None => Err(format!("the item has no key attribute {name:?}")),
    };
    let partition = text(table.partition_key())?;
    match table.sort_key() {
        Some(sort_key) => Ok(Key::with_sort(partition, text(sort_key)?)),
        None => Ok(Key::new(partition)),
    }
}

/// The key of an item the service answered, or the item is corrupt storage.
pub(crate) fn answered_key(table: &TableDescription, item: &Item) -> Result<Key, StorageError> {
    key_of(table, item)
        .map_err(|reason| StorageError::corrupt(crate::DynamoDbError::UnreadableItem(reason)))
}

/// The record an item holds: a tombstone (version and token), or the document (every
/// attribute but the reserved ones), version and token.
pub(crate) fn from_item(table: &TableDescription, item: &Item) -> Result<Record, String> {
    let version = version_of(table, item)?;
    let token = token_of(table, item, version)?;
    if is_tombstone(table, item) {
        return Ok(Record::tombstone(version).with_token(token));
    }
    let reserved = table.reserved_attributes();
    let mut fields = Map::new();
    for (name, value) in item {
        if !reserved.contains(&name.as_str()) {
            fields.insert(name.clone(), from_attribute(value)?);
        }
    }
    Ok(Record::item(Value::Object(fields), version).with_token(token))
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
        let token = WriteToken::from_u128(0xabc);
        let item = full_item(&table, &Key::new("k"), &doc, Version::new(3), token);
        assert_eq!(item.get("Id"), Some(&AttributeValue::S("k".into())));
        assert_eq!(
            item.get("VersionNumber"),
            Some(&AttributeValue::N("3".into()))
        );
        assert_eq!(item.get("title"), Some(&AttributeValue::S("Dune".into())));
        assert_eq!(
            item.get("optimist_token"),
            Some(&AttributeValue::S(format!("{token}@3")))
        );
        let back = from_item(&table, &item).ok();
        let record = Record::item(doc, Version::new(3)).with_token(Some(token));
        assert_eq!(back, Some(record));
    }

    #[test]
    fn a_tombstone_holds_version_token_deletion_time_and_expiry() {
        let table = TableDescription::new("t", "pk");
        let token = WriteToken::from_u128(7);
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let day = Duration::from_secs(86_400);
        let item = tombstone_item(
            &table,
            &Key::new("k"),
            Version::new(4),
            token,
            at,
            Some(day),
        );
        assert_eq!(
            item.get("optimist_deleted"),
            Some(&AttributeValue::N("1700000000123".into()))
        );
        assert_eq!(
            item.get("optimist_expires"),
            Some(&AttributeValue::N((1_700_000_000 + 86_400).to_string()))
        );
        assert_eq!(
            item.len(),
            5,
            "key, version, token, deleted, expires: {item:?}"
        );
        let record = Record::tombstone(Version::new(4)).with_token(Some(token));
        assert_eq!(from_item(&table, &item), Ok(record));
        let kept = tombstone_item(&table, &Key::new("k"), Version::new(4), token, at, None);
        assert!(!kept.contains_key("optimist_expires"));
    }

    #[test]
    fn an_item_without_a_token_reads_as_nobodys_and_a_bad_token_is_unreadable() {
        let table = TableDescription::new("t", "pk");
        let foreign: Item = [
            ("pk".to_string(), AttributeValue::S("k".into())),
            ("version".to_string(), AttributeValue::N("2".into())),
            ("a".to_string(), AttributeValue::S("x".into())),
        ]
        .into();
        let record = from_item(&table, &foreign).ok();
        assert_eq!(
            record,
            Some(Record::item(json!({"a": "x"}), Version::new(2)))
        );
        for bad in [
            "not hex@2",
            "ABCDEF00000000000000000000000000@2",
            "abcdef00000000000000000000000000",
            "abcdef00000000000000000000000000@two",
        ] {
            let mut item = foreign.clone();
            item.insert("optimist_token".to_string(), AttributeValue::S(bad.into()));
            assert!(from_item(&table, &item).is_err(), "{bad:?}");
        }
        let mut item = foreign.clone();
        item.insert("optimist_token".to_string(), AttributeValue::N("1".into()));
        assert!(from_item(&table, &item).is_err());
    }

    #[test]
    fn a_token_from_an_earlier_version_is_not_the_records() {
        // Another client's `UpdateItem` moved the version on and kept our attribute.
        let table = TableDescription::new("t", "pk");
        let token = WriteToken::from_u128(9);
        let mut item = full_item(&table, &Key::new("k"), &json!({}), Version::new(3), token);
        assert_eq!(from_item(&table, &item).map(|r| r.token), Ok(Some(token)));
        item.insert("version".to_string(), AttributeValue::N("4".into()));
        assert_eq!(from_item(&table, &item).map(|r| r.token), Ok(None));
    }

    #[test]
    fn an_items_key_comes_from_the_key_attributes() {
        let sorted = TableDescription::new("t", "pk").with_sort_key("sk");
        let item = full_item(
            &sorted,
            &Key::with_sort("p", "s"),
            &json!({"pk2": 1}),
            Version::new(1),
            WriteToken::from_u128(1),
        );
        assert_eq!(key_of(&sorted, &item), Ok(Key::with_sort("p", "s")));
        let hash_only = TableDescription::new("t", "pk");
        assert_eq!(key_of(&hash_only, &item), Ok(Key::new("p")));
        let mut numbered = item.clone();
        numbered.insert("sk".to_string(), AttributeValue::N("1".into()));
        assert!(key_of(&sorted, &numbered).is_err());
        numbered.remove("sk");
        assert!(key_of(&sorted, &numbered).is_err());
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

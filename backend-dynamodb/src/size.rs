//! DynamoDB's own item-size rule, checked before sending.
//!
//! DynamoDB counts an item as the UTF-8 bytes of every attribute name plus the size of
//! every value: strings their bytes, numbers about one byte per two significant digits
//! plus one, booleans and null one byte, lists and maps three bytes plus their
//! elements (map keys included). This count errs on the large side (one extra byte per
//! element and per number), so an item it accepts is never refused by the service.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::item::Item;

/// DynamoDB's limit on one item: 400 KB.
pub const DYNAMODB_MAX_ITEM_BYTES: usize = 400 * 1024;

/// The size DynamoDB counts for an item, rounded up.
pub(crate) fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(items) => 3 + items.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(fields) => {
            3 + fields
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::Ss(items) => items.iter().map(String::len).sum(),
        AttributeValue::Ns(items) => items.iter().map(|n| number_size(n)).sum(),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bs(bs) => bs.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

fn number_size(text: &str) -> usize {
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).count();
    (digits.div_ceil(2) + 2).min(22)
}

/// The longest nesting DynamoDB accepts inside one attribute.
pub const DYNAMODB_MAX_NESTING: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_names_and_values() {
        let item: Item = [
            ("pk".to_string(), AttributeValue::S("abc".into())),
            ("n".to_string(), AttributeValue::N("12345".into())),
            (
                "l".to_string(),
                AttributeValue::L(vec![AttributeValue::Bool(true)]),
            ),
        ]
        .into();
        assert_eq!(item_size(&item), (2 + 3) + (1 + 5) + (1 + 3 + 2));
    }
}

//! The input checks every backend runs before sending anything, so that bad input is
//! the same [`Error::InvalidInput`] on every store.
//!
//! Backends call [`key`], [`write()`] and [`transaction`] with their
//! [`Capabilities`] at the top of each operation.
//!
//! ```
//! use optimist_core::{validate, Capabilities, Key, Operation};
//! use serde_json::json;
//!
//! let caps = Capabilities::new();
//! assert!(validate::key(Operation::Get, &Key::new(""), &caps).is_err());
//! assert!(validate::write(Operation::Put, &Key::new("k"), &json!({"a": 1}), &caps).is_ok());
//! ```

mod measure;

use std::collections::HashSet;

use serde_json::{Number, Value};

use crate::{
    Capabilities, Error, Key, MAX_KEY_PART_BYTES, NumberSupport, Operation, Result, SortRange, TxOp,
};

/// Checks a key against contract R1 and the backend's key shape.
///
/// ```
/// use optimist_core::{validate, Capabilities, Key, Operation};
/// let err = validate::key(Operation::Get, &Key::with_sort("a", ""), &Capabilities::new());
/// assert!(err.unwrap_err().to_string().contains("sort part is empty"));
/// ```
pub fn key(operation: Operation, key: &Key, caps: &Capabilities) -> Result<()> {
    let (partition, sort) = key.parts();
    let fits = |part: &str| part_fault(part, caps).is_none();
    if fits(partition) && sort.is_none_or(fits) && caps.key_shape.accepts(sort.is_some()) {
        return Ok(());
    }
    key_problem(operation, key, caps)
}

/// Says what is wrong with a key [`key`] refused (out of line: the formatting stays off
/// the path of a valid key).
#[inline(never)]
fn key_problem(operation: Operation, key: &Key, caps: &Capabilities) -> Result<()> {
    let (partition, sort) = key.parts();
    let faulty = [("partition", Some(partition)), ("sort", sort)]
        .into_iter()
        .find_map(|(name, part)| Some((name, part?, part_fault(part?, caps)?)));
    if let Some((name, part, fault)) = faulty {
        let reason = match fault {
            PartFault::Empty => format!("key {name} part is empty"),
            PartFault::TooLong => format!(
                "key {name} part is {} bytes, over the limit of {MAX_KEY_PART_BYTES}",
                part.len()
            ),
            PartFault::Nul => {
                format!("key {name} part holds a NUL character, which this backend cannot store")
            }
        };
        return Err(Error::invalid(operation, Some(key), reason));
    }
    if !caps.key_shape.accepts(key.has_sort()) {
        let reason = if key.has_sort() {
            "key has a sort part but this store's keys have none"
        } else {
            "key has no sort part but this store's keys need one"
        };
        return Err(Error::invalid(operation, Some(key), reason));
    }
    Ok(())
}

/// What can be wrong with one part of a key (or with a query's partition or bound).
enum PartFault {
    Empty,
    TooLong,
    Nul,
}

/// What is wrong with one part of a key, if anything.
#[inline]
fn part_fault(part: &str, caps: &Capabilities) -> Option<PartFault> {
    if part.is_empty() {
        Some(PartFault::Empty)
    } else if part.len() > MAX_KEY_PART_BYTES {
        Some(PartFault::TooLong)
    } else if !caps.nul_in_keys && part.as_bytes().contains(&0) {
        Some(PartFault::Nul)
    } else {
        None
    }
}

/// Checks a key and the value to be written under it against the backend's limits.
///
/// ```
/// use optimist_core::{validate, Capabilities, Key, Operation};
/// use serde_json::json;
///
/// let caps = Capabilities::new().with_max_item_bytes(8);
/// let err = validate::write(Operation::Insert, &Key::new("k"), &json!("0123456789"), &caps);
/// assert!(err.unwrap_err().is_invalid_input());
/// ```
pub fn write(operation: Operation, key: &Key, value: &Value, caps: &Capabilities) -> Result<()> {
    self::key(operation, key, caps)?;
    self::value(operation, key, value, caps)
}

/// Checks a value against the backend's limits: shape, reserved fields, size, depth,
/// numbers and NUL characters.
///
/// ```
/// use optimist_core::{validate, Capabilities, Key, Operation};
/// use serde_json::json;
///
/// let caps = Capabilities::new().with_object_values_only(true);
/// let err = validate::value(Operation::Put, &Key::new("k"), &json!([1]), &caps).unwrap_err();
/// assert!(err.to_string().contains("must be a JSON object"));
/// ```
pub fn value(operation: Operation, key: &Key, value: &Value, caps: &Capabilities) -> Result<()> {
    if caps.object_values_only {
        shape(operation, key, value, caps)?;
    }
    // The bound walk reads no string's bytes; only a value it cannot pass needs the
    // exact walk, which decides and gives the error its figures.
    let key_len = key.encoded_len();
    let surely_within = caps
        .max_item_bytes
        .checked_sub(key_len)
        .is_some_and(|room| measure::within(value, room, caps.max_depth));
    if !surely_within {
        size_and_depth(operation, key, key_len, value, caps)?;
    }
    // Most backends hold every number, NUL and empty name: skip the walk over scalars then.
    if caps.numbers == NumberSupport::Full && caps.nul_in_values && caps.empty_field_names {
        return Ok(());
    }
    scalars(operation, key, value, caps)
}

/// The checks of a store that keeps values as objects: an object, no reserved field.
#[inline(never)]
fn shape(operation: Operation, key: &Key, value: &Value, caps: &Capabilities) -> Result<()> {
    let invalid = |reason: String| Err(Error::invalid(operation, Some(key), reason));
    let Value::Object(fields) = value else {
        return invalid(format!(
            "value must be a JSON object on this backend, got {}",
            kind_of(value)
        ));
    };
    if let Some(field) = caps
        .reserved_fields
        .iter()
        .find(|f| fields.contains_key(f.as_str()))
    {
        return invalid(format!(
            "value uses the field name {field:?}, which this store reserves for its key or version"
        ));
    }
    Ok(())
}

/// The checks of every number, string and field name, for a store that cannot hold
/// them all.
#[inline(never)]
fn scalars(operation: Operation, key: &Key, value: &Value, caps: &Capabilities) -> Result<()> {
    let check_numbers = caps.numbers != NumberSupport::Full;
    let mut problem = None;
    visit_scalars(value, &mut |scalar| {
        if problem.is_some() {
            return;
        }
        match scalar {
            Scalar::Number(n) if check_numbers => {
                if let Err(reason) = number_fits(n, caps.numbers) {
                    problem = Some(reason);
                }
            }
            Scalar::Name("") if !caps.empty_field_names => {
                problem = Some(
                    "value has an empty field name in an object, which this backend cannot store"
                        .to_string(),
                );
            }
            Scalar::Str(s) | Scalar::Name(s) if !caps.nul_in_values && s.contains('\0') => {
                problem = Some(
                    "value holds a string with a NUL character, which this backend cannot store"
                        .to_string(),
                );
            }
            _ => {}
        }
    });
    match problem {
        Some(reason) => Err(Error::invalid(operation, Some(key), reason)),
        None => Ok(()),
    }
}

/// The exact size and depth checks of a value (contract R2), with the measures the
/// error gives.
#[inline(never)]
fn size_and_depth(
    operation: Operation,
    key: &Key,
    key_len: usize,
    value: &Value,
    caps: &Capabilities,
) -> Result<()> {
    let invalid = |reason: String| Err(Error::invalid(operation, Some(key), reason));
    let measured = measure::measure(value);
    let size = key_len.saturating_add(measured.encoded_len);
    if size > caps.max_item_bytes {
        return invalid(format!(
            "item is {size} bytes (key plus JSON value), over the limit of {}",
            caps.max_item_bytes
        ));
    }
    let depth = measured.depth;
    if depth > caps.max_depth {
        return invalid(format!(
            "value nests {depth} levels deep, over the limit of {}",
            caps.max_depth
        ));
    }
    Ok(())
}

/// Checks a transaction: supported, not empty, within `max_transaction_ops`, no key
/// twice, every op's key and value, and one partition for all of them where the store
/// declares [`Capabilities::transactions_span_partitions`] false (contract R10).
///
/// ```
/// use optimist_core::{validate, Capabilities, Key, TxOp, Version};
///
/// let ops = vec![TxOp::remove(Key::new("a")), TxOp::check(Key::new("a"), Version::FIRST)];
/// let err = validate::transaction(&ops, &Capabilities::new()).unwrap_err();
/// assert!(err.to_string().contains("more than once"));
///
/// let one_partition = Capabilities::new().with_transactions_span_partitions(false);
/// let across = vec![TxOp::remove(Key::new("a")), TxOp::remove(Key::new("b"))];
/// let err = validate::transaction(&across, &one_partition).unwrap_err();
/// assert!(err.to_string().contains("partition"));
/// let within = vec![TxOp::remove(Key::with_sort("a", "1")), TxOp::remove(Key::with_sort("a", "2"))];
/// assert!(validate::transaction(&within, &one_partition).is_ok());
/// ```
pub fn transaction(ops: &[TxOp], caps: &Capabilities) -> Result<()> {
    let operation = Operation::Transact;
    if !caps.transactions {
        return Err(Error::Unsupported { operation });
    }
    if ops.is_empty() {
        return Err(Error::invalid(operation, None, "transaction has no ops"));
    }
    if ops.len() > caps.max_transaction_ops {
        return Err(Error::invalid(
            operation,
            None,
            format!(
                "transaction has {} ops, over this backend's limit of {}",
                ops.len(),
                caps.max_transaction_ops
            ),
        ));
    }
    let mut seen = HashSet::with_capacity(ops.len());
    for (index, op) in ops.iter().enumerate() {
        let in_op = |err: Error| match err {
            Error::InvalidInput { key, reason, .. } => Error::InvalidInput {
                operation,
                key,
                reason: format!("op {index} ({}): {reason}", op.action().operation()),
            },
            other => other,
        };
        self::key(operation, op.key(), caps).map_err(in_op)?;
        if let Some(value) = op.action().value() {
            self::value(operation, op.key(), value, caps).map_err(in_op)?;
        }
        if !seen.insert(op.key()) {
            return Err(Error::invalid(
                operation,
                Some(op.key()),
                format!("op {index}: the key appears more than once in the transaction"),
            ));
        }
    }
    if let (false, Some(first)) = (caps.transactions_span_partitions, ops.first()) {
        let first = first.key().partition();
        if let Some((index, op)) = ops
            .iter()
            .enumerate()
            .find(|(_, op)| op.key().partition() != first)
        {
            return Err(Error::invalid(
                operation,
                Some(op.key()),
                format!(
                    "op {index}: its partition differs from op 0's, and this store runs a \
                     transaction within one partition (Capabilities::transactions_span_partitions \
                     is false)"
                ),
            ));
        }
    }
    Ok(())
}

/// Checks the keys of a [`get_many`](crate::VersionedStore::get_many) (contract R16):
/// at least one, at most [`Capabilities::max_get_many`], each valid, none twice.
///
/// ```
/// use optimist_core::{validate, Capabilities, Key};
/// let caps = Capabilities::new();
/// assert!(validate::get_many(&[], &caps).is_err());
/// assert!(validate::get_many(&[Key::new("a"), Key::new("a")], &caps).is_err());
/// assert!(validate::get_many(&[Key::new("a"), Key::new("b")], &caps).is_ok());
/// ```
pub fn get_many(keys: &[Key], caps: &Capabilities) -> Result<()> {
    let operation = Operation::GetMany;
    if keys.is_empty() {
        return Err(Error::invalid(operation, None, "no keys were asked for"));
    }
    if keys.len() > caps.max_get_many {
        return Err(Error::invalid(
            operation,
            None,
            format!(
                "{} keys were asked for, over this backend's limit of {}",
                keys.len(),
                caps.max_get_many
            ),
        ));
    }
    let mut seen = HashSet::with_capacity(keys.len());
    for (index, key) in keys.iter().enumerate() {
        self::key(operation, key, caps).map_err(|err| match err {
            Error::InvalidInput { key, reason, .. } => Error::InvalidInput {
                operation,
                key,
                reason: format!("key {index}: {reason}"),
            },
            other => other,
        })?;
        if !seen.insert(key) {
            return Err(Error::invalid(
                operation,
                Some(key),
                format!("key {index} was asked for more than once"),
            ));
        }
    }
    Ok(())
}

/// Checks a [`query`](crate::VersionedStore::query) (contract R17): the store supports
/// it, the partition and every bound are valid key parts, the bounds are in order, and
/// the page limit is from 1 to [`Capabilities::max_page_size`].
///
/// ```
/// use optimist_core::{validate, Capabilities, SortRange};
/// let caps = Capabilities::new();
/// assert!(validate::query("p", &SortRange::between("b", "a"), 10, &caps).is_err());
/// assert!(validate::query("p", &SortRange::All, 0, &caps).is_err());
/// assert!(validate::query("p", &SortRange::prefix("a"), 10, &caps).is_ok());
/// ```
pub fn query(partition: &str, range: &SortRange, limit: usize, caps: &Capabilities) -> Result<()> {
    let operation = Operation::Query;
    if !caps.range_reads || !caps.key_shape.accepts(true) {
        return Err(Error::Unsupported { operation });
    }
    let invalid = |reason: String| Err(Error::invalid(operation, None, reason));
    for (name, part) in std::iter::once(("partition", partition)).chain(range.parts()) {
        match part_fault(part, caps) {
            None => {}
            Some(PartFault::Empty) => return invalid(format!("the {name} is empty")),
            Some(PartFault::TooLong) => {
                return invalid(format!(
                    "the {name} is {} bytes, over the limit of {MAX_KEY_PART_BYTES}",
                    part.len()
                ));
            }
            Some(PartFault::Nul) => {
                return invalid(format!(
                    "the {name} holds a NUL character, which this backend's keys cannot hold"
                ));
            }
        }
    }
    if let SortRange::Between { from, to } = range {
        if from.as_bytes() > to.as_bytes() {
            return invalid(format!(
                "the range's lower bound {from:?} is above its upper bound {to:?}"
            ));
        }
    }
    page_limit(operation, limit, caps)
}

/// Checks a [`scan`](crate::VersionedStore::scan): the store supports it and the page
/// limit is from 1 to [`Capabilities::max_page_size`].
///
/// ```
/// use optimist_core::{validate, Capabilities};
/// assert!(validate::scan(1001, &Capabilities::new()).is_err());
/// ```
pub fn scan(limit: usize, caps: &Capabilities) -> Result<()> {
    let operation = Operation::Scan;
    if !caps.range_reads {
        return Err(Error::Unsupported { operation });
    }
    page_limit(operation, limit, caps)
}

fn page_limit(operation: Operation, limit: usize, caps: &Capabilities) -> Result<()> {
    if limit == 0 || limit > caps.max_page_size {
        return Err(Error::invalid(
            operation,
            None,
            format!(
                "the page limit is {limit}; it must be from 1 to this backend's maximum of {}",
                caps.max_page_size
            ),
        ));
    }
    Ok(())
}

/// The length of a value's compact JSON encoding, counted without allocating it.
///
/// ```
/// assert_eq!(optimist_core::validate::encoded_len(&serde_json::json!({"a": [1, 2]})), 11); // {"a":[1,2]}
/// ```
pub fn encoded_len(value: &Value) -> usize {
    measure::measure(value).encoded_len
}

/// How deeply a value nests: 0 for a scalar, one more than the deepest element for an
/// object or array (an empty one has depth 1).
///
/// ```
/// use serde_json::json;
/// assert_eq!(optimist_core::validate::depth(&json!(1)), 0);
/// assert_eq!(optimist_core::validate::depth(&json!({"a": [[]]})), 3);
/// ```
pub fn depth(value: &Value) -> usize {
    measure::measure(value).depth
}

/// Whether a number can be stored exactly under `support`; the error says why not.
///
/// ```
/// use optimist_core::{validate, NumberSupport};
/// let tiny = serde_json::Number::from_f64(1e-200).unwrap();
/// assert!(validate::number_fits(&tiny, NumberSupport::Full).is_ok());
/// assert!(validate::number_fits(&tiny, NumberSupport::DYNAMODB).is_err());
/// ```
pub fn number_fits(number: &Number, support: NumberSupport) -> Result<(), String> {
    let NumberSupport::Decimal {
        max_digits,
        min_exponent,
        max_exponent,
    } = support
    else {
        return Ok(());
    };
    let Some((digits, exponent)) = decimal_shape(number) else {
        return Ok(()); // zero
    };
    if digits > max_digits as usize {
        return Err(format!(
            "number {number} has {digits} significant digits, over the limit of {max_digits}"
        ));
    }
    if exponent < i64::from(min_exponent) || exponent >= i64::from(max_exponent) {
        return Err(format!(
            "number {number} is outside the range this backend stores (magnitude 1e{min_exponent} to below 1e{max_exponent})"
        ));
    }
    Ok(())
}

/// The count of significant digits and the decimal exponent (`d.ddd × 10^exponent`) of
/// a non-zero number's shortest exact decimal form; `None` for zero.
fn decimal_shape(number: &Number) -> Option<(usize, i64)> {
    let scientific = if let Some(i) = number.as_u64() {
        format!("{i:e}")
    } else if let Some(i) = number.as_i64() {
        format!("{i:e}")
    } else {
        format!("{:e}", number.as_f64()?)
    };
    let scientific = scientific.trim_start_matches('-');
    let (mantissa, exponent) = scientific.split_once('e')?;
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    if digits.is_empty() {
        return None;
    }
    Some((digits.len(), exponent.parse().ok()?))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

enum Scalar<'a> {
    Number(&'a Number),
    Str(&'a str),
    Name(&'a str),
}

fn visit_scalars<'a>(value: &'a Value, visit: &mut impl FnMut(Scalar<'a>)) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Number(n) => visit(Scalar::Number(n)),
            Value::String(s) => visit(Scalar::Str(s)),
            Value::Array(items) => stack.extend(items),
            Value::Object(fields) => {
                for (name, v) in fields {
                    visit(Scalar::Name(name));
                    stack.push(v);
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decimal_shapes() {
        let n = |v: Value| match v {
            Value::Number(n) => decimal_shape(&n),
            _ => None,
        };
        assert_eq!(n(json!(0)), None);
        assert_eq!(n(json!(0.0)), None);
        assert_eq!(n(json!(1200)), Some((2, 3)));
        assert_eq!(n(json!(-0.5)), Some((1, -1)));
        assert_eq!(n(json!(u64::MAX)), Some((20, 19)));
        assert_eq!(n(json!(f64::MIN_POSITIVE)), Some((17, -308)));
    }

    #[test]
    fn dynamodb_number_limits() {
        let fits = |v: f64| {
            number_fits(
                &Number::from_f64(v).unwrap_or_else(|| Number::from(0)),
                NumberSupport::DYNAMODB,
            )
            .is_ok()
        };
        assert!(fits(1e-130));
        assert!(!fits(1e-131));
        assert!(fits(9.99e125));
        assert!(!fits(1e126));
        assert!(!fits(f64::MAX));
    }

    /// At the limits exactly, where the bound walk (six bytes a string byte) cannot
    /// pass the value and the exact walk decides.
    #[test]
    #[allow(clippy::unwrap_used)] // a test fails by panicking
    fn size_and_depth_limits_are_exact() {
        let key = Key::new("k");
        let value = json!({"name": "plain text, no escapes", "n": [1, {"deep": "\"q\""}]});
        let len = key.encoded_len() + encoded_len(&value);
        let caps = |bytes: usize, depth: usize| {
            Capabilities::new()
                .with_max_item_bytes(bytes)
                .with_max_depth(depth)
        };
        let check = |caps: Capabilities| write(Operation::Put, &key, &value, &caps);
        assert!(check(caps(len, 3)).is_ok());
        let over = check(caps(len - 1, 3)).unwrap_err();
        assert!(
            over.to_string().contains(&format!("item is {len} bytes")),
            "{over}"
        );
        let deep = check(caps(len, 2)).unwrap_err();
        assert!(deep.to_string().contains("nests 3 levels deep"), "{deep}");
        // A limit below the key's own size.
        assert!(check(caps(key.encoded_len() - 1, 3)).is_err());
    }

    #[test]
    fn encoded_len_matches_serialization() {
        let v = json!({"a": "é\"\n", "b": [1.5, null, true], "c": {}});
        assert_eq!(
            encoded_len(&v),
            serde_json::to_vec(&v).map(|b| b.len()).unwrap_or(0)
        );
    }
}

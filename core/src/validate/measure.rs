//! A value's compact JSON length and its depth, in one walk and without encoding it:
//! the size and depth checks of every write run on it, so it is on the path of every
//! put.

use std::fmt;

use serde_json::Value;

/// What the walk finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Measure {
    /// The length of the compact JSON encoding (`serde_json::to_vec`), in bytes.
    pub(super) encoded_len: usize,
    /// 0 for a scalar, one more than the deepest element for an object or array.
    pub(super) depth: usize,
}

/// Walks `value` once. A typical value is walked by recursion, which allocates
/// nothing; containers nested deeper than a fixed number of frames wait in a list, so
/// that a hostile value cannot overflow the stack.
pub(super) fn measure(value: &Value) -> Measure {
    let mut walk = Walk::default();
    walk.visit(value, 0, FRAMES);
    while let Some((value, level)) = walk.deferred.pop() {
        walk.visit(value, level, FRAMES);
    }
    Measure {
        encoded_len: walk.total,
        depth: walk.deepest,
    }
}

/// How many nested calls one visit may make before it defers a container.
const FRAMES: usize = 32;

/// Whether `value` surely encodes in at most `max_len` bytes and nests at most
/// `max_depth` levels: the check of a typical write, cheaper than [`measure`] because
/// it reads no string's bytes, counting each at its longest escaped form (six bytes a
/// byte, `\u00XX`), and spells no number (an integer in at most 20 characters, a float
/// in at most [`FLOAT_LEN`]). `false` says only that the bound is over (or the value
/// nests deeper than the walk recurses): [`measure`] then decides.
pub(super) fn within(value: &Value, max_len: usize, max_depth: usize) -> bool {
    let mut bound = Bound::default();
    bound.element(value, 0);
    !bound.too_deep
        && u64::try_from(max_len).is_ok_and(|max_len| bound.len <= max_len)
        && bound.deepest <= max_depth
}

/// The longest spelling of a finite `f64` serde_json writes (ryu's shortest form, as
/// in `-2.2250738585072014e-308`).
const FLOAT_LEN: usize = 24;

/// The bound walk: one sum and no early exit, which costs less per element than
/// stopping at the first container too deep (rare) would save.
#[derive(Default)]
struct Bound {
    /// The bound on the encoding: six bytes for every byte of a string or field name
    /// (its longest escaped form), and at most a few dozen for the rest of an element
    /// (brackets, quotes, colons, a scalar, and a comma after every element, one more
    /// than there are). A `u64` cannot overflow: the bound is at most six times the
    /// bytes the value takes in memory, and no machine addresses 2^57.
    len: u64,
    deepest: usize,
    /// A container sat deeper than [`FRAMES`], and the walk did not go into it.
    too_deep: bool,
}

impl Bound {
    /// Counts the array or object `container`, found at `level`, and everything in
    /// it, unless it sits deeper than [`FRAMES`] (no deeper recursion).
    fn visit(&mut self, container: &Value, level: usize) {
        if level >= FRAMES {
            self.too_deep = true;
            return;
        }
        self.deepest = self.deepest.max(level + 1);
        match container {
            Value::Array(items) => {
                // `[` `]` and a comma per item.
                self.len += 2 + items.len() as u64;
                for item in items {
                    self.element(item, level + 1);
                }
            }
            Value::Object(fields) => {
                // `{` `}`, and `"":` and a comma per field.
                self.len += 2 + 4 * fields.len() as u64;
                for (name, field) in fields {
                    self.len += 6 * name.len() as u64;
                    self.element(field, level + 1);
                }
            }
            _ => {}
        }
    }

    /// Counts an element: a scalar here, a container by a call (most elements are
    /// scalars, and a call costs more than counting one).
    #[inline(always)]
    fn element(&mut self, value: &Value, level: usize) {
        self.len += match value {
            Value::String(s) => 2 + 6 * s.len() as u64,
            Value::Array(_) | Value::Object(_) => return self.visit(value, level),
            // At most 20 characters: `18446744073709551615`, `-9223372036854775808`.
            Value::Number(n) if !n.is_f64() => 20,
            Value::Number(_) => FLOAT_LEN as u64,
            // `null`, `true`, `false`.
            Value::Null | Value::Bool(_) => 5,
        };
    }
}

#[derive(Default)]
struct Walk<'a> {
    total: usize,
    deepest: usize,
    deferred: Vec<(&'a Value, usize)>,
}

impl<'a> Walk<'a> {
    /// Counts `value`, found at `level`, and everything in it.
    fn visit(&mut self, value: &'a Value, level: usize, frames: usize) {
        match value {
            Value::Array(items) => {
                self.container(level, items.len());
                for item in items {
                    self.child(item, level + 1, frames);
                }
            }
            Value::Object(fields) => {
                self.container(level, fields.len());
                for (name, field) in fields {
                    // `"name":`
                    self.total += string_len(name) + 1;
                    self.child(field, level + 1, frames);
                }
            }
            scalar => self.total += scalar_len(scalar),
        }
    }

    /// The brackets and the commas of a container of `len` elements.
    fn container(&mut self, level: usize, len: usize) {
        self.deepest = self.deepest.max(level + 1);
        self.total += 2 + len.saturating_sub(1);
    }

    fn child(&mut self, value: &'a Value, level: usize, frames: usize) {
        match value {
            Value::Array(_) | Value::Object(_) if frames == 0 => self.deferred.push((value, level)),
            _ => self.visit(value, level, frames.saturating_sub(1)),
        }
    }
}

/// The encoded length of a value that is not an array or object.
fn scalar_len(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::String(s) => string_len(s),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                decimal_digits(u)
            } else if let Some(i) = n.as_i64() {
                usize::from(i < 0) + decimal_digits(i.unsigned_abs())
            } else {
                // serde_json writes a float as its `Display` spelling (ryu).
                let mut counter = Counter(0);
                let _ = fmt::write(&mut counter, format_args!("{n}"));
                counter.0
            }
        }
        Value::Array(_) | Value::Object(_) => 0,
    }
}

/// How many decimal digits `n` has.
fn decimal_digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// The encoded length of a string: quotes, and serde_json's escapes (two bytes for
/// `"`, `\` and the control characters with a short form, six for the other control
/// characters).
fn string_len(s: &str) -> usize {
    if !s
        .bytes()
        .any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\')
    {
        return 2 + s.len();
    }
    let escapes: usize = s
        .bytes()
        .map(|byte| match byte {
            b'"' | b'\\' | 0x08 | b'\t' | b'\n' | 0x0C | b'\r' => 1,
            0x00..=0x1F => 5,
            _ => 0,
        })
        .sum();
    2 + s.len() + escapes
}

/// Counts what is written to it.
struct Counter(usize);

impl fmt::Write for Counter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn encoded(value: &Value) -> usize {
        serde_json::to_vec(value).map(|b| b.len()).unwrap_or(0)
    }

    /// How many numbers `value` holds.
    fn numbers(value: &Value) -> usize {
        match value {
            Value::Number(_) => 1,
            Value::Array(items) => items.iter().map(numbers).sum(),
            Value::Object(fields) => fields.values().map(numbers).sum(),
            _ => 0,
        }
    }

    /// `[[[...]]]`, `levels` deep: past the frames one visit recurses through.
    fn deep(levels: usize) -> Value {
        (1..levels).fold(json!([]), |inner, _| json!([inner, 1]))
    }

    #[test]
    fn lengths_and_depths() {
        for (value, depth) in [
            (json!(null), 0),
            (json!(false), 0),
            (json!(-12.5e-300), 0),
            (json!(u64::MAX), 0),
            (json!(i64::MIN), 0),
            (json!(0), 0),
            (json!(-9), 0),
            (json!(10), 0),
            (json!("a\"b\\c\u{1}\u{1f}\u{7f}\n\té"), 0),
            (json!("01234567\"89abcdef"), 0),
            (json!("0123456789abcde\\"), 0),
            (json!("0123456789abcdef\u{0}"), 0),
            (json!("0123456789abcdef"), 0),
            (json!([]), 1),
            (json!({}), 1),
            (json!({"a": [[]], "": {"x\n": [1, 2.5, "q"]}}), 3),
            (json!([[[[{"k": null}]]]]), 5),
            (deep(100), 100),
        ] {
            let measured = measure(&value);
            assert_eq!(measured.encoded_len, encoded(&value), "{value}");
            assert_eq!(measured.depth, depth, "{value}");
        }
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_length_is_serde_jsons(value in any_value()) {
            prop_assert_eq!(measure(&value).encoded_len, encoded(&value));
        }

        /// The bound walk never passes a value the exact walk fails, and passes every
        /// value with room to spare for its strings' escapes and its numbers' longest
        /// spellings.
        #[test]
        fn within_agrees_with_measure(value in any_value(), max_len in 0usize..400, max_depth in 0usize..6) {
            let measured = measure(&value);
            let fits = measured.encoded_len <= max_len && measured.depth <= max_depth;
            if within(&value, max_len, max_depth) {
                prop_assert!(fits, "{value}: {measured:?} passed as within {max_len}, {max_depth}");
            }
            if measured.depth <= max_depth {
                let room = measured.encoded_len * 6 + FLOAT_LEN * numbers(&value);
                prop_assert!(within(&value, room, max_depth), "{value}: {measured:?}");
            }
        }
    }

    /// The integers longest to spell meet the bound exactly.
    #[test]
    fn within_holds_at_the_integer_extremes() {
        for value in [json!(u64::MAX), json!(i64::MIN), json!(0), json!(-7)] {
            let len = encoded(&value);
            assert!(len <= 20, "{value}");
            assert!(within(&value, 20, 0), "{value}");
            assert!(!within(&value, len - 1, 0), "{value}");
        }
    }

    /// The floats longest to spell meet their bound exactly.
    #[test]
    fn within_holds_at_the_longest_floats() {
        for float in [
            -2.2250738585072014e-308,
            f64::MIN,
            -f64::MIN_POSITIVE,
            0.1,
            -0.0,
        ] {
            let value = json!(float);
            let len = encoded(&value);
            assert!(len <= FLOAT_LEN, "{value}");
            assert!(within(&value, FLOAT_LEN, 0), "{value}");
            assert!(!within(&value, FLOAT_LEN - 1, 0), "{value}");
        }
        assert_eq!(encoded(&json!(-2.2250738585072014e-308)), FLOAT_LEN);
    }

    #[test]
    fn within_defers_deep_values() {
        let value = deep(40);
        assert!(!within(&value, usize::MAX, usize::MAX));
        assert!(within(&deep(FRAMES), usize::MAX, FRAMES));
        assert!(!within(&deep(FRAMES), usize::MAX, FRAMES - 1));
    }
}

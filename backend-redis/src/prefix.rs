//! The store's key prefix and how item keys are spelled under it.

use std::fmt;

use optimist_core::{Error, Key, Result};

use crate::error::BACKEND;

/// The longest prefix accepted, in bytes.
pub const MAX_PREFIX_BYTES: usize = 64;

/// A validated key prefix: 1 to [`MAX_PREFIX_BYTES`] ASCII letters, digits, `_`, `-`,
/// `.` or `:`.
///
/// The prefix starts the Redis Cluster hash tag of every key of the store (`{prefix}…`
/// on one server, `{prefix/bNNNN}…` on a cluster), so it may not hold `{` or `}` (which
/// would end or move the tag), nor `/` (which ends it in a cluster's tags). The
/// rest of the narrow alphabet keeps keys readable in `redis-cli` and logs, and free of
/// whitespace, control characters and glob metacharacters (`*`, `?`, `[`) that make
/// `SCAN MATCH {prefix}*` misbehave.
///
/// ```
/// use optimist_redis::Prefix;
///
/// assert!(Prefix::new("orders:v1").is_ok());
/// assert!(Prefix::new("a}b").is_err());
/// assert!(Prefix::new("").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Prefix(String);

impl Prefix {
    /// Checks a prefix; a bad one is [`Error::Configuration`] naming the problem.
    ///
    /// ```
    /// let err = optimist_redis::Prefix::new("has space").unwrap_err();
    /// assert!(matches!(err, optimist_core::Error::Configuration { backend: "redis", .. }));
    /// ```
    pub fn new(prefix: impl Into<String>) -> Result<Self> {
        let prefix = prefix.into();
        let refuse = |reason: String| Err(Error::configuration(BACKEND, reason));
        if prefix.is_empty() {
            return refuse("the key prefix is empty".to_string());
        }
        if prefix.len() > MAX_PREFIX_BYTES {
            return refuse(format!(
                "the key prefix is {} bytes, over the limit of {MAX_PREFIX_BYTES}",
                prefix.len()
            ));
        }
        if let Some(bad) = prefix.chars().find(|c| !allowed(*c)) {
            return refuse(format!(
                "the key prefix holds {bad:?}; allowed are ASCII letters, digits, '_', '-', '.' and ':'"
            ));
        }
        Ok(Prefix(prefix))
    }

    /// The prefix as given.
    ///
    /// ```
    /// assert_eq!(optimist_redis::Prefix::new("p")?.as_str(), "p");
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Redis key of an item of a store on one server: the hash tag `{prefix}`, then
    /// each key part as its byte length, `:`, and its bytes. (On a Redis Cluster the tag
    /// is the partition's bucket's, `{prefix/bNNNN}`: see
    /// [`RedisStore::redis_key`](crate::RedisStore::redis_key).)
    ///
    /// Length prefixes make the spelling injective: `("a:b")` and `("a", "b")` become
    /// `{p}3:a:b` and `{p}1:a1:b`, and no partition can be mistaken for a sort part.
    ///
    /// ```
    /// use optimist_core::Key;
    /// let prefix = optimist_redis::Prefix::new("p")?;
    /// assert_eq!(prefix.redis_key(&Key::new("a:b")), b"{p}3:a:b");
    /// assert_eq!(prefix.redis_key(&Key::with_sort("a", "b")), b"{p}1:a1:b");
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn redis_key(&self, key: &Key) -> Vec<u8> {
        Self::spell(self.tag(), key)
    }

    /// `tag`, then each part of `key` as its byte length, `:`, and its bytes.
    pub(crate) fn spell(tag: Vec<u8>, key: &Key) -> Vec<u8> {
        let (partition, sort) = key.parts();
        Self::spell_parts(tag, partition, sort)
    }

    /// `tag`, then `partition` and `sort` (when there is one) as in [`Self::spell`].
    pub(crate) fn spell_parts(tag: Vec<u8>, partition: &str, sort: Option<&str>) -> Vec<u8> {
        let mut out = tag;
        out.reserve(Self::spelled_len(partition, sort));
        for part in std::iter::once(partition).chain(sort) {
            push_decimal(&mut out, part.len());
            out.push(b':');
            out.extend_from_slice(part.as_bytes());
        }
        out
    }

    /// Room enough for the parts of a key after its tag, and a suffix (`#index`).
    pub(crate) fn spelled_len(partition: &str, sort: Option<&str>) -> usize {
        partition.len() + sort.map_or(0, str::len) + 2 * 21 + INDEX_SUFFIX.len()
    }

    /// The Redis key of a partition's index, which `query` and `scan` read: the key of
    /// the partition's item without a sort part, then `#index`. A sorted set, every
    /// score 0, one member per key of the partition that holds an item: its sort part
    /// (`""` for the key without one). It sits next to the partition's items in the
    /// key space, so a layout that gives each partition a hash tag of its own keeps it
    /// in the same slot. No item's key is ever spelled like it: after the tag, an item
    /// key's parts each start with a digit.
    ///
    /// ```
    /// let prefix = optimist_redis::Prefix::new("p")?;
    /// assert_eq!(prefix.index_key("a"), b"{p}1:a#index");
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn index_key(&self, partition: &str) -> Vec<u8> {
        let mut out = self.redis_key(&Key::new(partition));
        out.extend_from_slice(INDEX_SUFFIX);
        out
    }

    /// The Redis key of the store's partitions set on one server, which `scan` walks: a
    /// sorted set, every score 0, one member per partition that holds an item. (On a
    /// Redis Cluster each bucket has one, `{prefix/bNNNN}#partitions`.)
    ///
    /// ```
    /// let prefix = optimist_redis::Prefix::new("p")?;
    /// assert_eq!(prefix.partitions_key(), b"{p}#partitions");
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn partitions_key(&self) -> Vec<u8> {
        let mut out = self.tag();
        out.extend_from_slice(b"#partitions");
        out
    }

    /// The hash tag every key of the store starts with: `{prefix}`.
    pub(crate) fn tag(&self) -> Vec<u8> {
        self.tag_with_room(0)
    }

    /// [`Self::tag`] in a buffer with room for `room` more bytes (the rest of a key).
    pub(crate) fn tag_with_room(&self, room: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() + 2 + room);
        out.push(b'{');
        out.extend_from_slice(self.0.as_bytes());
        out.push(b'}');
        out
    }
}

/// Appends `n` in decimal (what `n.to_string()` gives, without the `String`).
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // `n % 10` is below 10: the cast keeps it whole.
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// What follows a partition's key in the name of its index (`scan.lua` spells it too).
pub(crate) const INDEX_SUFFIX: &[u8] = b"#index";

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Prefix({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_prefixes_are_rejected() {
        let long = "x".repeat(MAX_PREFIX_BYTES + 1);
        for bad in [
            "", "{", "}", "a{b", "a}b", "a b", "a\nb", "a\0b", "a*", "é", &long,
        ] {
            let err = Prefix::new(bad).err();
            assert!(
                matches!(err, Some(Error::Configuration { .. })),
                "{bad:?}: {err:?}"
            );
        }
        assert!(Prefix::new("x".repeat(MAX_PREFIX_BYTES)).is_ok());
    }

    #[test]
    fn keys_do_not_collide() {
        let p = Prefix::new("p").unwrap_or_else(|e| unreachable!("{e}"));
        let keys = [
            Key::new("a:b"),
            Key::with_sort("a", "b"),
            Key::with_sort("a:", "b"),
            Key::with_sort("a", ":b"),
            Key::new("a1:b"),
            Key::with_sort("1:a", "b"),
            Key::new("a"),
        ];
        let spelled: std::collections::HashSet<_> = keys.iter().map(|k| p.redis_key(k)).collect();
        assert_eq!(spelled.len(), keys.len());
    }

    #[test]
    fn lengths_are_spelled_in_decimal() {
        for n in [0, 7, 9, 10, 99, 100, 12_345, usize::MAX] {
            let mut out = b"x".to_vec();
            push_decimal(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes());
        }
        let p = Prefix::new("p").unwrap_or_else(|e| unreachable!("{e}"));
        let long = "k".repeat(1234);
        assert_eq!(
            p.redis_key(&Key::with_sort("ab", &long)),
            format!("{{p}}2:ab1234:{long}").into_bytes()
        );
    }
}

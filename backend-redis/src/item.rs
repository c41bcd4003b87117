//! Records in their stored form: values as JSON text, versions as decimal text, write
//! tokens as 32 hex digits, and a write as the seven script arguments the prelude of
//! `src/lua/` reads. (Keys are spelled by [`Prefix::redis_key`](crate::Prefix::redis_key).)

use optimist_core::{Change, ErrorKind, Expect, Record, StorageError, Version, Write, WriteToken};
use serde_json::Value;

/// One write as script arguments: precondition, expected version, change, the JSON a
/// put stores, the write's token, and the key's entry in its partition's index
/// (partition, and sort part or `""`).
pub(crate) struct WriteArgs<'k> {
    expect: &'static [u8],
    expected: String,
    change: &'static [u8],
    json: Vec<u8>,
    token: [u8; 32],
    partition: &'k str,
    sort: &'k str,
}

impl<'k> WriteArgs<'k> {
    /// Encodes `write`; a delete leaves a tombstone (`bury`) when the store keeps
    /// `tombstones`, and removes the record (`delete`) otherwise.
    pub(crate) fn new(write: &Write<'k>, tombstones: bool) -> Result<Self, StorageError> {
        let (expect, expected): (&'static [u8], _) = match write.expect {
            Expect::Absent => (b"absent", String::new()),
            Expect::At(version) => (b"at", version_text(version)),
            Expect::Tombstone(version) => (b"tombstone", version_text(version)),
            Expect::Any => (b"any", String::new()),
            // `Expect` is non-exhaustive: a precondition this backend does not know
            // is refused before anything is sent.
            _ => {
                return Err(StorageError::not_applied(
                    ErrorKind::Rejected,
                    "a precondition this version of the Redis backend does not know",
                ));
            }
        };
        let (change, json): (&'static [u8], _) = match write.change {
            // The script computes the version from the record it reads.
            Change::Put(value) => (b"put", encode(value)?),
            Change::Delete if tombstones => (b"bury", Vec::new()),
            Change::Delete => (b"delete", Vec::new()),
            Change::Keep => (b"keep", Vec::new()),
        };
        Ok(Self {
            expect,
            expected,
            change,
            json,
            token: token_text(write.token),
            partition: write.key.partition(),
            sort: write.key.sort().unwrap_or_default(),
        })
    }

    /// Appends the seven arguments to `args`, in the scripts' order.
    pub(crate) fn push_to<'a>(&'a self, args: &mut Vec<&'a [u8]>) {
        args.extend([
            self.expect,
            self.expected.as_bytes(),
            self.change,
            self.json.as_slice(),
            &self.token,
            self.partition.as_bytes(),
            self.sort.as_bytes(),
        ]);
    }
}

/// A value as the JSON text stored in the item's `v` field.
fn encode(value: &Value) -> Result<Vec<u8>, StorageError> {
    // A `serde_json::Value` always serialises; kept typed all the same.
    serde_json::to_vec(value).map_err(|err| StorageError::not_applied(ErrorKind::Other, err))
}

/// A token as stored in the record's `tok` field: 32 lowercase hex digits (what its
/// `Display` writes, without formatting machinery or a `String`).
fn token_text(token: WriteToken) -> [u8; 32] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bits = token.as_u128();
    let mut out = [0u8; 32];
    for (i, digit) in out.iter_mut().enumerate() {
        // Digit `i` from the left is the nibble 4 * (31 - i) bits up.
        let nibble = (bits >> (4 * (31 - i))) & 0xf;
        *digit = HEX[nibble as usize];
    }
    out
}

/// A version as stored in the record's `ver` field and compared by the scripts:
/// decimal, no leading zeros.
fn version_text(version: Version) -> String {
    version.get().to_string()
}

/// A version the scripts sent back (always canonical decimal), `None` if it is not.
pub(crate) fn parse_version(text: &[u8]) -> Option<Version> {
    std::str::from_utf8(text)
        .ok()?
        .parse::<u64>()
        .ok()
        .map(Version::new)
}

/// A stored token as the scripts send it back: `None` for `''` (a record another
/// client wrote), else the token. Anything else was not written by this store:
/// [`ErrorKind::Corrupt`].
pub(crate) fn decode_token(text: &[u8]) -> Result<Option<WriteToken>, StorageError> {
    if text.is_empty() {
        return Ok(None);
    }
    // What `WriteToken`'s `FromStr` accepts (32 lowercase hex digits), read straight
    // from the bytes: a page reads one token per item, and the general parser was a
    // measurable share of a page's cost.
    let bits = (text.len() == 32)
        .then(|| {
            text.iter().try_fold(0u128, |bits, &byte| {
                let nibble = match byte {
                    b'0'..=b'9' => byte - b'0',
                    b'a'..=b'f' => byte - b'a' + 10,
                    _ => return None,
                };
                Some(bits << 4 | u128::from(nibble))
            })
        })
        .flatten();
    match bits {
        Some(bits) => Ok(Some(WriteToken::from_u128(bits))),
        None => Err(StorageError::corrupt(StoredToken(
            optimist_core::ParseTokenError,
        ))),
    }
}

/// Why a stored token is unreadable (the parse error, naming the field).
#[derive(Debug)]
struct StoredToken(optimist_core::ParseTokenError);

impl std::fmt::Display for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the record's 'tok' field is not a write token")
    }
}

impl std::error::Error for StoredToken {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// An item from its stored JSON, version and token. JSON this store cannot read
/// (another tool wrote it) is [`ErrorKind::Corrupt`], with serde_json's error as the
/// source.
pub(crate) fn decode_item(
    json: &[u8],
    version: Version,
    token: Option<WriteToken>,
) -> Result<Record, StorageError> {
    let value = serde_json::from_slice(json).map_err(StorageError::corrupt)?;
    Ok(Record::item(value, version).with_token(token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use optimist_core::Key;
    use serde_json::json;

    const TOKEN: &str = "0000000000000000000000000000002a";

    fn args(write: &Write<'_>, tombstones: bool) -> Option<Vec<Vec<u8>>> {
        let encoded =
            WriteArgs::new(&write.with_token(WriteToken::from_u128(42)), tombstones).ok()?;
        let mut args = Vec::new();
        encoded.push_to(&mut args);
        Some(args.into_iter().map(<[u8]>::to_vec).collect())
    }

    fn strings(args: &[&str]) -> Option<Vec<Vec<u8>>> {
        Some(args.iter().map(|a| a.as_bytes().to_vec()).collect())
    }

    #[test]
    fn puts_carry_their_precondition_value_and_token() {
        let key = Key::new("k");
        let value = json!({"n": 1});
        let insert = Write::new(&key, Expect::Absent, Change::Put(&value));
        assert_eq!(
            args(&insert, false),
            strings(&["absent", "", "put", r#"{"n":1}"#, TOKEN, "k", ""])
        );
        let update = Write::new(&key, Expect::At(Version::new(41)), Change::Put(&value));
        assert_eq!(
            args(&update, false),
            strings(&["at", "41", "put", r#"{"n":1}"#, TOKEN, "k", ""])
        );
        let buried = Write::new(
            &key,
            Expect::Tombstone(Version::new(7)),
            Change::Put(&value),
        );
        assert_eq!(
            args(&buried, true),
            strings(&["tombstone", "7", "put", r#"{"n":1}"#, TOKEN, "k", ""])
        );
        let put = Write::new(&key, Expect::Any, Change::Put(&value));
        assert_eq!(
            args(&put, false),
            strings(&["any", "", "put", r#"{"n":1}"#, TOKEN, "k", ""])
        );
    }

    #[test]
    fn deletes_bury_in_tombstone_mode_and_checks_carry_no_value() {
        let key = Key::new("k");
        let max = Version::new(u64::MAX);
        let delete = Write::new(&key, Expect::At(max), Change::Delete);
        assert_eq!(
            args(&delete, false),
            strings(&["at", "18446744073709551615", "delete", "", TOKEN, "k", ""])
        );
        assert_eq!(
            args(&delete, true),
            strings(&["at", "18446744073709551615", "bury", "", TOKEN, "k", ""])
        );
        let remove = Write::new(&key, Expect::Any, Change::Delete);
        assert_eq!(
            args(&remove, false),
            strings(&["any", "", "delete", "", TOKEN, "k", ""])
        );
        let check = Write::new(&key, Expect::At(max), Change::Keep);
        assert_eq!(
            args(&check, true),
            strings(&["at", "18446744073709551615", "keep", "", TOKEN, "k", ""])
        );
    }

    #[test]
    fn stored_json_that_does_not_parse_is_corrupt() {
        let err = decode_item(b"{oops", Version::FIRST, None).err();
        assert_eq!(
            err.as_ref().map(StorageError::kind),
            Some(ErrorKind::Corrupt)
        );
        let source = err
            .as_ref()
            .map(|e| e.source_ref().is::<serde_json::Error>());
        assert_eq!(source, Some(true));
    }

    #[test]
    fn stored_tokens_read_back_or_are_corrupt() {
        assert_eq!(decode_token(b"").ok(), Some(None));
        assert_eq!(
            decode_token(TOKEN.as_bytes()).ok(),
            Some(Some(WriteToken::from_u128(42)))
        );
        for bad in [
            &b"2a"[..],
            b"0000000000000000000000000000002A",
            b"\xff",
            b"0000000000000000000000000000002a0",
            b"000000000000000000000000000000g2",
            b"+0000000000000000000000000000002",
            b" 0000000000000000000000000000002",
        ] {
            let err = decode_token(bad).err();
            assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::Corrupt));
        }
        // It reads exactly what core's parser reads.
        for _ in 0..100 {
            let token = WriteToken::random();
            let text = token.to_string();
            assert_eq!(decode_token(text.as_bytes()).ok(), Some(Some(token)));
            assert_eq!(text.parse::<WriteToken>().ok(), Some(token));
        }
        let max = "f".repeat(32);
        assert_eq!(
            decode_token(max.as_bytes()).ok(),
            Some(Some(WriteToken::from_u128(u128::MAX)))
        );
    }

    #[test]
    fn token_text_is_the_tokens_display() {
        for bits in [
            0,
            1,
            0xff,
            u128::MAX,
            0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
        ] {
            let token = WriteToken::from_u128(bits);
            assert_eq!(token_text(token).as_slice(), token.to_string().as_bytes());
        }
        let token = WriteToken::random();
        assert_eq!(token_text(token).as_slice(), token.to_string().as_bytes());
    }

    #[test]
    fn versions_parse_exactly() {
        assert_eq!(
            parse_version(b"18446744073709551615"),
            Some(Version::new(u64::MAX))
        );
        assert_eq!(parse_version(b"18446744073709551616"), None);
        assert_eq!(parse_version(b""), None);
    }
}

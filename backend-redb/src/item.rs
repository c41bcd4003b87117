//! Records in redb: the key as a `(partition, sort)` tuple, which redb orders exactly as
//! optimist's [`Key`] (partition, then no sort part before any sort part, then sort
//! part, each by UTF-8 bytes), and the record as bytes of one fixed layout:
//!
//! | bytes | what |
//! | --- | --- |
//! | 0 | layout, 1 |
//! | 1 | 0: an item, 1: a tombstone |
//! | 2..10 | the version, big-endian `u64` |
//! | 10 | 1 if a write token follows, else 0 |
//! | 11..27 | the token, big-endian `u128` (only if present) |
//! | rest | an item's value as JSON text; a tombstone's deletion time, ms since the Unix epoch, big-endian `u64` |

use optimist_core::{Key, Record, StorageError, Value, Version, WriteToken};
use redb::TableDefinition;

/// The table's types: key `(partition, sort)`, record bytes.
pub(crate) type ItemsTable<'a> =
    TableDefinition<'a, (&'static str, Option<&'static str>), &'static [u8]>;

/// The table named `name`.
pub(crate) fn table(name: &str) -> ItemsTable<'_> {
    TableDefinition::new(name)
}

/// The tuple redb stores for `key`.
pub(crate) fn key_of(key: &Key) -> (&str, Option<&str>) {
    (key.partition(), key.sort())
}

/// The optimist key of a stored tuple.
pub(crate) fn key_from((partition, sort): (&str, Option<&str>)) -> Key {
    match sort {
        Some(sort) => Key::with_sort(partition, sort),
        None => Key::new(partition),
    }
}

const LAYOUT: u8 = 1;
const ITEM: u8 = 0;
const TOMBSTONE: u8 = 1;

fn header(kind: u8, version: Version, token: Option<WriteToken>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(64);
    bytes.push(LAYOUT);
    bytes.push(kind);
    bytes.extend_from_slice(&version.get().to_be_bytes());
    match token {
        Some(token) => {
            bytes.push(1);
            bytes.extend_from_slice(&token.as_u128().to_be_bytes());
        }
        None => bytes.push(0),
    }
    bytes
}

/// An item's bytes: `value` at `version`, left by the write carrying `token`.
pub(crate) fn encode_item(
    value: &Value,
    version: Version,
    token: WriteToken,
) -> Result<Vec<u8>, StorageError> {
    let mut bytes = header(ITEM, version, Some(token));
    // Writing a serde_json::Value to memory cannot fail; a failure would be a bug, and
    // it is reported as one with nothing written.
    serde_json::to_writer(&mut bytes, value)
        .map_err(|err| StorageError::not_applied(optimist_core::ErrorKind::Other, err))?;
    Ok(bytes)
}

/// A tombstone's bytes: the item deleted at `version`, by the write carrying `token`, at
/// `deleted_at_ms`.
pub(crate) fn encode_tombstone(version: Version, token: WriteToken, deleted_at_ms: u64) -> Vec<u8> {
    let mut bytes = header(TOMBSTONE, version, Some(token));
    bytes.extend_from_slice(&deleted_at_ms.to_be_bytes());
    bytes
}

/// A stored record and, for a tombstone, when it was left (ms since the Unix epoch).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stored {
    pub(crate) record: Record,
    pub(crate) deleted_at_ms: Option<u64>,
}

fn corrupt(why: &str) -> StorageError {
    StorageError::corrupt(format!("a stored record is unreadable: {why}"))
}

fn take<const N: usize>(bytes: &[u8], at: usize, what: &str) -> Result<[u8; N], StorageError> {
    bytes
        .get(at..at + N)
        .and_then(|slice| <[u8; N]>::try_from(slice).ok())
        .ok_or_else(|| corrupt(&format!("too short for its {what}")))
}

/// Reads a record back; anything but the layout above is `Corrupt`.
pub(crate) fn decode(bytes: &[u8]) -> Result<Stored, StorageError> {
    let [layout, kind] = take::<2>(bytes, 0, "header")?;
    if layout != LAYOUT {
        return Err(corrupt(&format!("unknown layout {layout}")));
    }
    let version = Version::new(u64::from_be_bytes(take::<8>(bytes, 2, "version")?));
    let (token, rest) = match take::<1>(bytes, 10, "token flag")? {
        [0] => (None, 11),
        [1] => (
            Some(WriteToken::from_u128(u128::from_be_bytes(take::<16>(
                bytes, 11, "token",
            )?))),
            27,
        ),
        [flag] => return Err(corrupt(&format!("token flag {flag}"))),
    };
    let body = bytes.get(rest..).unwrap_or_default();
    match kind {
        ITEM => {
            let value: Value = serde_json::from_slice(body)
                .map_err(|err| corrupt(&format!("its value is not JSON: {err}")))?;
            Ok(Stored {
                record: Record::item(value, version).with_token(token),
                deleted_at_ms: None,
            })
        }
        TOMBSTONE => {
            let at = u64::from_be_bytes(take::<8>(bytes, rest, "deletion time")?);
            Ok(Stored {
                record: Record::tombstone(version).with_token(token),
                deleted_at_ms: Some(at),
            })
        }
        other => Err(corrupt(&format!("record kind {other}"))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_and_tombstones_round_trip() {
        let token = WriteToken::from_u128(u128::MAX - 7);
        let value = json!({"f": 0.1, "big": u64::MAX, "s": "ünï\u{0}"});
        let item = decode(&encode_item(&value, Version::new(9), token).unwrap()).unwrap();
        assert_eq!(
            item.record,
            Record::item(value, Version::new(9)).with_token(Some(token))
        );
        assert_eq!(item.deleted_at_ms, None);
        let tomb = decode(&encode_tombstone(Version::new(4), token, 1234)).unwrap();
        assert_eq!(
            tomb.record,
            Record::tombstone(Version::new(4)).with_token(Some(token))
        );
        assert_eq!(tomb.deleted_at_ms, Some(1234));
    }

    #[test]
    fn anything_else_is_corrupt_not_a_panic() {
        let good = encode_item(&json!(1), Version::FIRST, WriteToken::from_u128(1)).unwrap();
        for bad in [
            &[][..],
            &[1][..],
            &[2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0][..],
            &[1, 7, 0, 0, 0, 0, 0, 0, 0, 1, 0][..],
            &[1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 9][..],
            &good[..20],
            &[1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, b'{'][..],
            &[1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1][..],
        ] {
            let err = decode(bad).unwrap_err();
            assert_eq!(err.kind(), optimist_core::ErrorKind::Corrupt, "{bad:?}");
        }
    }
}

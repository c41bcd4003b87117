//! Reading the scripts' replies (their shapes are documented at the top of each
//! `lua/*.lua` and in the prelude's `reply_of` and `held_of`) into the engine's answers.
//!
//! A reply this backend cannot read is [`ErrorKind::Other`]; whether the request may
//! have been applied depends on what was understood of it: after `applied` or of
//! an unknown status, the script may have written; after `refused`, it wrote nothing.
//! A stored record this backend cannot read (JSON, token) is [`ErrorKind::Corrupt`].

use optimist_core::{
    Applied, CommitOutcome, ErrorKind, Held, Outcome, Record, StorageError, Version,
};
use redis::Value as Reply;

use crate::item::{decode_item, decode_token, parse_version};

/// The reply of `read.lua`: a record (see [`record`]).
pub(crate) fn read(reply: Reply) -> Result<Option<Record>, StorageError> {
    let parts = strings(reply).ok_or_else(|| malformed(Applied::No, "not an array of strings"))?;
    record(&parts, Applied::No)
}

/// The reply of `read_many.lua`: one record per key asked (see [`record`]).
pub(crate) fn many(reply: Reply, keys: usize) -> Result<Vec<Option<Record>>, StorageError> {
    let Reply::Array(parts) = reply else {
        return Err(malformed(Applied::No, "not an array"));
    };
    if parts.len() != keys {
        return Err(malformed(Applied::No, "not one record per key"));
    }
    parts
        .into_iter()
        .map(|part| {
            let fields =
                strings(part).ok_or_else(|| malformed(Applied::No, "a record is not an array"))?;
            record(&fields, Applied::No)
        })
        .collect()
}

/// The reply of `write.lua`: `{applied, held...}` or `{refused, record...}`.
pub(crate) fn write(reply: Reply) -> Result<Outcome, StorageError> {
    let parts =
        strings(reply).ok_or_else(|| malformed(Applied::Maybe, "not an array of strings"))?;
    match parts.split_first() {
        Some((status, rest)) if status == b"applied" => Ok(Outcome::Applied {
            previous: held(rest)?,
        }),
        Some((status, rest)) if status == b"refused" => Ok(Outcome::Refused {
            current: record(rest, Applied::No)?,
        }),
        _ => Err(malformed(Applied::Maybe, "no known status")),
    }
}

/// The reply of `commit.lua`: `{applied, {held...}...}` with one entry per write, or
/// `{refused, {index, record...}...}`.
pub(crate) fn commit(reply: Reply, writes: usize) -> Result<CommitOutcome, StorageError> {
    let Reply::Array(parts) = reply else {
        return Err(malformed(Applied::Maybe, "not an array"));
    };
    let mut parts = parts.into_iter();
    let status = parts.next().and_then(text);
    match status.as_deref() {
        Some(b"applied") => {
            let previous = parts
                .map(|part| {
                    let fields = strings(part).ok_or_else(|| {
                        malformed(Applied::Maybe, "a previous state is not an array")
                    })?;
                    held(&fields)
                })
                .collect::<Result<Vec<_>, _>>()?;
            if previous.len() != writes {
                return Err(malformed(
                    Applied::Maybe,
                    "not one previous state per write",
                ));
            }
            Ok(CommitOutcome::Applied { previous })
        }
        Some(b"refused") => {
            let current = parts
                .map(|part| {
                    let fields = strings(part)
                        .ok_or_else(|| malformed(Applied::No, "a refusal is not an array"))?;
                    let (index, rest) = fields
                        .split_first()
                        .ok_or_else(|| malformed(Applied::No, "an empty refusal"))?;
                    let index = std::str::from_utf8(index)
                        .ok()
                        .and_then(|i| i.parse::<usize>().ok())
                        .ok_or_else(|| malformed(Applied::No, "a refusal names no write"))?;
                    Ok((index, record(rest, Applied::No)?))
                })
                .collect::<Result<Vec<_>, StorageError>>()?;
            Ok(CommitOutcome::Refused { current })
        }
        _ => Err(malformed(Applied::Maybe, "no known status")),
    }
}

/// A record's fields: `{}` for nothing, `{version, token}` for a tombstone,
/// `{version, token, json}` for an item; the token `''` when the record has none.
pub(crate) fn record(fields: &[Vec<u8>], applied: Applied) -> Result<Option<Record>, StorageError> {
    match fields {
        [] => Ok(None),
        [ver, token] => {
            let record = Record::tombstone(version(ver, applied)?);
            Ok(Some(record.with_token(decode_token(token)?)))
        }
        [ver, token, json] => {
            decode_item(json, version(ver, applied)?, decode_token(token)?).map(Some)
        }
        _ => Err(malformed(
            applied,
            "a record with the wrong number of fields",
        )),
    }
}

/// What a key held before an applied write: `{}`, `{item, version}` or
/// `{tombstone, version}`.
fn held(fields: &[Vec<u8>]) -> Result<Held, StorageError> {
    match fields {
        [] => Ok(Held::Nothing),
        [kind, ver] if kind == b"item" => Ok(Held::Item(version(ver, Applied::Maybe)?)),
        [kind, ver] if kind == b"tombstone" => Ok(Held::Tombstone(version(ver, Applied::Maybe)?)),
        _ => Err(malformed(
            Applied::Maybe,
            "a previous state of unknown shape",
        )),
    }
}

fn version(text: &[u8], applied: Applied) -> Result<Version, StorageError> {
    parse_version(text).ok_or_else(|| malformed(applied, "a version that is not a u64"))
}

/// The reply of `purge.lua`: how many tombstones it removed.
pub(crate) fn purged(reply: Reply) -> Result<u64, StorageError> {
    match reply {
        Reply::Int(n) => {
            u64::try_from(n).map_err(|_| malformed(Applied::Maybe, "a negative count"))
        }
        _ => Err(malformed(Applied::Maybe, "a count that is not an integer")),
    }
}

pub(crate) fn malformed(applied: Applied, what: &str) -> StorageError {
    StorageError::new(
        ErrorKind::Other,
        applied,
        format!("unexpected reply from a script: {what}"),
    )
}

fn text(reply: Reply) -> Option<Vec<u8>> {
    match reply {
        Reply::BulkString(bytes) => Some(bytes),
        Reply::SimpleString(s) => Some(s.into_bytes()),
        _ => None,
    }
}

pub(crate) fn strings(reply: Reply) -> Option<Vec<Vec<u8>>> {
    match reply {
        Reply::Array(items) => items.into_iter().map(text).collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use optimist_core::WriteToken;

    fn bulk(s: &str) -> Reply {
        Reply::BulkString(s.as_bytes().to_vec())
    }

    fn array(items: Vec<Reply>) -> Reply {
        Reply::Array(items)
    }

    const TOKEN: &str = "000000000000000000000000000000ff";

    fn token() -> Option<WriteToken> {
        Some(WriteToken::from_u128(0xff))
    }

    #[test]
    fn writes_read_both_ways() {
        assert_eq!(
            write(array(vec![bulk("applied"), bulk("item"), bulk("7")])).ok(),
            Some(Outcome::Applied {
                previous: Held::Item(Version::new(7))
            })
        );
        assert_eq!(
            write(array(vec![bulk("applied"), bulk("tombstone"), bulk("7")])).ok(),
            Some(Outcome::Applied {
                previous: Held::Tombstone(Version::new(7))
            })
        );
        assert_eq!(
            write(array(vec![bulk("applied")])).ok(),
            Some(Outcome::Applied {
                previous: Held::Nothing
            })
        );
        let item = Record::item(serde_json::json!({"a": 1}), Version::new(3)).with_token(token());
        assert_eq!(
            write(array(vec![
                bulk("refused"),
                bulk("3"),
                bulk(TOKEN),
                bulk(r#"{"a":1}"#)
            ]))
            .ok(),
            Some(Outcome::Refused {
                current: Some(item)
            })
        );
        let foreign = Record::tombstone(Version::new(4));
        assert_eq!(
            write(array(vec![bulk("refused"), bulk("4"), bulk("")])).ok(),
            Some(Outcome::Refused {
                current: Some(foreign)
            })
        );
        assert_eq!(
            write(array(vec![bulk("refused")])).ok(),
            Some(Outcome::Refused { current: None })
        );
    }

    #[test]
    fn reads_carry_the_token_as_stored() {
        let tombstone = Record::tombstone(Version::new(2)).with_token(token());
        assert_eq!(
            read(array(vec![bulk("2"), bulk(TOKEN)])).ok(),
            Some(Some(tombstone))
        );
        let item = Record::item(serde_json::json!(null), Version::new(1));
        assert_eq!(
            read(array(vec![bulk("1"), bulk(""), bulk("null")])).ok(),
            Some(Some(item))
        );
        assert_eq!(read(array(vec![])).ok(), Some(None));
    }

    #[test]
    fn a_malformed_stored_token_is_corrupt() {
        for bad in ["x", "000000000000000000000000000000FF", "00ff"] {
            let err = read(array(vec![bulk("1"), bulk(bad), bulk("1")])).err();
            assert_eq!(
                err.map(|e| (e.kind(), e.applied())),
                Some((ErrorKind::Corrupt, Applied::No)),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_write_reply_that_cannot_be_read_may_have_been_applied() {
        let err = write(array(vec![bulk("applied"), bulk("item"), bulk("x")])).err();
        assert_eq!(err.map(|e| e.applied()), Some(Applied::Maybe));
        let err = write(array(vec![bulk("applied"), bulk("7")])).err();
        assert_eq!(err.map(|e| e.applied()), Some(Applied::Maybe));
        let err = write(bulk("OK")).err();
        assert_eq!(err.map(|e| e.applied()), Some(Applied::Maybe));
        // A refusal wrote nothing, whatever is wrong with it.
        let err = write(array(vec![
            bulk("refused"),
            bulk("1"),
            bulk(""),
            bulk("{oops"),
        ]))
        .err();
        assert_eq!(
            err.map(|e| (e.kind(), e.applied())),
            Some((ErrorKind::Corrupt, Applied::No))
        );
    }

    #[test]
    fn commits_read_both_ways() {
        let applied = array(vec![
            bulk("applied"),
            array(vec![]),
            array(vec![bulk("item"), bulk("18446744073709551615")]),
            array(vec![bulk("tombstone"), bulk("3")]),
        ]);
        assert_eq!(
            commit(applied, 3).ok(),
            Some(CommitOutcome::Applied {
                previous: vec![
                    Held::Nothing,
                    Held::Item(Version::new(u64::MAX)),
                    Held::Tombstone(Version::new(3))
                ]
            })
        );
        let refused = array(vec![
            bulk("refused"),
            array(vec![bulk("0")]),
            array(vec![bulk("2"), bulk("9"), bulk(TOKEN), bulk("1")]),
            array(vec![bulk("3"), bulk("5"), bulk("")]),
        ]);
        assert_eq!(
            commit(refused, 4).ok(),
            Some(CommitOutcome::Refused {
                current: vec![
                    (0, None),
                    (
                        2,
                        Some(
                            Record::item(serde_json::json!(1), Version::new(9)).with_token(token())
                        )
                    ),
                    (3, Some(Record::tombstone(Version::new(5))))
                ]
            })
        );
        let short = array(vec![bulk("applied"), array(vec![])]);
        assert_eq!(
            commit(short, 2).err().map(|e| e.applied()),
            Some(Applied::Maybe)
        );
    }

    #[test]
    fn purge_counts_read() {
        assert_eq!(purged(Reply::Int(3)).ok(), Some(3));
        assert_eq!(
            purged(Reply::Int(-1)).err().map(|e| e.applied()),
            Some(Applied::Maybe)
        );
    }
}

//! Reading the scripts' replies (their shapes are documented at the top of each
//! `lua/*.lua`) into the engine's answers.
//!
//! A reply this backend cannot read is [`ErrorKind::Other`]; whether the request may
//! have been applied depends on what was understood of it: after `applied` or of
//! an unknown status, the script may have written; after `refused`, it wrote nothing.

use optimist_core::{Applied, CommitOutcome, ErrorKind, Outcome, StorageError, Version, Versioned};
use redis::Value as Reply;
use serde_json::Value;

use crate::item::{decode, parse_version};

/// The reply of `read.lua`: `{}` or `{json, version}`.
pub(crate) fn read(reply: Reply) -> Result<Option<Versioned<Value>>, StorageError> {
    let parts = strings(reply).ok_or_else(|| malformed(Applied::No, "not an array of strings"))?;
    item(&parts, Applied::No)
}

/// The reply of `write.lua`: `{applied[, previous]}` or `{refused[, json, version]}`.
pub(crate) fn write(reply: Reply) -> Result<Outcome, StorageError> {
    let parts =
        strings(reply).ok_or_else(|| malformed(Applied::Maybe, "not an array of strings"))?;
    match parts.split_first() {
        Some((status, rest)) if status == b"applied" => match rest {
            [] => Ok(Outcome::Applied { previous: None }),
            [previous] => Ok(Outcome::Applied {
                previous: Some(version(previous, Applied::Maybe)?),
            }),
            _ => Err(malformed(
                Applied::Maybe,
                "an applied write with extra fields",
            )),
        },
        Some((status, rest)) if status == b"refused" => Ok(Outcome::Refused {
            current: item(rest, Applied::No)?,
        }),
        _ => Err(malformed(Applied::Maybe, "no known status")),
    }
}

/// The reply of `commit.lua`: `{applied, previous...}` with one entry per write (`''`
/// for none), or `{refused, {index[, json, version]}...}`.
pub(crate) fn commit(reply: Reply, writes: usize) -> Result<CommitOutcome, StorageError> {
    let Reply::Array(parts) = reply else {
        return Err(malformed(Applied::Maybe, "not an array"));
    };
    let mut parts = parts.into_iter();
    let status = parts.next().and_then(text);
    match status.as_deref() {
        Some(b"applied") => {
            let previous = parts
                .map(|part| match text(part) {
                    Some(v) if v.is_empty() => Ok(None),
                    Some(v) => version(&v, Applied::Maybe).map(Some),
                    None => Err(malformed(Applied::Maybe, "a version is not a string")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            if previous.len() != writes {
                return Err(malformed(Applied::Maybe, "not one version per write"));
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
                    Ok((index, item(rest, Applied::No)?))
                })
                .collect::<Result<Vec<_>, StorageError>>()?;
            Ok(CommitOutcome::Refused { current })
        }
        _ => Err(malformed(Applied::Maybe, "no known status")),
    }
}

/// An item's fields, `{}` for none, `{json, version}` for one.
fn item(fields: &[Vec<u8>], applied: Applied) -> Result<Option<Versioned<Value>>, StorageError> {
    match fields {
        [] => Ok(None),
        [json, ver] => decode(json, version(ver, applied)?).map(Some),
        _ => Err(malformed(
            applied,
            "an item with the wrong number of fields",
        )),
    }
}

fn version(text: &[u8], applied: Applied) -> Result<Version, StorageError> {
    parse_version(text).ok_or_else(|| malformed(applied, "a version that is not a u64"))
}

fn malformed(applied: Applied, what: &str) -> StorageError {
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

fn strings(reply: Reply) -> Option<Vec<Vec<u8>>> {
    match reply {
        Reply::Array(items) => items.into_iter().map(text).collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Reply {
        Reply::BulkString(s.as_bytes().to_vec())
    }

    fn array(items: Vec<Reply>) -> Reply {
        Reply::Array(items)
    }

    #[test]
    fn writes_read_both_ways() {
        assert_eq!(
            write(array(vec![bulk("applied"), bulk("7")])).ok(),
            Some(Outcome::Applied {
                previous: Some(Version::new(7))
            })
        );
        assert_eq!(
            write(array(vec![bulk("applied")])).ok(),
            Some(Outcome::Applied { previous: None })
        );
        let current = Versioned::new(serde_json::json!({"a": 1}), Version::new(3));
        assert_eq!(
            write(array(vec![bulk("refused"), bulk(r#"{"a":1}"#), bulk("3")])).ok(),
            Some(Outcome::Refused {
                current: Some(current)
            })
        );
    }

    #[test]
    fn a_write_reply_that_cannot_be_read_may_have_been_applied() {
        let err = write(array(vec![bulk("applied"), bulk("x")])).err();
        assert_eq!(err.map(|e| e.applied()), Some(Applied::Maybe));
        let err = write(bulk("OK")).err();
        assert_eq!(err.map(|e| e.applied()), Some(Applied::Maybe));
        // A refusal wrote nothing, whatever is wrong with it.
        let err = write(array(vec![bulk("refused"), bulk("{oops"), bulk("1")])).err();
        assert_eq!(
            err.map(|e| (e.kind(), e.applied())),
            Some((ErrorKind::Corrupt, Applied::No))
        );
    }

    #[test]
    fn commits_read_both_ways() {
        let applied = array(vec![
            bulk("applied"),
            bulk(""),
            bulk("18446744073709551615"),
        ]);
        assert_eq!(
            commit(applied, 2).ok(),
            Some(CommitOutcome::Applied {
                previous: vec![None, Some(Version::new(u64::MAX))]
            })
        );
        let refused = array(vec![
            bulk("refused"),
            array(vec![bulk("0")]),
            array(vec![bulk("2"), bulk("1"), bulk("9")]),
        ]);
        assert_eq!(
            commit(refused, 3).ok(),
            Some(CommitOutcome::Refused {
                current: vec![
                    (0, None),
                    (
                        2,
                        Some(Versioned::new(serde_json::json!(1), Version::new(9)))
                    )
                ]
            })
        );
        let short = array(vec![bulk("applied"), bulk("")]);
        assert_eq!(
            commit(short, 2).err().map(|e| e.applied()),
            Some(Applied::Maybe)
        );
    }
}

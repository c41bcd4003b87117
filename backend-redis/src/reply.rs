//! Reading the scripts' replies (their shapes are documented at the top of each
//! `lua/*.lua`).

use optimist_core::{Conflict, Error, Key, OpFailure, Operation, Result, TxOp, Version, Versioned};
use redis::Value as Reply;
use serde_json::Value;

use crate::error::{Writes, bad_reply, corrupt};

/// What a single conditional or unconditional write did.
pub(crate) enum Outcome {
    /// Applied; the item's version afterwards (`None` when it no longer exists).
    Applied(Option<Version>),
    /// Refused, with the item as it was.
    Refused(Conflict),
}

/// The reply of `get.lua`.
pub(crate) fn get(key: &Key, reply: Reply) -> Result<Option<Versioned<Value>>> {
    let bad = |what: &str| bad_reply(Operation::Get, Some(key), Writes::No, what);
    let parts = strings(reply).ok_or_else(|| bad("not an array of strings"))?;
    match parts.as_slice() {
        [] => Ok(None),
        [json, ver] => Ok(Some(item(Operation::Get, key, json, ver)?)),
        _ => Err(bad("wrong number of fields")),
    }
}

/// The reply of `insert`, `update`, `delete`, `put` or `remove`.
pub(crate) fn single(
    operation: Operation,
    key: &Key,
    expected: Option<Version>,
    reply: Reply,
) -> Result<Outcome> {
    let bad = |what: &str| bad_reply(operation, Some(key), Writes::Yes, what);
    let parts = strings(reply).ok_or_else(|| bad("not an array of strings"))?;
    let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    match parts.as_slice() {
        [b"ok"] => Ok(Outcome::Applied(None)),
        [b"ok", ver] => {
            let version = version(ver).ok_or_else(|| bad("the new version is not a u64"))?;
            Ok(Outcome::Applied(Some(version)))
        }
        [kind, rest @ ..] => conflict(operation, key, kind, rest, expected)?
            .map(Outcome::Refused)
            .ok_or_else(|| bad("unknown status")),
        [] => Err(bad("empty reply")),
    }
}

/// The reply of `transact.lua`: each op's version afterwards, or every failing op.
pub(crate) fn transact(ops: &[TxOp], reply: Reply) -> Result<Vec<Option<Version>>> {
    let bad = |what: &str| bad_reply(Operation::Transact, None, Writes::Yes, what);
    let Reply::Array(mut parts) = reply else {
        return Err(bad("not an array"));
    };
    if parts.is_empty() {
        return Err(bad("empty reply"));
    }
    let status = text(parts.remove(0)).ok_or_else(|| bad("no status"))?;
    match status.as_slice() {
        b"ok" => {
            if parts.len() != ops.len() {
                return Err(bad("one version per op expected"));
            }
            parts
                .into_iter()
                .map(|part| match text(part) {
                    Some(v) if v.is_empty() => Ok(None),
                    Some(v) => version(&v)
                        .map(Some)
                        .ok_or_else(|| bad("a version is not a u64")),
                    None => Err(bad("a version is not a string")),
                })
                .collect()
        }
        b"conflict" => {
            // Nothing was written: the script returns before its first write. So a
            // failure we cannot read is a plain backend error, not an unknown outcome.
            let refused = |what: &str| bad_reply(Operation::Transact, None, Writes::No, what);
            let mut failures = Vec::with_capacity(parts.len());
            for part in parts {
                let fields = strings(part).ok_or_else(|| refused("a failure is not an array"))?;
                let [index, kind, rest @ ..] = fields.as_slice() else {
                    return Err(refused("a failure has too few fields"));
                };
                let op = std::str::from_utf8(index)
                    .ok()
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| ops.get(i).map(|op| (i, op)));
                let Some((index, op)) = op else {
                    return Err(refused("a failure names no op"));
                };
                let rest: Vec<&[u8]> = rest.iter().map(Vec::as_slice).collect();
                let conflict = conflict(
                    Operation::Transact,
                    op.key(),
                    kind,
                    &rest,
                    op.action().expected(),
                )?
                .ok_or_else(|| refused("unknown failure kind"))?;
                failures.push(OpFailure {
                    index,
                    key: op.key().clone(),
                    conflict,
                });
            }
            if failures.is_empty() {
                return Err(refused("a conflict without failures"));
            }
            Err(Error::TransactionConflict { failures })
        }
        _ => Err(bad("unknown status")),
    }
}

/// A conflict reply (`exists`, `notfound`, `mismatch`), `None` for another status.
fn conflict(
    operation: Operation,
    key: &Key,
    kind: &[u8],
    rest: &[&[u8]],
    expected: Option<Version>,
) -> Result<Option<Conflict>> {
    // The script refused the write, so nothing was written whatever goes wrong here.
    let bad = |what: &str| bad_reply(operation, Some(key), Writes::No, what);
    Ok(Some(match (kind, rest, expected) {
        (b"notfound", [], _) => Conflict::NotFound,
        (b"exists", [json, ver], _) => Conflict::AlreadyExists {
            current: item(operation, key, json, ver)?,
        },
        (b"mismatch", [json, ver], Some(expected)) => Conflict::VersionMismatch {
            expected,
            current: item(operation, key, json, ver)?,
        },
        (b"notfound" | b"exists" | b"mismatch", _, _) => {
            return Err(bad("a conflict with the wrong fields"));
        }
        _ => return Ok(None),
    }))
}

fn item(operation: Operation, key: &Key, json: &[u8], ver: &[u8]) -> Result<Versioned<Value>> {
    let version = version(ver)
        .ok_or_else(|| bad_reply(operation, Some(key), Writes::No, "a version is not a u64"))?;
    let value = serde_json::from_slice(json).map_err(|err| {
        corrupt(
            operation,
            Some(key),
            format!("the stored value is not JSON ({err}); was it written by another tool?"),
        )
    })?;
    Ok(Versioned::new(value, version))
}

fn version(text: &[u8]) -> Option<Version> {
    std::str::from_utf8(text)
        .ok()?
        .parse::<u64>()
        .ok()
        .map(Version::new)
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

//! Items in their stored form: values as JSON text, versions as decimal text, and a
//! write as the five script arguments the prelude of `src/lua/` reads. (Keys are
//! spelled by [`Prefix::redis_key`](crate::Prefix::redis_key).)

use optimist_core::{Change, ErrorKind, Expect, StorageError, Version, Versioned, Write};
use serde_json::Value;

/// One write as script arguments: precondition, expected version, change, the version
/// a put stores when the engine knows it, and the JSON a put stores.
pub(crate) struct WriteArgs {
    expect: &'static [u8],
    expected: String,
    change: &'static [u8],
    new_version: String,
    json: Vec<u8>,
}

impl WriteArgs {
    /// Encodes `write`.
    pub(crate) fn new(write: &Write<'_>) -> Result<Self, StorageError> {
        let (expect, expected): (&'static [u8], _) = match write.expect {
            Expect::Absent => (b"absent", String::new()),
            Expect::At(version) => (b"at", version_text(version)),
            Expect::Any => (b"any", String::new()),
        };
        let (change, new_version, json): (&'static [u8], _, _) = match write.change {
            // Under `Any` the script computes the version from the item it reads.
            Change::Put(value) => (
                b"put",
                write.new_version().map(version_text).unwrap_or_default(),
                encode(value)?,
            ),
            Change::Delete => (b"delete", String::new(), Vec::new()),
            Change::Keep => (b"keep", String::new(), Vec::new()),
        };
        Ok(Self {
            expect,
            expected,
            change,
            new_version,
            json,
        })
    }

    /// Appends the five arguments to `args`, in the scripts' order.
    pub(crate) fn push_to<'a>(&'a self, args: &mut Vec<&'a [u8]>) {
        args.extend([
            self.expect,
            self.expected.as_bytes(),
            self.change,
            self.new_version.as_bytes(),
            self.json.as_slice(),
        ]);
    }
}

/// A value as the JSON text stored in the item's `v` field.
fn encode(value: &Value) -> Result<Vec<u8>, StorageError> {
    // A `serde_json::Value` always serialises; kept typed all the same.
    serde_json::to_vec(value).map_err(|err| StorageError::not_applied(ErrorKind::Other, err))
}

/// A version as stored in the item's `ver` field and compared by the scripts: decimal,
/// no leading zeros.
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

/// An item from its stored JSON and version. JSON this store cannot read (another
/// tool wrote it) is [`ErrorKind::Corrupt`], with serde_json's error as the source.
pub(crate) fn decode(json: &[u8], version: Version) -> Result<Versioned<Value>, StorageError> {
    let value = serde_json::from_slice(json).map_err(StorageError::corrupt)?;
    Ok(Versioned::new(value, version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use optimist_core::Key;
    use serde_json::json;

    fn args(write: &Write<'_>) -> Option<Vec<Vec<u8>>> {
        let encoded = WriteArgs::new(write).ok()?;
        let mut args = Vec::new();
        encoded.push_to(&mut args);
        Some(args.into_iter().map(<[u8]>::to_vec).collect())
    }

    fn strings(args: &[&str]) -> Option<Vec<Vec<u8>>> {
        Some(args.iter().map(|a| a.as_bytes().to_vec()).collect())
    }

    #[test]
    fn the_engine_computes_the_version_of_a_conditional_put() {
        let key = Key::new("k");
        let value = json!({"n": 1});
        let insert = Write::new(&key, Expect::Absent, Change::Put(&value));
        assert_eq!(
            args(&insert),
            strings(&["absent", "", "put", "1", r#"{"n":1}"#])
        );
        let update = Write::new(&key, Expect::At(Version::new(41)), Change::Put(&value));
        assert_eq!(
            args(&update),
            strings(&["at", "41", "put", "42", r#"{"n":1}"#])
        );
        let put = Write::new(&key, Expect::Any, Change::Put(&value));
        assert_eq!(args(&put), strings(&["any", "", "put", "", r#"{"n":1}"#]));
    }

    #[test]
    fn deletes_and_checks_carry_no_value() {
        let key = Key::new("k");
        let max = Version::new(u64::MAX);
        let delete = Write::new(&key, Expect::At(max), Change::Delete);
        assert_eq!(
            args(&delete),
            strings(&["at", "18446744073709551615", "delete", "", ""])
        );
        let remove = Write::new(&key, Expect::Any, Change::Delete);
        assert_eq!(args(&remove), strings(&["any", "", "delete", "", ""]));
        let check = Write::new(&key, Expect::At(max), Change::Keep);
        assert_eq!(
            args(&check),
            strings(&["at", "18446744073709551615", "keep", "", ""])
        );
    }

    #[test]
    fn stored_json_that_does_not_parse_is_corrupt() {
        let err = decode(b"{oops", Version::FIRST).err();
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
    fn versions_parse_exactly() {
        assert_eq!(
            parse_version(b"18446744073709551615"),
            Some(Version::new(u64::MAX))
        );
        assert_eq!(parse_version(b"18446744073709551616"), None);
        assert_eq!(parse_version(b""), None);
    }
}

//! The opaque cursor joining the pages of one query or scan.
//!
//! A cursor holds where the page ended (the last key the backend examined), which read
//! it belongs to (a fingerprint of the store, the partition, the range and the order),
//! and a checksum. The engine refuses, as `InvalidInput`, a cursor that does not decode,
//! whose checksum fails (altered by hand), or whose fingerprint is another read's.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Key;

/// Where the next page of a [`query`](crate::VersionedStore::query) or
/// [`scan`](crate::VersionedStore::scan) starts. Opaque: pass it back as it came,
/// through [`QueryOptions::cursor`](crate::QueryOptions::cursor) or
/// [`ScanOptions::cursor`](crate::ScanOptions::cursor). It is plain ASCII, so it can
/// travel in a URL or a JSON document and be rebuilt with `parse` or `From<String>`;
/// the store checks it when it is used, and a cursor that was altered, or that belongs to
/// another query or store, is `InvalidInput`.
///
/// ```
/// use optimist_core::{Cursor, ScanOptions, VersionedStore};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = optimist_memory::MemoryStore::new();
/// let forged: Cursor = "not a cursor".parse().unwrap();
/// let err = store.scan(ScanOptions::new().cursor(Some(forged))).await.unwrap_err();
/// assert!(err.is_invalid_input());
/// # });
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    /// The cursor as text.
    ///
    /// ```
    /// let cursor = optimist_core::Cursor::from("abc".to_string());
    /// assert_eq!(cursor.as_str(), "abc");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// Cursors hold keys, which may be long; a short form keeps logs readable.
impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 24;
        match self.0.get(..SHOWN) {
            Some(head) if self.0.len() > SHOWN => write!(f, "Cursor({head}…)"),
            _ => write!(f, "Cursor({})", self.0),
        }
    }
}

impl From<String> for Cursor {
    fn from(text: String) -> Self {
        Cursor(text)
    }
}

impl FromStr for Cursor {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Cursor(text.to_string()))
    }
}

/// Which kind of read a cursor continues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CursorKind {
    Query = 1,
    Scan = 2,
}

/// What a cursor says: the read it belongs to and the key its page ended at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) kind: CursorKind,
    pub(crate) fingerprint: u64,
    pub(crate) after: Key,
}

const PREFIX: &str = "o1";
// Salts the checksum so that a cursor whose bytes were edited and re-summed with a plain
// FNV-1a does not pass; a cursor is not a secret, only a position.
const SALT: &[u8] = b"optimist cursor v1";

impl Position {
    pub(crate) fn encode(&self) -> Cursor {
        let mut bytes = vec![self.kind as u8];
        bytes.extend_from_slice(&self.fingerprint.to_be_bytes());
        let (partition, sort) = self.after.parts();
        push_part(&mut bytes, partition);
        match sort {
            Some(sort) => {
                bytes.push(1);
                push_part(&mut bytes, sort);
            }
            None => bytes.push(0),
        }
        let sum = checksum(&bytes);
        bytes.extend_from_slice(&sum.to_be_bytes());
        let mut text = String::with_capacity(PREFIX.len() + bytes.len() * 2);
        text.push_str(PREFIX);
        for byte in bytes {
            text.push_str(&format!("{byte:02x}"));
        }
        Cursor(text)
    }

    /// Decodes a cursor; the error says what is wrong with it.
    pub(crate) fn decode(cursor: &Cursor) -> Result<Position, &'static str> {
        let hex = cursor
            .0
            .strip_prefix(PREFIX)
            .ok_or("the cursor is not one this library made")?;
        let bytes = unhex(hex).ok_or("the cursor is not one this library made")?;
        let (body, sum) = bytes
            .split_last_chunk::<8>()
            .ok_or("the cursor is truncated")?;
        if checksum(body) != u64::from_be_bytes(*sum) {
            return Err("the cursor was altered (its checksum does not match)");
        }
        let mut reader = Reader(body);
        let kind = match reader.byte()? {
            1 => CursorKind::Query,
            2 => CursorKind::Scan,
            _ => return Err("the cursor is not one this library made"),
        };
        let fingerprint = u64::from_be_bytes(reader.take_array()?);
        let partition = reader.part()?;
        let after = match reader.byte()? {
            0 => Key::new(partition),
            1 => Key::with_sort(partition, reader.part()?),
            _ => return Err("the cursor is not one this library made"),
        };
        if !reader.0.is_empty() {
            return Err("the cursor has trailing bytes");
        }
        Ok(Position {
            kind,
            fingerprint,
            after,
        })
    }
}

fn push_part(bytes: &mut Vec<u8>, part: &str) {
    // Key parts are at most 1 KiB (contract R1); a backend's own keys fit in u32 anyway.
    let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
    bytes.extend_from_slice(&len.to_be_bytes());
    bytes.extend_from_slice(part.as_bytes());
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, &'static str> {
        let (first, rest) = self.0.split_first().ok_or("the cursor is truncated")?;
        self.0 = rest;
        Ok(*first)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], &'static str> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or("the cursor is truncated")?;
        self.0 = rest;
        Ok(*head)
    }

    fn part(&mut self) -> Result<String, &'static str> {
        let len = u32::from_be_bytes(self.take_array()?) as usize;
        if self.0.len() < len {
            return Err("the cursor is truncated");
        }
        let (text, rest) = self.0.split_at(len);
        self.0 = rest;
        String::from_utf8(text.to_vec()).map_err(|_| "the cursor holds a key that is not UTF-8")
    }
}

fn unhex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    hex.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digits = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(digits, 16).ok()
        })
        .collect()
}

/// FNV-1a, 64 bits: stable across Rust versions and platforms, unlike `DefaultHasher`,
/// so a cursor made by one build of a service is read by the next.
pub(crate) fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn checksum(body: &[u8]) -> u64 {
    fnv1a(&[SALT, body])
}

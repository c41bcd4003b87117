//! Reading a store's settings from its connection URL, one way for every backend: where
//! the query starts, which option a pair names, and an error that names the option at
//! fault (serde_urlencoded's own message for a bad value does not say which one).
//!
//! ```
//! use optimist_core::url_options::{read_options, split_query};
//!
//! #[derive(serde::Deserialize, Debug)]
//! #[serde(deny_unknown_fields)]
//! struct Options {
//!     table: Option<String>,
//!     tombstones: Option<bool>,
//! }
//!
//! let parts = split_query("postgres://me:p?w@db/app?table=orders&tombstones=yes#top");
//! assert_eq!(parts.base, "postgres://me:p?w@db/app");
//! let pairs: Vec<&str> = parts.pairs().collect();
//! let err = read_options::<Options>(&pairs, "").unwrap_err();
//! assert!(err.starts_with("option `tombstones`:"), "{err}");
//! ```

use serde::de::DeserializeOwned;

/// A URL cut into what comes before its query, the query (without its `?`), and the
/// fragment (with its `#`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// Scheme, user information, host and path.
    pub base: &'a str,
    /// The options, `name=value` pairs joined by `&`.
    pub query: &'a str,
    /// `#` and what follows it, or empty.
    pub fragment: &'a str,
}

impl<'a> UrlParts<'a> {
    /// The query's non-empty `name=value` pairs, as written (still percent-encoded).
    ///
    /// ```
    /// let parts = optimist_core::url_options::split_query("redis://h/0?prefix=a&&x=1");
    /// assert_eq!(parts.pairs().collect::<Vec<_>>(), ["prefix=a", "x=1"]);
    /// ```
    pub fn pairs(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.query.split('&').filter(|pair| !pair.is_empty())
    }
}

/// Cuts `url` at its query and fragment. The query starts at the first `?` after the
/// user information, which ends at the last `@` (as
/// [`redact_url`](crate::redact::redact_url) reads it), so a raw `?` or `#` in a
/// password is never taken for the start of the options.
///
/// ```
/// use optimist_core::url_options::split_query;
///
/// let parts = split_query("redis://:a?b#c@h:6379/0?prefix=app#frag");
/// assert_eq!((parts.base, parts.query, parts.fragment), ("redis://:a?b#c@h:6379/0", "prefix=app", "#frag"));
/// assert_eq!(split_query("sqlite::memory:").query, "");
/// ```
pub fn split_query(url: &str) -> UrlParts<'_> {
    let (without_fragment, fragment) = match url.rfind('#') {
        Some(at) if url[at..].find('@').is_none() => url.split_at(at),
        _ => (url, ""),
    };
    let host_start = without_fragment.rfind('@').map_or(0, |at| at + 1);
    match without_fragment[host_start..].find('?') {
        Some(at) => {
            let at = host_start + at;
            UrlParts {
                base: &without_fragment[..at],
                query: &without_fragment[at + 1..],
                fragment,
            }
        }
        None => UrlParts {
            base: without_fragment,
            query: "",
            fragment,
        },
    }
}

/// The name of a query pair, percent-decoded.
///
/// ```
/// assert_eq!(optimist_core::url_options::option_name("max%5Fconnections=4"), "max_connections");
/// assert_eq!(optimist_core::url_options::option_name("flag"), "flag");
/// ```
pub fn option_name(pair: &str) -> String {
    form_urlencoded::parse(pair.as_bytes())
        .next()
        .map(|(name, _)| name.into_owned())
        .unwrap_or_default()
}

/// The options `pairs` read as `T`; on failure, a message naming the option at fault.
/// `filler` holds pairs (`&name=value`) that let one pair be read alone when `T` has
/// required fields the pairs supply elsewhere; empty when it has none.
///
/// ```
/// use optimist_core::url_options::read_options;
///
/// #[derive(serde::Deserialize, Debug)]
/// struct Options { table: String, max_connections: Option<u32> }
///
/// let options: Options = read_options(&["table=t", "max_connections=8"], "")?;
/// assert_eq!(options.max_connections, Some(8));
/// let err = read_options::<Options>(&["max_connections=many", "table=t"], "&table=any").unwrap_err();
/// assert!(err.starts_with("option `max_connections`:"), "{err}");
/// # Ok::<(), String>(())
/// ```
pub fn read_options<T: DeserializeOwned>(pairs: &[&str], filler: &str) -> Result<T, String> {
    let err = match serde_urlencoded::from_str::<T>(&pairs.join("&")) {
        Ok(options) => return Ok(options),
        Err(err) => err,
    };
    let message = err.to_string();
    // An unknown or missing field already has its name in the message.
    if message.contains("field `") {
        return Err(message);
    }
    for pair in pairs {
        if let Err(err) = serde_urlencoded::from_str::<T>(&format!("{pair}{filler}")) {
            return Err(format!("option `{}`: {err}", option_name(pair)));
        }
    }
    Err(message)
}

/// `text` with every `%XX` decoded, strictly: a `%` not followed by two hex digits, or
/// bytes that are not UTF-8 once decoded, are refused with the reason (for paths, where
/// a wrong guess would open another file).
///
/// ```
/// use optimist_core::url_options::percent_decode;
///
/// assert_eq!(percent_decode("my%20app.db").as_deref(), Ok("my app.db"));
/// assert!(percent_decode("100%.db").is_err());
/// assert!(percent_decode("%FF").is_err());
/// ```
pub fn percent_decode(text: &str) -> Result<String, &'static str> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if byte == b'%' {
            let decoded = bytes
                .get(at + 1..at + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or("holds a % not followed by two hex digits")?;
            out.push(decoded);
            at += 3;
        } else {
            out.push(byte);
            at += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "is not UTF-8 once percent-decoded")
}

//! Reading a connection URL the way a careless password makes it read: where a
//! password may be written, whichever way a parser splits the URL.
//!
//! A raw `/`, `?`, `#` or `@` in a password makes a URL ambiguous: to a URL parser
//! `redis://me:12/x@db/0` is host `me`, port `12`, path `/x@db/0`. So nothing here
//! trusts one parse: everything between `://` and the *last* `@` counts as user
//! information, the authority as a parser ends it (at the first `/`, `?` or `#`) is
//! read too, and every `?` may start a query.

use super::REDACTED;

/// What is shown of a text that is not `scheme://…`: nothing tells where a password
/// would be in it, so none of it.
pub(super) const NOT_A_URL: &str = "(not a URL, hidden)";

/// Query parameters whose value is treated as a secret: a parameter whose name,
/// percent-decoded and in lower case, contains one of these.
const SECRET_PARAMS: [&str; 7] = [
    "pass",
    "pwd",
    "secret",
    "token",
    "auth",
    "key",
    "credential",
];

/// See [`redact_url`](super::redact_url).
pub(super) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = split_scheme(url) else {
        return NOT_A_URL.to_string();
    };
    let shown = match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:{REDACTED}@{host}"),
            None => format!("{scheme}://{rest}"),
        },
        None => format!("{scheme}://{rest}"),
    };
    // A fragment is never sent to a server; it may only hold the tail of a raw secret.
    let shown = shown.split('#').next().unwrap_or_default();
    match shown.split_once('?') {
        Some((base, query)) => format!("{base}?{}", redact_query(query)),
        None => shown.to_string(),
    }
}

/// The query with the value of the first secret parameter, and everything after it,
/// replaced: a raw `&` in a secret would otherwise leave its tail showing as a
/// parameter of its own.
fn redact_query(query: &str) -> String {
    let mut shown = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some((name, _)) if is_secret_param(name) => {
                shown.push(format!("{name}={REDACTED}"));
                break;
            }
            _ => shown.push(pair.to_string()),
        }
    }
    shown.join("&")
}

/// Every place of `url` where a secret may be written, as written: the password of
/// the user information (read up to the last `@`, and as a parser ends the
/// authority), and the value of each secret query parameter (whole to the end of the
/// URL, and cut where a parser would end it, at `&` or `#`).
pub(super) fn written_secrets(url: &str) -> Vec<&str> {
    let mut written = Vec::new();
    let Some((_, rest)) = split_scheme(url) else {
        // Not a URL: the caller adds what it knows the secret to be.
        return written;
    };
    if let Some((userinfo, _)) = rest.rsplit_once('@') {
        written.extend(userinfo.split_once(':').map(|(_, password)| password));
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        written.extend(userinfo.split_once(':').map(|(_, password)| password));
    }
    for (at, _) in rest.match_indices('?') {
        let query = &rest[at + 1..];
        let mut offset = 0;
        for pair in query.split('&') {
            if let Some((name, _)) = pair.split_once('=') {
                if is_secret_param(name) {
                    let whole = &query[offset + name.len() + 1..];
                    let to_amp = whole.split('&').next().unwrap_or_default();
                    let to_hash = to_amp.split('#').next().unwrap_or_default();
                    written.extend([whole, to_amp, to_hash]);
                }
            }
            offset += pair.len() + 1;
        }
    }
    written.retain(|secret| !secret.is_empty());
    written
}

fn is_secret_param(name: &str) -> bool {
    let name = super::percent::decode(name).to_lowercase();
    SECRET_PARAMS.iter().any(|word| name.contains(word))
}

/// `(scheme, rest)` of `scheme://rest`, the scheme made of ASCII letters, digits and
/// `+-.` as URL schemes are.
fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let valid = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    valid.then_some((scheme, rest))
}

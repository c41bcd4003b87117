//! The one place where sqlx's errors become `optimist_core::Error`s.
//!
//! What matters is whether the statement may have run:
//! - the server answered with an error: the statement (or the transaction) was rolled
//!   back, so nothing was written: `Backend`, retryable when trying later can help;
//! - the connection failed before anything was sent (no connection from the pool):
//!   `Backend { retryable: true }`;
//! - the connection failed after a write was sent: the server may have committed it and
//!   the answer was lost: `Indeterminate`. A read has no effect, so it is `Backend`.
//!
//! A conflict is never made from an error here: conflicts come only from rows the
//! statements return.

use std::fmt;

use optimist_core::{Error, Key, Operation};

/// SQLSTATEs of a transient refusal that the same statement may pass on a new attempt:
/// serialization failure and deadlock (retried internally first, see `retry.rs`).
const RETRY_INTERNALLY: [&str; 2] = ["40001", "40P01"];

/// Where an error happened, to tell whether the request may have been applied.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context<'a> {
    pub(crate) operation: Operation,
    pub(crate) key: Option<&'a Key>,
    /// Whether a lost answer may hide an applied write: a write statement sent outside
    /// a transaction, or a COMMIT.
    pub(crate) may_apply: bool,
}

impl<'a> Context<'a> {
    pub(crate) fn read(operation: Operation, key: Option<&'a Key>) -> Self {
        Self {
            operation,
            key,
            may_apply: false,
        }
    }

    pub(crate) fn write(operation: Operation, key: Option<&'a Key>) -> Self {
        Self {
            operation,
            key,
            may_apply: true,
        }
    }
}

/// A failed attempt: worth another try (serialization failure, deadlock), or final.
#[derive(Debug)]
pub(crate) enum Failure {
    Transient(sqlx::Error),
    Final(Error),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::Final(err)
    }
}

/// Classifies an error of a statement sent in `ctx`.
pub(crate) fn classify(err: sqlx::Error, ctx: Context<'_>) -> Failure {
    if sqlstate(&err).is_some_and(|code| RETRY_INTERNALLY.contains(&code.as_str())) {
        Failure::Transient(err)
    } else {
        Failure::Final(map(err, ctx))
    }
}

/// Maps a sqlx error to the contract's error.
pub(crate) fn map(err: sqlx::Error, ctx: Context<'_>) -> Error {
    let Context {
        operation,
        key,
        may_apply,
    } = ctx;
    use sqlx::Error as E;
    match &err {
        E::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if code == "22003" {
                // The only number the statements compute is `version + 1`.
                return Error::backend(
                    operation,
                    key,
                    false,
                    "the item's version counter is exhausted (BIGINT)",
                );
            }
            Error::backend(operation, key, retryable_sqlstate(&code), err)
        }
        // No connection could be had: nothing was sent.
        E::PoolTimedOut => Error::backend(operation, key, true, err),
        E::PoolClosed => Error::backend(operation, key, false, err),
        E::Configuration(_) => Error::backend(operation, key, false, err),
        // The conversation with the server broke; the request may have arrived.
        E::Io(_) | E::Tls(_) | E::Protocol(_) | E::WorkerCrashed => {
            if may_apply {
                Error::indeterminate(operation, key, err)
            } else {
                Error::backend(operation, key, true, err)
            }
        }
        // The server answered but the rows are not what this store wrote: a table of
        // another shape. A write that got this far was applied.
        _ if may_apply => Error::indeterminate(operation, key, err),
        _ => Error::backend(operation, key, false, err),
    }
}

/// A store-level problem found in the rows themselves (a value that is not JSON, a
/// negative version): the table holds data this store did not write.
pub(crate) fn bad_row(ctx: Context<'_>, problem: impl Into<String>) -> Error {
    let source = BadRow(problem.into());
    if ctx.may_apply {
        Error::indeterminate(ctx.operation, ctx.key, source)
    } else {
        Error::backend(ctx.operation, ctx.key, false, source)
    }
}

#[derive(Debug)]
struct BadRow(String);

impl fmt::Display for BadRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unexpected row in the table: {}", self.0)
    }
}

impl std::error::Error for BadRow {}

/// The error's SQLSTATE, when the server sent one.
pub(crate) fn sqlstate(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// Whether a statement the server refused with `code` may pass later unchanged.
fn retryable_sqlstate(code: &str) -> bool {
    matches!(
        code,
        // serialization failure, deadlock, and the server shutting down or starting
        "40001" | "40P01" | "57P01" | "57P02" | "57P03"
        // lock timeout, statement timeout (canceled), too many connections, out of
        // memory or disk, a standby that does not take writes
        | "55P03" | "57014" | "53000" | "53100" | "53200" | "53300" | "25006"
    ) || code.starts_with("08")
}

/// A URL with its password replaced, for messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let base = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    };
    redact_password_param(base)
}

/// The passwords a URL holds (in its user info or a `password` parameter), raw and
/// percent-decoded, to cut out of any message.
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    if let Some((_, rest)) = url.split_once("://") {
        let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if let Some((_, password)) = userinfo.split_once(':') {
                secrets.push(password.to_owned());
            }
        }
    }
    if let Some((_, query)) = url.split_once('?') {
        for pair in query.split('&') {
            if let Some((name, value)) = pair.split_once('=') {
                if name.eq_ignore_ascii_case("password") {
                    secrets.push(value.to_owned());
                }
            }
        }
    }
    let decoded: Vec<String> = secrets.iter().map(|s| percent_decode(s)).collect();
    secrets.extend(decoded);
    secrets.retain(|s| !s.is_empty());
    secrets
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `?password=...` in the query string is a password too.
fn redact_password_param(url: String) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url;
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

/// The error of a message that may quote a secret: the secret is cut out.
#[derive(Debug)]
pub(crate) struct Scrubbed(pub(crate) String);

impl Scrubbed {
    pub(crate) fn new(message: impl fmt::Display, secrets: &[&str]) -> Self {
        let mut text = message.to_string();
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            text = text.replace(secret, "***");
        }
        Scrubbed(text)
    }
}

impl fmt::Display for Scrubbed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Scrubbed {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact_url("postgres://me:s3cret@db:5432/app"),
            "postgres://me:***@db:5432/app"
        );
        assert_eq!(
            redact_url("postgres://me:p@ss@db/app?sslmode=require&password=x"),
            "postgres://me:***@db/app?sslmode=require&password=***"
        );
        assert_eq!(redact_url("postgres://db/app"), "postgres://db/app");
    }

    #[test]
    fn secrets_are_found_raw_and_decoded() {
        let secrets = url_secrets("postgres://me:p%40ss@db/app?password=other");
        assert!(secrets.contains(&"p%40ss".to_string()));
        assert!(secrets.contains(&"p@ss".to_string()));
        assert!(secrets.contains(&"other".to_string()));
        assert!(url_secrets("postgres://me@db/app").is_empty());
    }

    #[test]
    fn scrubbed_messages_hide_secrets() {
        let s = Scrubbed::new("failed for postgres://u:hunter2@h/db", &["hunter2", ""]);
        assert_eq!(s.to_string(), "failed for postgres://u:***@h/db");
    }

    #[test]
    fn io_after_a_write_is_indeterminate() {
        let key = Key::new("k");
        let io = || sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(map(io(), Context::write(Operation::Put, Some(&key))).is_indeterminate());
        let read = map(io(), Context::read(Operation::Get, Some(&key)));
        assert!(read.is_retryable() && !read.is_indeterminate());
        assert!(
            map(
                sqlx::Error::PoolTimedOut,
                Context::write(Operation::Put, None)
            )
            .is_retryable()
        );
    }
}

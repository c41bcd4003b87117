//! The one place where the driver's errors become [`optimist_core::Error`]s.
//!
//! The question for every error is whether the script may have run. A reply from the
//! server (an error reply included) means the server answered, and our scripts raise
//! every error before their first write, so nothing was written: `Backend`. A refused
//! connection means nothing was sent: `Backend { retryable: true }`. Anything else at
//! the I/O level (a reset, a closed connection, a response timeout) can happen after
//! the request left: for a write that is `Indeterminate`, for a read a retryable
//! `Backend` (a read that ran changed nothing).

use std::fmt;

use optimist_core::{Error, Key, Operation};
use redis::{ErrorKind, RedisError, ServerErrorKind};

/// Whether an operation writes, which decides what a lost answer means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Writes {
    Yes,
    No,
}

/// A message for an error the driver did not produce: a reply the backend cannot read.
#[derive(Debug)]
pub(crate) struct Problem(pub(crate) String);

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Problem {}

/// Maps a driver error of `operation` on `key`.
pub(crate) fn from_redis(
    operation: Operation,
    key: Option<&Key>,
    writes: Writes,
    err: RedisError,
) -> Error {
    let described = Problem(describe(&err));
    match classify(&err) {
        Class::NotRun { retryable } => Error::backend(operation, key, retryable, described),
        Class::MayHaveRun => match writes {
            Writes::Yes => Error::indeterminate(operation, key, described),
            Writes::No => Error::backend(operation, key, true, described),
        },
    }
}

/// A reply whose shape the backend does not know. For a write the script ran and its
/// outcome is unknown; for a read nothing changed.
pub(crate) fn bad_reply(
    operation: Operation,
    key: Option<&Key>,
    writes: Writes,
    what: impl Into<String>,
) -> Error {
    let problem = Problem(format!("unexpected reply from the server: {}", what.into()));
    match writes {
        Writes::Yes => Error::indeterminate(operation, key, problem),
        Writes::No => Error::backend(operation, key, false, problem),
    }
}

/// A stored item this store cannot read (not JSON, a version too large); the script
/// that found it wrote nothing.
pub(crate) fn corrupt(operation: Operation, key: Option<&Key>, what: impl Into<String>) -> Error {
    Error::backend(operation, key, false, Problem(what.into()))
}

/// Maps an error met while connecting or loading the scripts. `address` is already
/// redacted; `secret`, when given, is scrubbed from the driver's message as well.
pub(crate) fn setup(err: &RedisError, address: &str, secret: Option<&str>) -> Error {
    let retryable = match classify(err) {
        Class::NotRun { retryable } => retryable,
        Class::MayHaveRun => true,
    };
    let mut message = format!("Redis at {address}: {}", describe(err));
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        message = message.replace(secret, "***");
    }
    Error::backend(Operation::Setup, None, retryable, Problem(message))
}

enum Class {
    NotRun { retryable: bool },
    MayHaveRun,
}

fn classify(err: &RedisError) -> Class {
    if err.is_connection_refusal() {
        return Class::NotRun { retryable: true };
    }
    match err.kind() {
        ErrorKind::Server(kind) => Class::NotRun {
            retryable: matches!(
                kind,
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
            ),
        },
        // Error codes the driver has no kind for: BUSY (another script is running) is
        // temporary; OOM, WRONGTYPE, NOPERM and our scripts' own codes are not.
        ErrorKind::Extension => Class::NotRun {
            retryable: err.code() == Some("BUSY"),
        },
        ErrorKind::AuthenticationFailed
        | ErrorKind::InvalidClientConfig
        | ErrorKind::Client
        | ErrorKind::RESP3NotSupported => Class::NotRun { retryable: false },
        // I/O after the request may have left, or a reply the driver could not parse.
        _ => Class::MayHaveRun,
    }
}

/// A readable description: what kind of failure, and the server's or system's words.
fn describe(err: &RedisError) -> String {
    if err.is_connection_refusal() {
        return format!("connection refused, the server is unreachable ({err})");
    }
    if err.is_timeout() {
        return format!("timed out waiting for the server ({err})");
    }
    if err.is_connection_dropped() {
        return format!("the connection to the server was lost ({err})");
    }
    match err.code() {
        Some(code) if code.starts_with("OPTIMIST_") => {
            format!(
                "the stored item cannot be used: {}",
                err.detail().unwrap_or(code)
            )
        }
        _ => format!("{}: {err}", err.category()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn key() -> Key {
        Key::new("k")
    }

    #[test]
    fn refused_is_retryable_backend() {
        let err = RedisError::from(io::Error::from(io::ErrorKind::ConnectionRefused));
        let mapped = from_redis(Operation::Put, Some(&key()), Writes::Yes, err);
        assert!(mapped.is_retryable(), "{mapped}");
        assert!(
            mapped.to_string().contains("connection refused"),
            "{mapped}"
        );
    }

    #[test]
    fn lost_connection_is_indeterminate_for_writes_only() {
        let lost = || RedisError::from(io::Error::from(io::ErrorKind::ConnectionReset));
        let write = from_redis(Operation::Update, Some(&key()), Writes::Yes, lost());
        assert!(write.is_indeterminate(), "{write}");
        let read = from_redis(Operation::Get, Some(&key()), Writes::No, lost());
        assert!(read.is_retryable(), "{read}");
    }

    #[test]
    fn timeout_is_indeterminate_for_writes() {
        let err = RedisError::from(io::Error::from(io::ErrorKind::TimedOut));
        assert!(from_redis(Operation::Insert, None, Writes::Yes, err).is_indeterminate());
    }

    #[test]
    fn script_errors_are_permanent_backend_errors() {
        let err = redis::make_extension_error(
            "OPTIMIST_CORRUPT".into(),
            Some("the item's version is larger than a u64".into()),
        );
        let mapped = from_redis(Operation::Update, Some(&key()), Writes::Yes, err);
        assert!(
            matches!(
                mapped,
                Error::Backend {
                    retryable: false,
                    ..
                }
            ),
            "{mapped}"
        );
        assert!(mapped.to_string().contains("larger than a u64"), "{mapped}");
        let busy = redis::make_extension_error("BUSY".into(), None);
        assert!(from_redis(Operation::Put, None, Writes::Yes, busy).is_retryable());
    }

    #[test]
    fn setup_scrubs_the_secret() {
        let err = redis::make_extension_error("WRONGPASS".into(), Some("hunter2 bad".into()));
        let mapped = setup(&err, "redis://***@127.0.0.1:1", Some("hunter2"));
        assert!(!mapped.to_string().contains("hunter2"), "{mapped}");
    }
}

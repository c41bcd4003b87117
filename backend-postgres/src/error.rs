//! The one place where sqlx's errors become the engine's [`StorageError`]s (and, at
//! set-up, `optimist_core::Error`s).
//!
//! Two things are decided here: what kind of failure it was, and whether the request
//! may have been applied:
//! - the server answered with an error: the statement (or the transaction) was rolled
//!   back, so nothing was applied, whatever the request;
//! - no connection could be had from the pool: nothing was sent;
//! - the conversation broke, or no answer came within the response timeout, after the
//!   request was sent: the caller says what a lost answer means ([`Applied::Maybe`] for
//!   a write statement outside a transaction and for COMMIT, [`Applied::No`] for reads
//!   and for statements inside a transaction before COMMIT, which the server rolls back
//!   when the connection goes).
//!
//! A conflict is never made from an error: conflicts come from the rows the statements
//! return, judged by the engine.

use std::fmt;
use std::time::Duration;

use optimist_core::redact::Secrets;
use optimist_core::{Applied, BoxError, Error, ErrorKind, Operation, StorageError};

use crate::item::Unreadable;
use crate::store::BACKEND;

/// A request whose connection could not be had: nothing was sent.
pub(crate) fn not_sent(err: sqlx::Error) -> StorageError {
    StorageError::not_applied(connect_kind(&err), err)
}

/// The first connection of a store, made by `build`, failed. The driver's error stays
/// the source, unless its text shows one of the URL's `secrets`: then its text,
/// scrubbed.
pub(crate) fn cannot_connect(shown_url: String, err: sqlx::Error, secrets: &Secrets) -> Error {
    let kind = connect_kind(&err);
    let source = CannotConnect {
        url: shown_url,
        source: secrets.scrub_error(err),
    };
    setup(StorageError::not_applied(kind, source))
}

/// What kind of failure getting a connection is.
fn connect_kind(err: &sqlx::Error) -> ErrorKind {
    match err {
        // Refused by the server: a wrong password, an unknown database, too many
        // connections.
        sqlx::Error::Database(db) => sqlstate_kind(db.code().as_deref().unwrap_or_default()),
        sqlx::Error::Configuration(_) => ErrorKind::Rejected,
        // Refused, reset, timed out or closed: the server cannot be reached from here.
        _ => ErrorKind::Unavailable,
    }
}

/// The error of a request that was sent; `if_lost` says whether it may have been
/// applied when its answer is lost.
pub(crate) fn sent(err: sqlx::Error, if_lost: Applied) -> StorageError {
    use sqlx::Error as E;
    match &err {
        // The server refused: it rolled the statement or transaction back.
        E::Database(db) => {
            StorageError::not_applied(sqlstate_kind(db.code().as_deref().unwrap_or_default()), err)
        }
        // No connection was had, after all.
        E::PoolTimedOut | E::PoolClosed => not_sent(err),
        E::Configuration(_) => StorageError::not_applied(ErrorKind::Rejected, err),
        // The conversation broke: the request may have arrived.
        E::Io(_) | E::Tls(_) | E::Protocol(_) | E::WorkerCrashed => {
            StorageError::new(ErrorKind::Io, if_lost, err)
        }
        // The server answered with rows of another shape than this store's: a table it
        // did not create. A write that got this far ran.
        E::ColumnDecode { .. }
        | E::ColumnNotFound(_)
        | E::ColumnIndexOutOfBounds { .. }
        | E::Decode(_)
        | E::TypeNotFound { .. }
        | E::RowNotFound => StorageError::new(ErrorKind::Corrupt, if_lost, err),
        _ => StorageError::new(ErrorKind::Other, if_lost, err),
    }
}

/// A request that got no answer within the response timeout.
pub(crate) fn timed_out(after: Duration, if_lost: Applied) -> StorageError {
    StorageError::new(ErrorKind::Timeout, if_lost, NoAnswer(after))
}

/// A row the store cannot read as an item; `applied` says whether the statement that
/// returned it wrote anything (a write that returned an unreadable row may have).
pub(crate) fn unreadable(err: Unreadable, applied: Applied) -> StorageError {
    StorageError::new(ErrorKind::Corrupt, applied, err)
}

/// Whether the server ended the session with this error (severity FATAL or PANIC):
/// the connection is closed on its side, and the next request on it would find a
/// reset socket (a write's outcome then unknown) instead of the server.
pub(crate) fn ends_session(refusal: &(dyn sqlx::error::DatabaseError + 'static)) -> bool {
    refusal
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .is_some_and(|refusal| {
            matches!(
                refusal.severity(),
                sqlx::postgres::PgSeverity::Fatal | sqlx::postgres::PgSeverity::Panic
            )
        })
}

/// What kind of failure a SQLSTATE the server refused with is.
fn sqlstate_kind(code: &str) -> ErrorKind {
    match code {
        // Serialization failure, deadlock: the same statement may pass on a new try.
        "40001" | "40P01" => ErrorKind::Contention,
        // Numeric value out of range: the only number the statements compute is
        // `version + 1`, on a BIGINT at its end.
        "22003" => ErrorKind::VersionExhausted,
        // Lock timeout; out of connections, memory or disk.
        "55P03" | "53000" | "53100" | "53200" | "53300" => ErrorKind::Busy,
        // Statement timeout or cancel.
        "57014" => ErrorKind::Timeout,
        // The server shutting down or starting up; a standby that takes no writes.
        "57P01" | "57P02" | "57P03" | "25006" => ErrorKind::Unavailable,
        code if code.starts_with("08") => ErrorKind::Unavailable,
        // Permissions, a missing table or column, anything else: final.
        _ => ErrorKind::Rejected,
    }
}

/// The error of a set-up step (connecting, creating the table).
pub(crate) fn setup(err: StorageError) -> Error {
    Error::from_storage(BACKEND, Operation::Setup, None, err)
}

/// The SQLSTATE the server refused a request with, if it did.
pub(crate) fn sqlstate(err: &StorageError) -> Option<String> {
    match err.source_ref().downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::Database(db)) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// No answer came in time.
#[derive(Debug)]
struct NoAnswer(Duration);

impl fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no answer from PostgreSQL within the response timeout ({:?})",
            self.0
        )
    }
}

impl std::error::Error for NoAnswer {}

/// The first connection of a store failed; its cause is the driver's error.
#[derive(Debug)]
struct CannotConnect {
    /// The URL with its password hidden.
    url: String,
    /// The driver's error (a `sqlx::Error`), or its scrubbed text.
    source: BoxError,
}

impl fmt::Display for CannotConnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot connect to PostgreSQL at {}", self.url)
    }
}

impl std::error::Error for CannotConnect {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)] // tests fail by panicking
mod tests {
    use super::*;

    fn io() -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
    }

    #[test]
    fn a_lost_answer_is_what_the_caller_says() {
        let write = sent(io(), Applied::Maybe);
        assert_eq!(
            (write.kind(), write.applied()),
            (ErrorKind::Io, Applied::Maybe)
        );
        let read = sent(io(), Applied::No);
        assert!(read.is_transient());
        let timeout = timed_out(Duration::from_secs(1), Applied::Maybe);
        assert_eq!(
            (timeout.kind(), timeout.applied()),
            (ErrorKind::Timeout, Applied::Maybe)
        );
        assert!(
            timeout
                .source_ref()
                .to_string()
                .contains("response timeout")
        );
    }

    #[test]
    fn nothing_sent_is_nothing_applied() {
        for err in [io(), sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed] {
            let err = not_sent(err);
            assert_eq!(
                (err.kind(), err.applied()),
                (ErrorKind::Unavailable, Applied::No)
            );
        }
        let err = sent(sqlx::Error::PoolTimedOut, Applied::Maybe);
        assert_eq!(err.applied(), Applied::No);
    }

    #[test]
    fn sqlstates_have_kinds() {
        assert_eq!(sqlstate_kind("40001"), ErrorKind::Contention);
        assert_eq!(sqlstate_kind("40P01"), ErrorKind::Contention);
        assert_eq!(sqlstate_kind("22003"), ErrorKind::VersionExhausted);
        assert_eq!(sqlstate_kind("08006"), ErrorKind::Unavailable);
        assert_eq!(sqlstate_kind("55P03"), ErrorKind::Busy);
        assert_eq!(sqlstate_kind("57014"), ErrorKind::Timeout);
        assert_eq!(sqlstate_kind("42P01"), ErrorKind::Rejected);
        assert_eq!(sqlstate_kind(""), ErrorKind::Rejected);
    }
}

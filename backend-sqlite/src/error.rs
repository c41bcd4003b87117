//! The one place where sqlx's errors become optimist's.
//!
//! A busy or locked database is retryable and never a conflict; an error that struck
//! while a write or its COMMIT was in flight, and that could have come after SQLite made
//! the change durable, is `Indeterminate`; everything else is a plain backend error
//! (nothing was written).

use optimist_core::{Error, Key, Operation};

/// SQLite's primary result codes that matter here (the low byte of an extended code).
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_IOERR: i32 = 10;

/// Where an attempt was when the driver failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Nothing had been asked to change yet (connecting, BEGIN, reads).
    Before,
    /// A write statement in autocommit mode, or a COMMIT, was in flight.
    Write,
}

/// Why one attempt of an operation failed.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The driver failed; the retry loop decides whether to try again.
    Driver { source: sqlx::Error, phase: Phase },
    /// The outcome is final: a conflict, bad data, an exhausted version.
    Final(Error),
}

impl From<Error> for Fail {
    fn from(error: Error) -> Self {
        Fail::Final(error)
    }
}

/// Tags a driver result with the phase it failed in.
pub(crate) trait InPhase<T> {
    /// A failure before anything was asked to change.
    fn before(self) -> Result<T, Fail>;
    /// A failure while a write or COMMIT was in flight.
    fn writing(self) -> Result<T, Fail>;
}

impl<T> InPhase<T> for Result<T, sqlx::Error> {
    fn before(self) -> Result<T, Fail> {
        self.map_err(|source| Fail::Driver {
            source,
            phase: Phase::Before,
        })
    }

    fn writing(self) -> Result<T, Fail> {
        self.map_err(|source| Fail::Driver {
            source,
            phase: Phase::Write,
        })
    }
}

fn primary_code(error: &sqlx::Error) -> Option<i32> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    db.code()?.parse::<i32>().ok().map(|code| code & 0xff)
}

/// Whether the database was busy or locked by another connection: nothing was applied
/// and trying again may succeed.
pub(crate) fn is_busy(error: &sqlx::Error) -> bool {
    matches!(primary_code(error), Some(SQLITE_BUSY | SQLITE_LOCKED))
}

/// Maps a driver error that the retry loop gave up on.
pub(crate) fn map(
    operation: Operation,
    key: Option<&Key>,
    source: sqlx::Error,
    phase: Phase,
) -> Error {
    if is_busy(&source) || matches!(source, sqlx::Error::PoolTimedOut) {
        return Error::backend(operation, key, true, source);
    }
    let lost_answer = matches!(source, sqlx::Error::WorkerCrashed | sqlx::Error::Io(_))
        || primary_code(&source) == Some(SQLITE_IOERR);
    if phase == Phase::Write && lost_answer {
        return Error::indeterminate(operation, key, source);
    }
    Error::backend(operation, key, false, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_never_conflicts() {
        let key = Key::new("k");
        let timed_out = map(
            Operation::Get,
            Some(&key),
            sqlx::Error::PoolTimedOut,
            Phase::Before,
        );
        assert!(timed_out.is_retryable());
        let crashed = map(
            Operation::Put,
            Some(&key),
            sqlx::Error::WorkerCrashed,
            Phase::Write,
        );
        assert!(crashed.is_indeterminate());
        let closed = map(
            Operation::Put,
            Some(&key),
            sqlx::Error::PoolClosed,
            Phase::Write,
        );
        assert!(matches!(
            closed,
            Error::Backend {
                retryable: false,
                ..
            }
        ));
        assert!(!closed.is_conflict());
    }
}

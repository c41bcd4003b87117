//! The one place where sqlx's errors become optimist's.
//!
//! Every driver error gets a kind (busy, unreadable data, a refused request, ...) and an
//! answer to "may it have been applied?". SQLite is a library in this process, so the
//! answer is almost always no: an error before COMMIT leaves a transaction that is
//! rolled back, and an autocommit statement or a COMMIT that fails is rolled back by
//! SQLite itself. Only an error that may have struck after the commit reached the file
//! (an I/O error, a lost worker thread) leaves the outcome unknown.

use optimist_core::{Error, ErrorKind, Operation, StorageError};

/// The backend's name in spans and errors.
pub(crate) const BACKEND: &str = "sqlite";

/// SQLite's primary result codes that are told apart here (the low byte of an
/// extended code).
mod code {
    pub const ERROR: i32 = 1;
    pub const PERM: i32 = 3;
    pub const BUSY: i32 = 5;
    pub const LOCKED: i32 = 6;
    pub const READONLY: i32 = 8;
    pub const IOERR: i32 = 10;
    pub const CORRUPT: i32 = 11;
    pub const CANTOPEN: i32 = 14;
    pub const PROTOCOL: i32 = 15;
    pub const TOOBIG: i32 = 18;
    pub const CONSTRAINT: i32 = 19;
    pub const MISMATCH: i32 = 20;
    pub const AUTH: i32 = 23;
    pub const NOTADB: i32 = 26;
}

fn primary_code(error: &sqlx::Error) -> Option<i32> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    db.code()?.parse::<i32>().ok().map(|code| code & 0xff)
}

/// What kind of failure a driver error is.
fn kind(error: &sqlx::Error) -> ErrorKind {
    use sqlx::Error as E;
    match error {
        E::Database(_) => match primary_code(error) {
            // Another connection holds the lock; PROTOCOL is WAL's lock race lost
            // too often in a row. Trying again later may succeed.
            Some(code::BUSY | code::LOCKED | code::PROTOCOL) => ErrorKind::Busy,
            Some(code::IOERR) => ErrorKind::Io,
            Some(code::CORRUPT | code::NOTADB) => ErrorKind::Corrupt,
            // A missing or different table, a read-only or unopenable file, a value
            // over SQLite's limits: the same request fails again.
            Some(
                code::ERROR
                | code::PERM
                | code::READONLY
                | code::CANTOPEN
                | code::TOOBIG
                | code::CONSTRAINT
                | code::MISMATCH
                | code::AUTH,
            ) => ErrorKind::Rejected,
            _ => ErrorKind::Other,
        },
        // Every connection of the pool stayed in use for the whole acquire timeout.
        E::PoolTimedOut => ErrorKind::Busy,
        // Only `SqliteStore::close` closes the pool, and nothing reopens it.
        E::PoolClosed => ErrorKind::Rejected,
        E::Io(_) | E::WorkerCrashed => ErrorKind::Io,
        // A column of another type than the store writes (a table another tool made
        // without STRICT): data this backend cannot read as an item.
        E::ColumnDecode { .. } | E::Decode(_) => ErrorKind::Corrupt,
        E::Configuration(_) => ErrorKind::Rejected,
        _ => ErrorKind::Other,
    }
}

/// A driver error while nothing could be applied: connecting, `BEGIN`, reads, and any
/// statement of a transaction that is not committed (it is rolled back).
pub(crate) fn unapplied(source: sqlx::Error) -> StorageError {
    StorageError::not_applied(kind(&source), source)
}

/// A driver error while an autocommit write or a `COMMIT` ran. SQLite rolls a failed
/// commit back (a busy database, a full disk, a constraint), so nothing was applied,
/// unless the answer itself was lost: an I/O error, which may strike after the commit
/// reached the WAL, or a worker thread that died with the statement in hand.
pub(crate) fn committing(source: sqlx::Error) -> StorageError {
    let answer_lost = matches!(source, sqlx::Error::WorkerCrashed | sqlx::Error::Io(_))
        || primary_code(&source) == Some(code::IOERR);
    if answer_lost {
        StorageError::maybe_applied(kind(&source), source)
    } else {
        unapplied(source)
    }
}

/// A failure met after a write committed (its answer could not be read, or a purge
/// stopped after earlier batches): something was applied, so the failure is reported
/// as maybe applied, never as "nothing written".
pub(crate) fn after_commit(error: StorageError) -> StorageError {
    let (kind, _, source) = error.into_parts();
    StorageError::maybe_applied(kind, source)
}

/// A failure while the store was being built; `retries_spent` once the retry policy
/// ran out on it.
pub(crate) fn setup(error: StorageError, retries_spent: bool) -> Error {
    let error = Error::from_storage(BACKEND, Operation::Setup, None, error);
    if retries_spent {
        error.retries_exhausted()
    } else {
        error
    }
}

/// SQLite's message if preparing a statement failed because the table does not fit
/// it (`SQLITE_ERROR`: no such column, an `ON CONFLICT` target that is no key).
pub(crate) fn schema_mismatch(source: &sqlx::Error) -> Option<&str> {
    if primary_code(source) != Some(code::ERROR) {
        return None;
    }
    source.as_database_error().map(|db| db.message())
}

/// A set-up problem, such as a table that is not the store's.
pub(crate) fn configuration(reason: impl Into<String>) -> Error {
    Error::configuration(BACKEND, reason)
}

#[cfg(test)]
mod tests {
    use optimist_core::Applied;

    use super::*;

    #[test]
    fn outages_are_never_conflicts() {
        let timed_out = unapplied(sqlx::Error::PoolTimedOut);
        assert_eq!(timed_out.kind(), ErrorKind::Busy);
        assert!(timed_out.is_transient());

        let crashed = committing(sqlx::Error::WorkerCrashed);
        assert_eq!(
            (crashed.kind(), crashed.applied()),
            (ErrorKind::Io, Applied::Maybe)
        );
        let crashed_before = unapplied(sqlx::Error::WorkerCrashed);
        assert_eq!(crashed_before.applied(), Applied::No);

        let closed = committing(sqlx::Error::PoolClosed);
        assert_eq!(
            (closed.kind(), closed.applied()),
            (ErrorKind::Rejected, Applied::No)
        );
        assert!(!closed.is_transient());
    }

    #[test]
    fn the_driver_error_stays_the_source() {
        let err = setup(unapplied(sqlx::Error::PoolClosed), false);
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source, Some(sqlx::Error::PoolClosed.to_string()));
        assert_eq!(err.backend_kind(), Some(ErrorKind::Rejected));
        assert!(err.to_string().contains("sqlite"), "{err}");
    }
}

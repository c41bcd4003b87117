//! The one place where redb's errors (and a lost blocking task) become optimist's.
//!
//! redb is a library in this process: nothing is "sent". A write transaction that fails
//! before its commit is rolled back when it is dropped, so it applied nothing. A commit
//! that fails may have reached the file (an fsync that failed after the pages were
//! written): the write may have been applied, and the caller gets `Indeterminate`. After
//! an I/O error redb refuses every later transaction (`PreviousIo`) until the database is
//! opened again: that is `Unavailable`, nothing applied.

use optimist_core::{Applied, Error, ErrorKind, StorageError};

/// The backend's name in spans and errors.
pub(crate) const BACKEND: &str = "redb";

/// What kind of failure a redb error is.
fn kind(error: &redb::Error) -> ErrorKind {
    use redb::Error as E;
    match error {
        E::Io(_) => ErrorKind::Io,
        // The database must be opened again: nothing works until then.
        E::PreviousIo => ErrorKind::Unavailable,
        E::Corrupted(_) => ErrorKind::Corrupt,
        // Over redb's own limit (3 GiB): far above the store's item limit.
        E::ValueTooLarge(_) => ErrorKind::InvalidInput,
        // A table of other types or another kind under the store's name, a file of an
        // older format: the same request fails again.
        E::TableTypeMismatch { .. }
        | E::TableIsMultimap(_)
        | E::TableIsNotMultimap(_)
        | E::TypeDefinitionChanged { .. }
        | E::TableDoesNotExist(_)
        | E::UpgradeRequired(_)
        | E::DatabaseAlreadyOpen => ErrorKind::Rejected,
        _ => ErrorKind::Other,
    }
}

/// A failure before a write transaction committed, or of a read: nothing applied.
pub(crate) fn not_applied(error: impl Into<redb::Error>) -> StorageError {
    let error = error.into();
    StorageError::not_applied(kind(&error), error)
}

/// A failed commit. `PreviousIo` refused it before it wrote anything; anything else
/// (an I/O error, a failed fsync) may have struck after the pages reached the file, so
/// the write may have been applied.
pub(crate) fn commit_failed(error: redb::CommitError) -> StorageError {
    let error: redb::Error = error.into();
    let applied = match error {
        redb::Error::PreviousIo => Applied::No,
        _ => Applied::Maybe,
    };
    StorageError::new(kind(&error), applied, error)
}

/// The blocking task running a call ended without an answer (it panicked, or the
/// runtime is shutting down): a write `lost` says whether it may have been applied.
pub(crate) fn task_lost(error: tokio::task::JoinError, lost: Applied) -> StorageError {
    StorageError::new(
        ErrorKind::Other,
        lost,
        format!("the blocking task running the redb call ended without an answer: {error}"),
    )
}

/// Called outside a tokio runtime: there is no blocking pool to run redb on.
pub(crate) fn no_runtime() -> StorageError {
    StorageError::not_applied(
        ErrorKind::Rejected,
        "optimist-redb runs redb on tokio's blocking pool: call it inside a tokio runtime",
    )
}

/// A problem with the store's settings or its file, from `build()`.
pub(crate) fn configuration(reason: impl Into<String>) -> Error {
    Error::configuration(BACKEND, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_commit_may_have_applied_unless_redb_refused_it_first() {
        let io = std::io::Error::other("fsync failed");
        let err = commit_failed(redb::CommitError::Storage(redb::StorageError::Io(io)));
        assert_eq!((err.kind(), err.applied()), (ErrorKind::Io, Applied::Maybe));
        let err = commit_failed(redb::CommitError::Storage(redb::StorageError::PreviousIo));
        assert_eq!(
            (err.kind(), err.applied()),
            (ErrorKind::Unavailable, Applied::No)
        );
    }

    #[test]
    fn a_failure_before_the_commit_applied_nothing() {
        let err = not_applied(redb::StorageError::Corrupted("bad page".into()));
        assert_eq!(
            (err.kind(), err.applied()),
            (ErrorKind::Corrupt, Applied::No)
        );
        let err = not_applied(redb::StorageError::Io(std::io::Error::other("read")));
        assert!(err.is_transient());
    }
}

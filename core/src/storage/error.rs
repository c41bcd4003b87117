//! How a backend reports a request that failed: what kind of failure, and whether a
//! write may have been applied. The engine turns it into the public [`Error`](crate::Error).

use std::fmt;

use crate::BoxError;

/// What kind of failure a backend met; callers match on it through
/// [`Error::backend_kind`](crate::Error::backend_kind).
///
/// ```
/// use optimist_core::ErrorKind;
/// assert!(ErrorKind::Busy.is_transient());
/// assert!(!ErrorKind::Rejected.is_transient());
/// assert_eq!(ErrorKind::Timeout.to_string(), "timed out");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server could not be reached: connection refused, no route, pool closed.
    Unavailable,
    /// The server refused for now: busy, locked, throttled, overloaded.
    Busy,
    /// No answer in time.
    Timeout,
    /// The connection broke, or the answer could not be read.
    Io,
    /// The server refused the request for good: permissions, a missing or different
    /// table, a request it cannot take.
    Rejected,
    /// The store holds data this backend cannot read as an item.
    Corrupt,
    /// The item's version is at `u64::MAX`: no write can follow it.
    VersionExhausted,
    /// Other writers kept changing the item while the backend worked on it.
    Contention,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// Whether the same request may succeed if sent again later. The engine retries
    /// such failures itself when nothing was applied, within the store's
    /// [`RetryPolicy`](crate::retry::RetryPolicy).
    ///
    /// ```
    /// assert!(optimist_core::ErrorKind::Unavailable.is_transient());
    /// ```
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::Unavailable
                | ErrorKind::Busy
                | ErrorKind::Timeout
                | ErrorKind::Io
                | ErrorKind::Contention
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Busy => "busy",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Io => "connection failed",
            ErrorKind::Rejected => "request rejected",
            ErrorKind::Corrupt => "unreadable stored data",
            ErrorKind::VersionExhausted => "version counter exhausted",
            ErrorKind::Contention => "contention",
            ErrorKind::Other => "failed",
        })
    }
}

/// Whether a failed request may have changed the store: the one classification every
/// backend gives its failures (contract R12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Applied {
    /// Provably nothing was applied: the request was never sent, or the server refused
    /// it before applying anything.
    No,
    /// The request was sent and its answer is missing or unreadable: it may have been
    /// applied. A write failing this way is reported as
    /// [`Error::Indeterminate`](crate::Error::Indeterminate).
    Maybe,
}

/// A failed request, as a backend reports it to the engine: its [`ErrorKind`],
/// whether it may have been applied, and the driver's error as the source.
///
/// ```
/// use optimist_core::{Applied, ErrorKind, StorageError};
/// let busy = StorageError::new(ErrorKind::Busy, Applied::No, "database is locked");
/// assert!(busy.is_transient());
/// let lost = StorageError::new(ErrorKind::Timeout, Applied::Maybe, "no answer in 5 s");
/// assert!(!lost.is_transient()); // a write that may have landed is never resent blindly
/// ```
#[derive(Debug)]
pub struct StorageError {
    kind: ErrorKind,
    applied: Applied,
    source: BoxError,
}

impl StorageError {
    /// A failure of `kind`, with its `applied` status and its cause.
    ///
    /// ```
    /// use optimist_core::{Applied, ErrorKind, StorageError};
    /// let err = StorageError::new(ErrorKind::Corrupt, Applied::No, "not JSON");
    /// assert_eq!(err.kind(), ErrorKind::Corrupt);
    /// ```
    pub fn new(kind: ErrorKind, applied: Applied, source: impl Into<BoxError>) -> Self {
        Self {
            kind,
            applied,
            source: source.into(),
        }
    }

    /// Nothing was applied: the request was not sent or was refused before applying.
    ///
    /// ```
    /// use optimist_core::{Applied, ErrorKind, StorageError};
    /// assert_eq!(StorageError::not_applied(ErrorKind::Busy, "locked").applied(), Applied::No);
    /// ```
    pub fn not_applied(kind: ErrorKind, source: impl Into<BoxError>) -> Self {
        Self::new(kind, Applied::No, source)
    }

    /// The request was sent and its outcome is unknown.
    ///
    /// ```
    /// use optimist_core::{Applied, ErrorKind, StorageError};
    /// assert_eq!(StorageError::maybe_applied(ErrorKind::Io, "reset").applied(), Applied::Maybe);
    /// ```
    pub fn maybe_applied(kind: ErrorKind, source: impl Into<BoxError>) -> Self {
        Self::new(kind, Applied::Maybe, source)
    }

    /// Stored data that cannot be read as an item; nothing was applied.
    ///
    /// ```
    /// use optimist_core::{ErrorKind, StorageError};
    /// assert_eq!(StorageError::corrupt("version is not a number").kind(), ErrorKind::Corrupt);
    /// ```
    pub fn corrupt(source: impl Into<BoxError>) -> Self {
        Self::not_applied(ErrorKind::Corrupt, source)
    }

    /// The kind of failure.
    ///
    /// ```
    /// use optimist_core::{ErrorKind, StorageError};
    /// assert_eq!(StorageError::not_applied(ErrorKind::Timeout, "t").kind(), ErrorKind::Timeout);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether the request may have been applied.
    ///
    /// ```
    /// use optimist_core::{Applied, ErrorKind, StorageError};
    /// assert_eq!(StorageError::not_applied(ErrorKind::Other, "x").applied(), Applied::No);
    /// ```
    pub fn applied(&self) -> Applied {
        self.applied
    }

    /// Whether sending the same request again is safe and may succeed: nothing was
    /// applied and the kind is transient.
    ///
    /// ```
    /// use optimist_core::{ErrorKind, StorageError};
    /// assert!(StorageError::not_applied(ErrorKind::Unavailable, "refused").is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        self.applied == Applied::No && self.kind.is_transient()
    }

    /// The driver's error.
    ///
    /// ```
    /// use optimist_core::{ErrorKind, StorageError};
    /// let err = StorageError::not_applied(ErrorKind::Other, "boom");
    /// assert_eq!(err.source_ref().to_string(), "boom");
    /// ```
    pub fn source_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.source
    }

    /// Splits the error into its parts.
    ///
    /// ```
    /// use optimist_core::{Applied, ErrorKind, StorageError};
    /// let (kind, applied, source) = StorageError::not_applied(ErrorKind::Busy, "b").into_parts();
    /// assert_eq!((kind, applied, source.to_string()), (ErrorKind::Busy, Applied::No, "b".to_string()));
    /// ```
    pub fn into_parts(self) -> (ErrorKind, Applied, BoxError) {
        (self.kind, self.applied, self.source)
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if self.applied == Applied::Maybe {
            f.write_str(" (may have been applied)")?;
        }
        Ok(())
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

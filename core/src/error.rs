//! The one error type every backend returns, and the conflicts it carries.

use std::fmt;

use serde_json::Value;

use crate::lease::LeaseConflict;
use crate::{Applied, ErrorKind, Key, StorageError, Version, Versioned};

/// A boxed error from a backend's driver, kept as the `source` of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What [`VersionedStore`](crate::VersionedStore) methods return.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The operation an error happened in; errors name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// [`VersionedStore::get`](crate::VersionedStore::get).
    Get,
    /// [`VersionedStore::insert`](crate::VersionedStore::insert).
    Insert,
    /// [`VersionedStore::update`](crate::VersionedStore::update).
    Update,
    /// [`VersionedStore::delete`](crate::VersionedStore::delete).
    Delete,
    /// [`VersionedStore::put`](crate::VersionedStore::put).
    Put,
    /// [`VersionedStore::remove`](crate::VersionedStore::remove).
    Remove,
    /// [`VersionedStore::get_many`](crate::VersionedStore::get_many).
    GetMany,
    /// [`VersionedStore::query`](crate::VersionedStore::query).
    Query,
    /// [`VersionedStore::scan`](crate::VersionedStore::scan).
    Scan,
    /// A `Check` inside a transaction.
    Check,
    /// [`VersionedStore::transact`](crate::VersionedStore::transact).
    Transact,
    /// [`VersionedStore::purge_tombstones`](crate::VersionedStore::purge_tombstones).
    PurgeTombstones,
    /// Anything else a backend does, such as creating its table.
    Setup,
    /// Acquiring a lease ([`lease::Lease::acquire`](crate::lease::Lease::acquire),
    /// contract R19).
    AcquireLease,
    /// Renewing a lease ([`lease::Lease::renew`](crate::lease::Lease::renew)).
    RenewLease,
    /// Releasing a lease ([`lease::Lease::release`](crate::lease::Lease::release)).
    ReleaseLease,
}

impl Operation {
    /// Whether the operation can change the store (everything but `get` and setup).
    ///
    /// ```
    /// use optimist_core::Operation;
    /// assert!(Operation::Remove.writes());
    /// assert!(!Operation::Get.writes());
    /// ```
    pub fn writes(self) -> bool {
        !matches!(
            self,
            Operation::Get
                | Operation::GetMany
                | Operation::Query
                | Operation::Scan
                | Operation::Setup
        )
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Get => "get",
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Put => "put",
            Operation::Remove => "remove",
            Operation::GetMany => "get_many",
            Operation::Query => "query",
            Operation::Scan => "scan",
            Operation::Check => "check",
            Operation::Transact => "transact",
            Operation::PurgeTombstones => "purge_tombstones",
            Operation::Setup => "setup",
            Operation::AcquireLease => "acquire lease",
            Operation::RenewLease => "renew lease",
            Operation::ReleaseLease => "release lease",
        })
    }
}

/// Why a conditional write was refused. Each kind carries the item as it was when the
/// condition failed (contract R11), so a caller can retry without reading again.
///
/// ```
/// use optimist_core::{Conflict, Version, Versioned};
/// use serde_json::json;
///
/// let conflict = Conflict::VersionMismatch {
///     expected: Version::new(1),
///     current: Versioned::new(json!({"n": 2}), Version::new(2)),
/// };
/// assert_eq!(conflict.current().map(|c| c.version), Some(Version::new(2)));
/// assert_eq!(Conflict::NotFound.current(), None);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Conflict {
    /// Insert on a key that holds an item (contract R5).
    AlreadyExists {
        /// The item that is there.
        current: Versioned<Value>,
    },
    /// Update, delete or check on a key that holds nothing (contract R6, R7).
    NotFound,
    /// Update, delete or check expecting another version than the item's (contract R6, R7).
    VersionMismatch {
        /// The version the caller expected.
        expected: Version,
        /// The item that is there.
        current: Versioned<Value>,
    },
}

impl Conflict {
    /// The item as it was when the condition failed; `None` for [`Conflict::NotFound`].
    ///
    /// ```
    /// assert!(optimist_core::Conflict::NotFound.current().is_none());
    /// ```
    pub fn current(&self) -> Option<&Versioned<Value>> {
        match self {
            Conflict::AlreadyExists { current } | Conflict::VersionMismatch { current, .. } => {
                Some(current)
            }
            Conflict::NotFound => None,
        }
    }

    /// Takes the current item out of the conflict.
    ///
    /// ```
    /// assert!(optimist_core::Conflict::NotFound.into_current().is_none());
    /// ```
    pub fn into_current(self) -> Option<Versioned<Value>> {
        match self {
            Conflict::AlreadyExists { current } | Conflict::VersionMismatch { current, .. } => {
                Some(current)
            }
            Conflict::NotFound => None,
        }
    }

    /// The conflict's kind, for comparing outcomes without the items.
    ///
    /// ```
    /// use optimist_core::{Conflict, ConflictKind};
    /// assert_eq!(Conflict::NotFound.kind(), ConflictKind::NotFound);
    /// ```
    pub fn kind(&self) -> ConflictKind {
        match self {
            Conflict::AlreadyExists { .. } => ConflictKind::AlreadyExists,
            Conflict::NotFound => ConflictKind::NotFound,
            Conflict::VersionMismatch { .. } => ConflictKind::VersionMismatch,
        }
    }
}

/// The kind of a [`Conflict`], without its item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConflictKind {
    /// See [`Conflict::AlreadyExists`].
    AlreadyExists,
    /// See [`Conflict::NotFound`].
    NotFound,
    /// See [`Conflict::VersionMismatch`].
    VersionMismatch,
}

// A conflict's message names the versions, never the item's value: values can be large
// and can hold data that does not belong in logs.
impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::AlreadyExists { current } => {
                write!(f, "item already exists at {}", current.version)
            }
            Conflict::NotFound => f.write_str("item not found"),
            Conflict::VersionMismatch { expected, current } => write!(
                f,
                "version mismatch: expected {expected}, item is at {}",
                current.version
            ),
        }
    }
}

/// One failing op of a transaction (contract R10).
#[derive(Clone, Debug, PartialEq)]
pub struct OpFailure {
    /// The op's index in the list given to `transact`.
    pub index: usize,
    /// The op's key.
    pub key: Key,
    /// The same conflict the op alone would have given.
    pub conflict: Conflict,
}

/// The error of every store operation.
///
/// Any variant but [`Error::Indeterminate`] means nothing was written (contract R12).
/// Messages name the operation and key, never a value or a secret.
///
/// ```
/// use optimist_core::{Conflict, Error, Key, Operation};
///
/// let err = Error::conflict(Operation::Update, Key::new("a"), Conflict::NotFound);
/// assert!(err.is_conflict());
/// assert!(!err.is_retryable());
/// assert_eq!(err.to_string(), "update \"a\": item not found");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A single operation's condition failed.
    #[error("{operation} {key}: {conflict}")]
    Conflict {
        /// The operation that was refused.
        operation: Operation,
        /// Its key.
        key: Key,
        /// Why, with the current item.
        conflict: Conflict,
    },
    /// One or more conditions of a transaction failed; nothing was applied.
    #[error("transaction refused: {}", describe_failures(failures))]
    TransactionConflict {
        /// One entry per failing op, in op order.
        failures: Vec<OpFailure>,
    },
    /// The input breaks a rule or a declared limit; nothing was sent.
    #[error("invalid input to {operation}{}: {reason}", key_suffix(key))]
    InvalidInput {
        /// The operation.
        operation: Operation,
        /// The key concerned, if one is.
        key: Option<Key>,
        /// What is wrong.
        reason: String,
    },
    /// The backend does not support this operation.
    #[error("{operation} is not supported by this backend")]
    Unsupported {
        /// The operation.
        operation: Operation,
    },
    /// The backend was set up wrongly: a bad table or prefix name, an option it does
    /// not know, a table whose schema differs from its description. Nothing was
    /// written.
    #[error("{backend} configuration: {reason}")]
    Configuration {
        /// The backend's name.
        backend: &'static str,
        /// What is wrong, and the fix where there is one.
        reason: String,
    },
    /// The request may or may not have been applied (for example a timeout after it was
    /// sent). Re-read to find out.
    #[error(
        "{operation}{} on {backend}: outcome unknown, re-read to find out",
        key_suffix(key)
    )]
    Indeterminate {
        /// The operation.
        operation: Operation,
        /// The key concerned, if one is.
        key: Option<Key>,
        /// The backend's name.
        backend: &'static str,
        /// What happened.
        source: BoxError,
    },
    /// The backend failed; nothing was applied.
    #[error("{operation}{} on {backend}: {kind}{}", key_suffix(key), if *retryable { " (retryable)" } else { "" })]
    Backend {
        /// The operation.
        operation: Operation,
        /// The key concerned, if one is.
        key: Option<Key>,
        /// The backend's name.
        backend: &'static str,
        /// What kind of failure, to match on.
        kind: ErrorKind,
        /// Whether trying again later may succeed. `false` once the store's own
        /// retries were spent on it (so callers do not multiply them), and for failures
        /// that are not transient.
        retryable: bool,
        /// The driver's error.
        source: BoxError,
    },
    /// A lease stood in the way (contract R19): another owner holds it, or the caller's
    /// lease was lost (taken over, released or removed). Nothing was written.
    #[error("{operation} under lease {lease}: {conflict}")]
    Lease {
        /// The operation: acquiring, renewing or releasing the lease, or the guarded
        /// write that was refused.
        operation: Operation,
        /// The lease record's key.
        lease: Key,
        /// Who holds the lease now, and the caller's token if it lost it.
        conflict: LeaseConflict,
    },
}

fn key_suffix(key: &Option<Key>) -> String {
    key.as_ref().map(|k| format!(" {k}")).unwrap_or_default()
}

fn describe_failures(failures: &[OpFailure]) -> String {
    failures
        .iter()
        .map(|f| format!("op {} ({}): {}", f.index, f.key, f.conflict))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// A conflict of a single operation.
    ///
    /// ```
    /// use optimist_core::{Conflict, Error, Key, Operation};
    /// let err = Error::conflict(Operation::Delete, Key::new("k"), Conflict::NotFound);
    /// assert!(err.conflict_ref().is_some());
    /// ```
    pub fn conflict(operation: Operation, key: Key, conflict: Conflict) -> Self {
        Error::Conflict {
            operation,
            key,
            conflict,
        }
    }

    /// Invalid input, naming the problem.
    ///
    /// ```
    /// use optimist_core::{Error, Operation};
    /// let err = Error::invalid(Operation::Transact, None, "no ops");
    /// assert!(err.is_invalid_input());
    /// ```
    pub fn invalid(operation: Operation, key: Option<&Key>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            operation,
            key: key.cloned(),
            reason: reason.into(),
        }
    }

    /// A backend failure of `kind`; nothing was applied. Retryable when the kind is
    /// transient.
    ///
    /// ```
    /// use optimist_core::{Error, ErrorKind, Operation};
    /// let err = Error::backend("sqlite", Operation::Get, None, ErrorKind::Busy, "database is locked");
    /// assert!(err.is_retryable());
    /// assert_eq!(err.to_string(), "get on sqlite: busy (retryable)");
    /// assert_eq!(std::error::Error::source(&err).map(|s| s.to_string()), Some("database is locked".into()));
    /// ```
    pub fn backend(
        backend: &'static str,
        operation: Operation,
        key: Option<&Key>,
        kind: ErrorKind,
        source: impl Into<BoxError>,
    ) -> Self {
        Error::Backend {
            operation,
            key: key.cloned(),
            backend,
            kind,
            retryable: kind.is_transient(),
            source: source.into(),
        }
    }

    /// An outcome the caller cannot know without reading again.
    ///
    /// ```
    /// use optimist_core::{Error, Operation};
    /// let err = Error::indeterminate("redis", Operation::Put, None, "timed out after sending");
    /// assert!(err.is_indeterminate());
    /// ```
    pub fn indeterminate(
        backend: &'static str,
        operation: Operation,
        key: Option<&Key>,
        source: impl Into<BoxError>,
    ) -> Self {
        Error::Indeterminate {
            operation,
            key: key.cloned(),
            backend,
            source: source.into(),
        }
    }

    /// A configuration problem, naming it.
    ///
    /// ```
    /// use optimist_core::Error;
    /// let err = Error::configuration("postgres", "table name \"a b\" is not an identifier");
    /// assert!(err.to_string().starts_with("postgres configuration:"));
    /// ```
    pub fn configuration(backend: &'static str, reason: impl Into<String>) -> Self {
        Error::Configuration {
            backend,
            reason: reason.into(),
        }
    }

    /// The public error of a failed storage request: `Indeterminate` for a write that
    /// may have been applied, otherwise `Backend` with the failure's kind (contract
    /// R12). The one place where that classification is made.
    ///
    /// ```
    /// use optimist_core::{Error, ErrorKind, Operation, StorageError};
    /// let lost = StorageError::maybe_applied(ErrorKind::Timeout, "no answer");
    /// assert!(Error::from_storage("redis", Operation::Put, None, lost).is_indeterminate());
    /// let lost_read = StorageError::maybe_applied(ErrorKind::Timeout, "no answer");
    /// assert!(Error::from_storage("redis", Operation::Get, None, lost_read).is_retryable());
    /// ```
    pub fn from_storage(
        backend: &'static str,
        operation: Operation,
        key: Option<&Key>,
        err: StorageError,
    ) -> Self {
        let (kind, applied, source) = err.into_parts();
        if kind == ErrorKind::InvalidInput {
            return Error::invalid(operation, key, source.to_string());
        }
        if applied == Applied::Maybe && operation.writes() {
            Error::indeterminate(backend, operation, key, source)
        } else {
            Error::backend(backend, operation, key, kind, source)
        }
    }

    /// The same error, marked as not worth retrying again: the store already spent its
    /// retry budget on it.
    ///
    /// ```
    /// use optimist_core::{Error, ErrorKind, Operation};
    /// let err = Error::backend("sqlite", Operation::Get, None, ErrorKind::Busy, "locked");
    /// assert!(!err.retries_exhausted().is_retryable());
    /// ```
    pub fn retries_exhausted(self) -> Self {
        match self {
            Error::Backend {
                operation,
                key,
                backend,
                kind,
                source,
                ..
            } => Error::Backend {
                operation,
                key,
                backend,
                kind,
                retryable: false,
                source,
            },
            other => other,
        }
    }

    /// The kind of a backend failure, to match on; `None` for other errors.
    ///
    /// ```
    /// use optimist_core::{Error, ErrorKind, Operation};
    /// let err = Error::backend("redis", Operation::Get, None, ErrorKind::Unavailable, "refused");
    /// assert_eq!(err.backend_kind(), Some(ErrorKind::Unavailable));
    /// ```
    pub fn backend_kind(&self) -> Option<ErrorKind> {
        match self {
            Error::Backend { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// Whether this is a conflict, of a single operation or of a transaction.
    ///
    /// ```
    /// use optimist_core::{Error, Operation};
    /// assert!(!Error::Unsupported { operation: Operation::Transact }.is_conflict());
    /// ```
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Error::Conflict { .. } | Error::TransactionConflict { .. }
        )
    }

    /// The conflict of a single operation, if this is one.
    ///
    /// ```
    /// use optimist_core::{Conflict, Error, Key, Operation};
    /// let err = Error::conflict(Operation::Update, Key::new("k"), Conflict::NotFound);
    /// assert_eq!(err.conflict_ref(), Some(&Conflict::NotFound));
    /// ```
    pub fn conflict_ref(&self) -> Option<&Conflict> {
        match self {
            Error::Conflict { conflict, .. } => Some(conflict),
            _ => None,
        }
    }

    /// Whether this is [`Error::InvalidInput`].
    ///
    /// ```
    /// use optimist_core::{Error, Operation};
    /// assert!(Error::invalid(Operation::Get, None, "empty key").is_invalid_input());
    /// ```
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Error::InvalidInput { .. })
    }

    /// Whether this is [`Error::Indeterminate`].
    ///
    /// ```
    /// use optimist_core::{Error, Operation};
    /// assert!(!Error::invalid(Operation::Get, None, "x").is_indeterminate());
    /// ```
    pub fn is_indeterminate(&self) -> bool {
        matches!(self, Error::Indeterminate { .. })
    }

    /// Whether trying the same request again later may succeed: a retryable backend
    /// error. Conflicts are not retryable as such: the caller must re-apply its change
    /// to the current item.
    ///
    /// ```
    /// use optimist_core::{Error, Operation};
    /// use optimist_core::ErrorKind;
    /// assert!(!Error::backend("sqlite", Operation::Get, None, ErrorKind::Rejected, "bad schema").is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Backend {
                retryable: true,
                ..
            }
        )
    }

    /// The lease conflict, if a lease stood in the way (contract R19): another owner
    /// holds it, or the caller lost it.
    ///
    /// ```
    /// use optimist_core::{Error, Key, Operation};
    /// use optimist_core::lease::LeaseConflict;
    /// let err = Error::Lease {
    ///     operation: Operation::Put,
    ///     lease: Key::new("shard-1"),
    ///     conflict: LeaseConflict::Lost { token: 3, holder: None },
    /// };
    /// assert!(matches!(err.lease_conflict(), Some(LeaseConflict::Lost { token: 3, .. })));
    /// assert!(!err.is_conflict());
    /// ```
    pub fn lease_conflict(&self) -> Option<&LeaseConflict> {
        match self {
            Error::Lease { conflict, .. } => Some(conflict),
            _ => None,
        }
    }
}

//! The typed layer's error: a store error, an entity that does not encode or decode,
//! a retry that ran out of attempts, or a closure that gave up.

use std::fmt;

use super::Entity;
use crate::{BoxError, Conflict, Key, OpFailure, Operation};

/// What the typed layer's operations return.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which way a [`Error::Serialization`] went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Direction {
    /// Entity to stored document.
    Encode,
    /// Stored item to entity.
    Decode,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Encode => "encode",
            Direction::Decode => "decode",
        })
    }
}

/// The error of the typed layer ([`Context`](super::Context) and its transactions).
///
/// A conflict stays a [`crate::Error`] inside [`Error::Store`], with the current item;
/// [`current`](Error::current) decodes that item as the entity, so a caller can retry
/// without reading again (SPEC R11). Like the store's errors, messages name the
/// operation and key, never a value.
///
/// ```
/// use optimist_core::{Conflict, Key, Operation, Version, Versioned};
/// use optimist_core::typed::{Entity, Error};
/// use serde::{Deserialize, Serialize};
/// use serde_json::json;
///
/// #[derive(Entity, Serialize, Deserialize)]
/// struct Counter {
///     #[entity(partition_key)]
///     id: String,
///     count: u64,
///     #[entity(version)]
///     version: Option<u64>,
/// }
///
/// let conflict = Conflict::VersionMismatch {
///     expected: Version::new(1),
///     current: Versioned::new(json!({"count": 9}), Version::new(5)),
/// };
/// let err = Error::from(optimist_core::Error::conflict(Operation::Update, Key::new("c"), conflict));
/// assert!(err.is_conflict());
/// let current: Counter = err.current()?.unwrap();
/// assert_eq!((current.id.as_str(), current.count, current.version), ("c", 9, Some(5)));
/// # Ok::<(), Error>(())
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store refused or failed the operation: a conflict, invalid input, a backend
    /// failure; see [`crate::Error`].
    #[error(transparent)]
    Store(#[from] crate::Error),
    /// An entity did not encode to a document, or a stored item did not decode to the
    /// entity. Nothing was written.
    #[error("{operation} {key}: cannot {direction} `{type_name}`: {reason}")]
    Serialization {
        /// The operation.
        operation: Operation,
        /// The key of the item.
        key: Key,
        /// Which way.
        direction: Direction,
        /// The entity's type.
        type_name: &'static str,
        /// What went wrong, without the value.
        reason: String,
        /// serde's own error, if there was one; its message may quote part of the
        /// value, so it is kept out of this error's message and `Debug`.
        #[source]
        source: Option<serde_json::Error>,
    },
    /// [`update_with`](super::Context::update_with) met a conflict on every attempt.
    #[error("{attempts} attempts all conflicted; last: {last}")]
    RetryExhausted {
        /// How many writes were tried.
        attempts: u32,
        /// The last attempt's error (a conflict).
        last: Box<Error>,
    },
    /// The closure given to [`update_with`](super::Context::update_with) gave up with
    /// its own error; nothing was written by that attempt.
    #[error("update {key}: aborted by the caller")]
    Aborted {
        /// The key being updated.
        key: Key,
        /// The closure's error; [`aborted`](Error::aborted) downcasts it.
        source: BoxError,
    },
}

// Written by hand so serde's message (which can quote a value) stays out of `Debug`.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Store(inner) => f.debug_tuple("Store").field(inner).finish(),
            Error::Serialization {
                operation,
                key,
                direction,
                type_name,
                reason,
                source,
            } => f
                .debug_struct("Serialization")
                .field("operation", operation)
                .field("key", key)
                .field("direction", direction)
                .field("type_name", type_name)
                .field("reason", reason)
                .field("source", &source.as_ref().map(|e| e.classify()))
                .finish(),
            Error::RetryExhausted { attempts, last } => f
                .debug_struct("RetryExhausted")
                .field("attempts", attempts)
                .field("last", last)
                .finish(),
            Error::Aborted { key, source } => f
                .debug_struct("Aborted")
                .field("key", key)
                .field("source", source)
                .finish(),
        }
    }
}

impl Error {
    pub(crate) fn encoding(
        operation: Operation,
        key: Key,
        type_name: &'static str,
        reason: impl Into<String>,
        source: Option<serde_json::Error>,
    ) -> Self {
        Error::Serialization {
            operation,
            key,
            direction: Direction::Encode,
            type_name,
            reason: reason.into(),
            source,
        }
    }

    pub(crate) fn decoding(
        operation: Operation,
        key: Key,
        type_name: &'static str,
        reason: impl Into<String>,
        source: Option<serde_json::Error>,
    ) -> Self {
        Error::Serialization {
            operation,
            key,
            direction: Direction::Decode,
            type_name,
            reason: reason.into(),
            source,
        }
    }

    /// The store's error, if this is one.
    ///
    /// ```
    /// use optimist_core::{Operation, typed::Error};
    /// let err = Error::from(optimist_core::Error::invalid(Operation::Get, None, "empty key"));
    /// assert!(err.store_error().is_some_and(|e| e.is_invalid_input()));
    /// ```
    pub fn store_error(&self) -> Option<&crate::Error> {
        match self {
            Error::Store(inner) => Some(inner),
            _ => None,
        }
    }

    /// Whether this is a conflict of a single operation or of a transaction.
    ///
    /// ```
    /// use optimist_core::{Conflict, Key, Operation, typed::Error};
    /// let err = Error::from(optimist_core::Error::conflict(Operation::Delete, Key::new("k"), Conflict::NotFound));
    /// assert!(err.is_conflict());
    /// ```
    pub fn is_conflict(&self) -> bool {
        self.store_error().is_some_and(crate::Error::is_conflict)
    }

    /// The conflict of a single operation, if this is one.
    ///
    /// ```
    /// use optimist_core::{Conflict, Key, Operation, typed::Error};
    /// let err = Error::from(optimist_core::Error::conflict(Operation::Delete, Key::new("k"), Conflict::NotFound));
    /// assert_eq!(err.conflict(), Some(&Conflict::NotFound));
    /// ```
    pub fn conflict(&self) -> Option<&Conflict> {
        self.store_error().and_then(crate::Error::conflict_ref)
    }

    /// The failing ops of a transaction conflict, if this is one; decode an op's
    /// current item with [`Entity::from_item`].
    ///
    /// ```
    /// use optimist_core::{Conflict, Key, OpFailure, typed::Error};
    /// let failure = OpFailure { index: 1, key: Key::new("k"), conflict: Conflict::NotFound };
    /// let err = Error::from(optimist_core::Error::TransactionConflict { failures: vec![failure] });
    /// assert_eq!(err.transaction_failures().map(|f| f[0].index), Some(1));
    /// ```
    pub fn transaction_failures(&self) -> Option<&[OpFailure]> {
        match self.store_error() {
            Some(crate::Error::TransactionConflict { failures }) => Some(failures),
            _ => None,
        }
    }

    /// The item as it was when a single operation's condition failed, decoded as `T`
    /// with its key and version: `Ok(None)` if this is not a conflict or the conflict
    /// is `NotFound`, an error if the item does not decode as `T`.
    ///
    /// See the example on [`Error`].
    pub fn current<T: Entity>(&self) -> Result<Option<T>> {
        match self.store_error() {
            Some(crate::Error::Conflict {
                operation,
                key,
                conflict,
            }) => match conflict.current() {
                Some(item) => T::from_item(key, item.clone(), *operation).map(Some),
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// The closure's own error, if [`update_with`](super::Context::update_with) was
    /// aborted with an `E`.
    ///
    /// ```
    /// use optimist_core::{Key, typed::Error};
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("sold out")]
    /// struct SoldOut;
    /// let err = Error::Aborted { key: Key::new("k"), source: Box::new(SoldOut) };
    /// assert!(err.aborted::<SoldOut>().is_some());
    /// ```
    pub fn aborted<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            Error::Aborted { source, .. } => source.downcast_ref::<E>(),
            _ => None,
        }
    }
}

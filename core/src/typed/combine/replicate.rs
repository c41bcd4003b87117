//! One batch's failure, told to every member: errors are not `Clone` (their sources are
//! boxed driver errors), so each member gets a replica with the same variant, fields and
//! classification, the source kept as its message.

use crate::Error as StoreError;
use crate::typed::Error;

/// A replica of `err`: same variant and fields; a boxed source becomes its message.
pub(super) fn replicate(err: &Error) -> Error {
    match err {
        Error::Store(inner) => Error::Store(replicate_store(inner)),
        Error::Serialization {
            operation,
            key,
            direction,
            type_name,
            reason,
            ..
        } => Error::Serialization {
            operation: *operation,
            key: key.clone(),
            direction: *direction,
            type_name,
            reason: reason.clone(),
            source: None,
        },
        Error::RetryExhausted { attempts, last } => Error::RetryExhausted {
            attempts: *attempts,
            last: Box::new(replicate(last)),
        },
        Error::Aborted { key, source } => Error::Aborted {
            key: key.clone(),
            source: source.to_string().into(),
        },
    }
}

fn replicate_store(err: &StoreError) -> StoreError {
    match err {
        StoreError::Conflict {
            operation,
            key,
            conflict,
        } => StoreError::Conflict {
            operation: *operation,
            key: key.clone(),
            conflict: conflict.clone(),
        },
        StoreError::TransactionConflict { failures } => StoreError::TransactionConflict {
            failures: failures.clone(),
        },
        StoreError::InvalidInput {
            operation,
            key,
            reason,
        } => StoreError::InvalidInput {
            operation: *operation,
            key: key.clone(),
            reason: reason.clone(),
        },
        StoreError::Unsupported { operation } => StoreError::Unsupported {
            operation: *operation,
        },
        StoreError::Configuration { backend, reason } => StoreError::Configuration {
            backend,
            reason: reason.clone(),
        },
        StoreError::Indeterminate {
            operation,
            key,
            backend,
            source,
        } => StoreError::Indeterminate {
            operation: *operation,
            key: key.clone(),
            backend,
            source: source.to_string().into(),
        },
        StoreError::Backend {
            operation,
            key,
            backend,
            kind,
            retryable,
            source,
        } => StoreError::Backend {
            operation: *operation,
            key: key.clone(),
            backend,
            kind: *kind,
            retryable: *retryable,
            source: source.to_string().into(),
        },
    }
}

//! The one place where the SDK's errors become [`optimist_core::Error`]s.
//!
//! - Throttling, `TransactionConflict` and 5xx answers (after the SDK's own retries)
//!   are `Backend { retryable: true }`: the service refused the request.
//! - A write whose answer was lost (a timeout or a broken connection after the
//!   request was sent, an unreadable response) is `Indeterminate`: it may have been
//!   applied. A read that fails that way is `Backend { retryable: true }`.
//! - A connection that could not be opened is `Backend { retryable: true }`.
//! - Anything else (validation, a missing table, access denied) is
//!   `Backend { retryable: false }` with a [`DynamoDbError`] naming the problem.
//!
//! Messages carry the service's error code and message and the SDK's error chain; no
//! request (so no credential or signature) is ever part of them.

use std::error::Error as StdError;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use optimist_core::{Error, Key, Operation};

/// What went wrong on the DynamoDB side; the `source` of an
/// [`Error::Backend`](optimist_core::Error::Backend) or
/// [`Error::Indeterminate`](optimist_core::Error::Indeterminate) from this backend.
///
/// ```
/// let err = optimist_dynamodb::DynamoDbError::TableNotFound { table: "orders".into() };
/// assert_eq!(err.to_string(), "table \"orders\" does not exist");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DynamoDbError {
    /// The table does not exist (or is not visible to these credentials).
    #[error("table {table:?} does not exist")]
    TableNotFound {
        /// The table's name.
        table: String,
    },
    /// The table exists but its key schema differs from the [`TableDescription`](crate::TableDescription).
    #[error("table {table:?} does not match its description: {reason}")]
    SchemaMismatch {
        /// The table's name.
        table: String,
        /// What differs.
        reason: String,
    },
    /// The service refused the request with an error code.
    #[error("{code}: {message}")]
    Service {
        /// The service's error code, such as `ValidationException`.
        code: String,
        /// The service's message.
        message: String,
    },
    /// The request failed on the way (connection, timeout, response).
    #[error("request failed: {0}")]
    Request(String),
    /// An item in the table cannot be read as a document and version.
    #[error("item cannot be read: {0}")]
    UnreadableItem(String),
    /// The writes kept racing with other writers.
    #[error("{0}")]
    Contention(String),
}

/// Service error codes that mean "refused for now, try later".
const RETRYABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "TransactionConflictException",
    "InternalServerError",
    "ServiceUnavailable",
];

/// Maps a failed request. `writes`: whether the request could have changed the table.
pub(crate) fn map_sdk_error<E>(
    err: SdkError<E, HttpResponse>,
    operation: Operation,
    key: Option<&Key>,
    table: &str,
    writes: bool,
) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let lost_answer = |detail: String| {
        if writes {
            Error::indeterminate(operation, key, DynamoDbError::Request(detail))
        } else {
            Error::backend(operation, key, true, DynamoDbError::Request(detail))
        }
    };
    match &err {
        SdkError::ServiceError(service) => {
            let code = err.code().unwrap_or("unknown").to_string();
            let message = err.message().unwrap_or("").to_string();
            let status = service.raw().status().as_u16();
            if code == "ResourceNotFoundException" {
                return Error::backend(
                    operation,
                    key,
                    false,
                    DynamoDbError::TableNotFound {
                        table: table.to_string(),
                    },
                );
            }
            if code == "TransactionInProgressException" {
                // An earlier attempt with the same token reached the service.
                return lost_answer(format!("{code}: {message}"));
            }
            let retryable = status >= 500 || RETRYABLE_CODES.contains(&code.as_str());
            Error::backend(
                operation,
                key,
                retryable,
                DynamoDbError::Service { code, message },
            )
        }
        SdkError::ConstructionFailure(_) => Error::backend(
            operation,
            key,
            false,
            DynamoDbError::Request(DisplayErrorContext(&err).to_string()),
        ),
        SdkError::DispatchFailure(dispatch) => {
            let detail = DisplayErrorContext(&err).to_string();
            if dispatch.is_user() {
                Error::backend(operation, key, false, DynamoDbError::Request(detail))
            } else if never_connected(&err) {
                Error::backend(operation, key, true, DynamoDbError::Request(detail))
            } else {
                lost_answer(detail)
            }
        }
        _ => lost_answer(DisplayErrorContext(&err).to_string()),
    }
}

/// Whether the error chain shows the connection was never opened, so nothing was sent.
fn never_connected(err: &(dyn StdError + 'static)) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionRefused
                    | AddrNotAvailable
                    | NotConnected
                    | HostUnreachable
                    | NetworkUnreachable
            ) {
                return true;
            }
        }
        current = e.source();
    }
    false
}

/// An item the table holds that this backend cannot read.
pub(crate) fn unreadable(operation: Operation, key: &Key, reason: String) -> Error {
    Error::backend(
        operation,
        Some(key),
        false,
        DynamoDbError::UnreadableItem(reason),
    )
}

//! The one place where the SDK's errors become [`optimist_core::Error`]s, and where
//! a failed write is judged safe to send again.
//!
//! - Throttling (`ProvisionedThroughputExceeded`, `Throttling`, `RequestLimitExceeded`)
//!   and `TransactionConflict` answers refuse a request without applying it: a write
//!   that gets one is sent again by [`crate::resend`]; when the resends run out it is
//!   `Backend { retryable: true }`. So is a transaction cancelled only for those reasons.
//! - A connection that could not be opened (refused, no such address) sent nothing:
//!   resent, then `Backend { retryable: true }`.
//! - A write whose outcome is unknown is `Indeterminate`: a 5xx answer (DynamoDB's
//!   `InternalServerError` on a write may or may not have applied it), a timeout or a
//!   broken connection after the request was sent, an unreadable response. It is never
//!   resent. A read that fails that way wrote nothing: `Backend { retryable: true }`.
//! - Anything else (validation, a missing table, access denied) is
//!   `Backend { retryable: false }` with a [`DynamoDbError`] naming the problem.
//!
//! Messages carry the service's error code and message and the SDK's error chain; no
//! request (so no credential or signature) is ever part of them.

use std::error::Error as StdError;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::CancellationReason;
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

/// Answers that refuse a request without applying it and invite sending it again.
const THROTTLING_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionConflictException",
];

/// Refusals worth trying again later that are not resent (control-plane limits).
const BUSY_CODES: &[&str] = &["LimitExceededException"];

/// Answers of a service that failed while handling the request: on a write, the
/// outcome is unknown.
const SERVER_FAULT_CODES: &[&str] = &["InternalServerError", "ServiceUnavailable"];

/// Transaction cancellation reasons that refuse the transaction for now; `None` marks
/// an item that did not fail.
const TRANSIENT_REASONS: &[&str] = &[
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
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
            let server_fault = status >= 500 || SERVER_FAULT_CODES.contains(&code.as_str());
            if server_fault && writes {
                return Error::indeterminate(
                    operation,
                    key,
                    DynamoDbError::Service { code, message },
                );
            }
            let retryable = server_fault
                || THROTTLING_CODES.contains(&code.as_str())
                || BUSY_CODES.contains(&code.as_str());
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

/// Whether a failed write provably was not applied, so sending it again is safe: a
/// throttling answer (4xx) or a connection that never opened.
pub(crate) fn not_applied<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            service.raw().status().as_u16() < 500
                && err
                    .code()
                    .is_some_and(|code| THROTTLING_CODES.contains(&code))
        }
        SdkError::DispatchFailure(dispatch) => !dispatch.is_user() && never_connected(err),
        _ => false,
    }
}

/// [`not_applied`] for `TransactWriteItems`, which also counts a cancellation whose
/// reasons are only transaction conflicts and throttling (no failed condition).
pub(crate) fn transaction_not_applied(
    err: &SdkError<TransactWriteItemsError, HttpResponse>,
) -> bool {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            transient_cancellation(cancelled.cancellation_reasons())
        }
        _ => not_applied(err),
    }
}

/// Whether a transaction was cancelled only for reasons that pass: conflicts with other
/// transactions and throttling.
fn transient_cancellation(reasons: &[CancellationReason]) -> bool {
    let codes = || reasons.iter().map(|r| r.code().unwrap_or("None"));
    codes().any(|code| TRANSIENT_REASONS.contains(&code))
        && codes().all(|code| code == "None" || TRANSIENT_REASONS.contains(&code))
}

/// A transaction cancelled for reasons other than a failed condition. Nothing of it
/// was applied.
pub(crate) fn cancelled(reasons: &[CancellationReason], table: &str) -> Error {
    let codes: Vec<&str> = reasons.iter().map(|r| r.code().unwrap_or("None")).collect();
    // moto reports a missing table as a cancellation reason; DynamoDB as the error itself.
    if codes.iter().any(|c| c.starts_with("ResourceNotFound")) {
        let table = table.to_string();
        return Error::backend(
            Operation::Transact,
            None,
            false,
            DynamoDbError::TableNotFound { table },
        );
    }
    let retryable = codes.iter().any(|c| TRANSIENT_REASONS.contains(c));
    let message = reasons
        .iter()
        .filter_map(|r| r.message())
        .collect::<Vec<_>>()
        .join("; ");
    Error::backend(
        Operation::Transact,
        None,
        retryable,
        DynamoDbError::Service {
            code: "TransactionCanceledException".to_string(),
            message: format!("reasons [{}] {message}", codes.join(", ")),
        },
    )
}

/// Whether the error chain shows the connection was never opened, so nothing was sent.
///
/// Only errors that `connect` alone reports count: a refused connection (a reset in
/// SYN-SENT; an established connection that is reset reports `ConnectionReset`) and
/// an address that cannot be used. Unreachable hosts and networks are left out: an
/// established connection that times out reports them too, after the request may have
/// been sent.
fn never_connected(err: &(dyn StdError + 'static)) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(io.kind(), ConnectionRefused | AddrNotAvailable) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes
            .iter()
            .map(|code| CancellationReason::builder().code(*code).build())
            .collect()
    }

    #[test]
    fn only_conflicts_and_throttling_make_a_cancellation_transient() {
        assert!(transient_cancellation(&reasons(&["TransactionConflict"])));
        assert!(transient_cancellation(&reasons(&[
            "None",
            "ThrottlingError"
        ])));
        assert!(transient_cancellation(&reasons(&[
            "ProvisionedThroughputExceeded",
            "None"
        ])));
        // A failed condition is a conflict to report, not a refusal to resend.
        assert!(!transient_cancellation(&reasons(&[
            "ConditionalCheckFailed",
            "TransactionConflict"
        ])));
        assert!(!transient_cancellation(&reasons(&[
            "ValidationError",
            "TransactionConflict"
        ])));
        assert!(!transient_cancellation(&reasons(&["None", "None"])));
        assert!(!transient_cancellation(&[]));
    }
}

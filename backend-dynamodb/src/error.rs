//! The one place where the SDK's errors become [`StorageError`]s (for the requests
//! core's engine sends) and [`Error`]s (for setting a table up), and where a failure is
//! judged applied or not (contract R12). The SDK's error stays the source, under a
//! [`DynamoDbError`] that names what went wrong.
//!
//! - Throttling (`ProvisionedThroughputExceeded`, `Throttling`, `RequestLimitExceeded`)
//!   and `TransactionConflict` answers refuse a request without applying it:
//!   `not_applied(Busy)`, so the engine sends it again within the store's retry policy.
//!   So is a transaction cancelled only for those reasons.
//! - A connection that could not be opened (refused, no such address, no answer
//!   within the connect timeout, a failed TLS handshake) sent nothing:
//!   `not_applied(Unavailable)`, sent again too.
//! - A write whose outcome is unknown is `maybe_applied`, which the engine reports as
//!   `Indeterminate` and never sends again: a 5xx answer (DynamoDB's
//!   `InternalServerError` on a write may or may not have applied it), a timeout or a
//!   broken connection after the request may have left, an unreadable answer. A read
//!   that fails that way wrote nothing: `not_applied`, and sent again.
//! - Anything else the service refuses (validation, a missing table, access denied) is
//!   `not_applied(Rejected)`: nothing was written and sending it again will not help.
//!
//! Messages carry the service's error code and message and the SDK's error chain; no
//! request (so no credential or signature) is ever part of them.

use std::error::Error as StdError;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::CancellationReason;
use optimist_core::{Applied, BoxError, Error, ErrorKind, Key, Operation, StorageError};

/// The backend's name in errors and spans.
pub(crate) const BACKEND: &str = "dynamodb";

/// What went wrong on the DynamoDB side: the `source` of an
/// [`Error::Backend`](optimist_core::Error::Backend) or
/// [`Error::Indeterminate`](optimist_core::Error::Indeterminate) from this backend.
/// Where the SDK reported the failure, its error is this error's source.
///
/// ```
/// let err = optimist_dynamodb::DynamoDbError::UnreadableItem("\"k\": version is not a number".into());
/// assert_eq!(err.to_string(), "item cannot be read: \"k\": version is not a number");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DynamoDbError {
    /// The table does not exist (or is not visible to these credentials).
    #[error("table {table:?} does not exist")]
    TableNotFound {
        /// The table's name.
        table: String,
        /// The SDK's error.
        source: BoxError,
    },
    /// The service answered the request with an error code.
    #[error("{code}: {message}")]
    Service {
        /// The service's error code, such as `ValidationException`.
        code: String,
        /// The service's message.
        message: String,
        /// The SDK's error.
        source: BoxError,
    },
    /// The server does not implement the operation (`UnknownOperationException`): a
    /// DynamoDB-compatible server without it, such as one without transactions.
    /// Nothing was applied.
    #[error(
        "the server does not implement {operation} (UnknownOperationException): a DynamoDB-compatible server without this operation"
    )]
    UnknownOperation {
        /// The operation, as the SDK names it (`TransactWriteItems`, ...).
        operation: String,
        /// The SDK's error.
        source: BoxError,
    },
    /// The request got no usable answer: no connection, a timeout, a broken
    /// connection, an answer that could not be read.
    #[error("the request to DynamoDB failed")]
    Request {
        /// The SDK's error.
        source: BoxError,
    },
    /// An item in the table cannot be read as a document and version.
    #[error("item cannot be read: {0}")]
    UnreadableItem(String),
    /// An item is larger than the store's limit as DynamoDB counts it (attribute names
    /// and values); nothing was sent.
    #[error(
        "item {key} is {size} bytes as DynamoDB counts them (attribute names and values), over the limit of {limit}"
    )]
    ItemTooLarge {
        /// The item's key.
        key: Key,
        /// Its size as DynamoDB counts it.
        size: usize,
        /// The store's limit.
        limit: usize,
    },
    /// A transaction is larger than DynamoDB's 4 MB; nothing was sent.
    #[error("the transaction is {size} bytes as DynamoDB counts them, over its limit of {limit}")]
    TransactionTooLarge {
        /// Its size as DynamoDB counts it.
        size: usize,
        /// DynamoDB's limit.
        limit: usize,
    },
    /// Other writers kept changing the item while the store worked on it.
    #[error("{0}")]
    Contention(String),
    /// `BatchGetItem` answered as many answers in a row as the store's retry policy
    /// has attempts without processing any of the keys sent; nothing was written.
    #[error(
        "BatchGetItem left {unprocessed} keys unprocessed after {requests} requests, the last ones processing none (the retry policy's attempts)"
    )]
    UnprocessedKeys {
        /// How many keys were still unprocessed.
        unprocessed: usize,
        /// How many `BatchGetItem` requests were sent for them.
        requests: u32,
    },
    /// `purge_tombstones` failed after it had removed some tombstones (those stay
    /// removed).
    #[error("purging tombstones stopped after removing {removed} of them")]
    PurgeInterrupted {
        /// How many tombstones were removed before the failure.
        removed: u64,
        /// The failure.
        source: BoxError,
    },
}

/// Answers that refuse a request without applying it and invite sending it again.
const THROTTLING_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    // Too many control-plane operations at once; data-plane requests do not get it.
    "LimitExceededException",
];

/// The code of a request for an operation the server does not implement.
pub(crate) const UNKNOWN_OPERATION: &str = "UnknownOperationException";

/// The operation an SDK error `E` belongs to, as the API names it: the SDK's
/// `TransactWriteItemsError` is `TransactWriteItems`.
fn operation_name<E, R>(_: &SdkError<E, R>) -> String {
    let name = std::any::type_name::<E>();
    let name = name.rsplit("::").next().unwrap_or(name);
    name.strip_suffix("Error").unwrap_or(name).to_string()
}

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

/// Maps a failed request on `table`. `if_lost` is what a request whose answer never
/// came means: [`Applied::Maybe`] for a request that can write, [`Applied::No`] for a
/// read.
pub(crate) fn from_sdk<E>(
    err: SdkError<E, HttpResponse>,
    if_lost: Applied,
    table: &str,
) -> StorageError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let (kind, applied) = classify(&err, if_lost);
    StorageError::new(kind, applied, describe(err, table))
}

/// A failed set-up request (`DescribeTable`, `CreateTable`, `DeleteTable`): a
/// [`Error::Backend`] of [`Operation::Setup`].
pub(crate) fn setup<E>(err: SdkError<E, HttpResponse>, table: &str) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    Error::from_storage(
        BACKEND,
        Operation::Setup,
        None,
        from_sdk(err, Applied::No, table),
    )
}

/// A configuration problem of this backend.
pub(crate) fn configuration(reason: impl Into<String>) -> Error {
    Error::configuration(BACKEND, reason)
}

/// The kind of a failed request, and whether it may have been applied.
fn classify<E>(err: &SdkError<E, HttpResponse>, if_lost: Applied) -> (ErrorKind, Applied)
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let code = err.code().unwrap_or("");
            let status = service.raw().status().as_u16();
            if code == "TransactionInProgressException" {
                // An earlier attempt with the same token reached the service.
                (ErrorKind::Busy, if_lost)
            } else if status >= 500 || SERVER_FAULT_CODES.contains(&code) {
                (ErrorKind::Unavailable, if_lost)
            } else if THROTTLING_CODES.contains(&code) {
                (ErrorKind::Busy, Applied::No)
            } else {
                // A 4xx answer: the service refused the request as it is.
                (ErrorKind::Rejected, Applied::No)
            }
        }
        // The request could not be built: nothing was sent.
        SdkError::ConstructionFailure(_) => (ErrorKind::Other, Applied::No),
        SdkError::DispatchFailure(dispatch) if dispatch.is_user() => {
            (ErrorKind::Other, Applied::No)
        }
        SdkError::DispatchFailure(_) if never_connected(err) => {
            (ErrorKind::Unavailable, Applied::No)
        }
        SdkError::DispatchFailure(dispatch) if dispatch.is_timeout() => {
            (ErrorKind::Timeout, if_lost)
        }
        SdkError::DispatchFailure(_) => (ErrorKind::Io, if_lost),
        SdkError::TimeoutError(_) => (ErrorKind::Timeout, if_lost),
        SdkError::ResponseError(_) => (ErrorKind::Io, if_lost),
        _ => (ErrorKind::Other, if_lost),
    }
}

/// The SDK's error under a [`DynamoDbError`] that names the problem.
fn describe<E>(err: SdkError<E, HttpResponse>, table: &str) -> DynamoDbError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(_) => {
            let code = err.code().unwrap_or("unknown").to_string();
            let message = err.message().unwrap_or("").to_string();
            if code == "ResourceNotFoundException" {
                DynamoDbError::TableNotFound {
                    table: table.to_string(),
                    source: Box::new(err),
                }
            } else if code == UNKNOWN_OPERATION {
                DynamoDbError::UnknownOperation {
                    operation: operation_name(&err),
                    source: Box::new(err),
                }
            } else {
                DynamoDbError::Service {
                    code,
                    message,
                    source: Box::new(err),
                }
            }
        }
        _ => DynamoDbError::Request {
            source: Box::new(err),
        },
    }
}

/// A transaction cancelled for reasons other than a failed condition; nothing of it
/// was applied. Only transaction conflicts and throttling (`Busy`) pass with time.
pub(crate) fn cancelled<E>(
    err: SdkError<E, HttpResponse>,
    reasons: &[CancellationReason],
    table: &str,
) -> StorageError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let codes: Vec<&str> = reasons.iter().map(|r| r.code().unwrap_or("None")).collect();
    // moto reports a missing table as a cancellation reason; DynamoDB as the error itself.
    if codes.iter().any(|c| c.starts_with("ResourceNotFound")) {
        let source = DynamoDbError::TableNotFound {
            table: table.to_string(),
            source: Box::new(err),
        };
        return StorageError::not_applied(ErrorKind::Rejected, source);
    }
    let kind = if transient_cancellation(reasons) {
        ErrorKind::Busy
    } else {
        ErrorKind::Rejected
    };
    let messages: Vec<&str> = reasons.iter().filter_map(|r| r.message()).collect();
    let source = DynamoDbError::Service {
        code: err
            .code()
            .unwrap_or("TransactionCanceledException")
            .to_string(),
        message: format!("reasons [{}] {}", codes.join(", "), messages.join("; ")),
        source: Box::new(err),
    };
    StorageError::not_applied(kind, source)
}

/// Whether a transaction was cancelled only for reasons that pass: conflicts with other
/// transactions and throttling.
fn transient_cancellation(reasons: &[CancellationReason]) -> bool {
    let codes = || reasons.iter().map(|r| r.code().unwrap_or("None"));
    codes().any(|code| TRANSIENT_REASONS.contains(&code))
        && codes().all(|code| code == "None" || TRANSIENT_REASONS.contains(&code))
}

/// Whether the error chain shows the connection was never opened, so nothing was sent.
///
/// The HTTP client says so itself: its error is a *connect* error when opening the
/// connection failed (refused, no answer within the connect timeout, a TLS handshake
/// that failed), before the request was written. Without that error in the chain
/// (another HTTP client), only errors that `connect` alone reports count: a refused
/// connection (a reset in SYN-SENT; an established connection that is reset reports
/// `ConnectionReset`) and an address that cannot be used. Unreachable hosts and
/// networks are left out there: an established connection that times out reports
/// them too, after the request may have been sent.
fn never_connected(err: &(dyn StdError + 'static)) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(hyper_util::client::legacy::Error::is_connect)
        {
            return true;
        }
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

/// An item the table holds that this backend cannot read; nothing was written.
pub(crate) fn unreadable(key: &Key, reason: String) -> StorageError {
    StorageError::corrupt(DynamoDbError::UnreadableItem(format!("{key}: {reason}")))
}

/// A request the SDK's builders refuse to build (a required field missing); nothing
/// was sent.
pub(crate) fn unbuildable(err: impl Into<BoxError>) -> StorageError {
    StorageError::not_applied(ErrorKind::Other, err)
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used)] // tests fail by panicking
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::{ConnectorError, ErrorMetadata};
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_smithy_types::body::SdkBody;

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes
            .iter()
            .map(|code| CancellationReason::builder().code(*code).build())
            .collect()
    }

    /// A service answer of `status` with error `code` to a `PutItem`.
    fn answered(status: u16, code: &str) -> SdkError<PutItemError, HttpResponse> {
        let meta = ErrorMetadata::builder().code(code).message("m").build();
        let status = status
            .try_into()
            .unwrap_or_else(|_| panic!("bad status {status}"));
        let raw = HttpResponse::new(status, SdkBody::empty());
        SdkError::service_error(PutItemError::generic(meta), raw)
    }

    fn classified(
        err: SdkError<PutItemError, HttpResponse>,
        if_lost: Applied,
    ) -> (ErrorKind, Applied) {
        let mapped = from_sdk(err, if_lost, "t");
        (mapped.kind(), mapped.applied())
    }

    #[test]
    fn throttling_applied_nothing_and_is_sent_again() {
        for code in [
            "ThrottlingException",
            "ProvisionedThroughputExceededException",
        ] {
            let mapped = from_sdk(answered(400, code), Applied::Maybe, "t");
            assert_eq!(
                (mapped.kind(), mapped.applied()),
                (ErrorKind::Busy, Applied::No)
            );
            assert!(mapped.is_transient());
        }
    }

    #[test]
    fn a_server_fault_on_a_write_may_have_been_applied() {
        for (status, code) in [
            (500, "InternalServerError"),
            (503, "ServiceUnavailable"),
            (502, ""),
        ] {
            assert_eq!(
                classified(answered(status, code), Applied::Maybe),
                (ErrorKind::Unavailable, Applied::Maybe),
                "{status} {code}"
            );
            // A read that met it wrote nothing: sent again.
            assert_eq!(
                classified(answered(status, code), Applied::No),
                (ErrorKind::Unavailable, Applied::No)
            );
        }
    }

    #[test]
    fn a_refusal_for_good_applied_nothing() {
        let mapped = from_sdk(answered(400, "ValidationException"), Applied::Maybe, "t");
        assert_eq!(
            (mapped.kind(), mapped.applied()),
            (ErrorKind::Rejected, Applied::No)
        );
        let missing = from_sdk(
            answered(400, "ResourceNotFoundException"),
            Applied::Maybe,
            "orders",
        );
        assert!(matches!(
            missing.source_ref().downcast_ref::<DynamoDbError>(),
            Some(DynamoDbError::TableNotFound { table, .. }) if table == "orders"
        ));
    }

    #[test]
    fn an_operation_the_server_does_not_implement_is_named() {
        let mapped = from_sdk(answered(400, UNKNOWN_OPERATION), Applied::Maybe, "t");
        assert_eq!(
            (mapped.kind(), mapped.applied()),
            (ErrorKind::Rejected, Applied::No)
        );
        let source = mapped.source_ref().downcast_ref::<DynamoDbError>();
        assert!(
            matches!(source, Some(DynamoDbError::UnknownOperation { operation, .. }) if operation == "PutItem"),
            "{source:?}"
        );
        let told = source.map(ToString::to_string).unwrap_or_default();
        assert!(told.contains("does not implement PutItem"), "{told}");
    }

    #[test]
    fn a_refused_connection_sent_nothing_and_other_io_may_have() {
        let refused = ConnectorError::io(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert_eq!(
            classified(SdkError::dispatch_failure(refused), Applied::Maybe),
            (ErrorKind::Unavailable, Applied::No)
        );
        let reset = ConnectorError::io(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        assert_eq!(
            classified(SdkError::dispatch_failure(reset), Applied::Maybe),
            (ErrorKind::Io, Applied::Maybe)
        );
        assert_eq!(
            classified(SdkError::timeout_error("attempt timeout"), Applied::Maybe),
            (ErrorKind::Timeout, Applied::Maybe)
        );
    }

    #[test]
    fn the_sdk_error_stays_the_source() {
        let mapped = from_sdk(answered(400, "ValidationException"), Applied::No, "t");
        let ours = mapped.source_ref().downcast_ref::<DynamoDbError>();
        let Some(DynamoDbError::Service { code, source, .. }) = ours else {
            panic!("expected a service error, got {ours:?}");
        };
        assert_eq!(code, "ValidationException");
        assert!(
            source
                .downcast_ref::<SdkError<PutItemError, HttpResponse>>()
                .is_some()
        );
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

//! The one place where the engine's errors become optimist errors. This engine can
//! only fail to decode a row it stored; a server-backed backend maps its driver's
//! errors here too: busy or throttled is `Backend { retryable: true }`, an answer lost
//! after sending is `Indeterminate`, and an outage is never a conflict.

use optimist_core::{Error, Key, Operation};

/// A row whose JSON text does not parse: corrupt storage, not the caller's fault.
pub(crate) fn corrupt_row(operation: Operation, key: &Key, err: serde_json::Error) -> Error {
    Error::backend(
        operation,
        Some(key),
        false,
        format!("stored row is not valid JSON: {err}"),
    )
}

/// A version that cannot advance any more.
pub(crate) fn version_exhausted(operation: Operation, key: &Key) -> Error {
    Error::backend(
        operation,
        Some(key),
        false,
        "the item's version counter is exhausted",
    )
}

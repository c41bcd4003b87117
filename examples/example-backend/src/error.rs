//! The one place where the engine's failures become optimist's. This engine can only
//! fail to decode a row it stored; a server-backed backend maps its driver's errors
//! here too: busy or throttled before anything was applied is
//! `StorageError::not_applied(ErrorKind::Busy, ..)` (the engine in core retries it), an
//! answer lost after sending is `StorageError::maybe_applied(..)` (reported as
//! `Indeterminate`), and an outage is never a conflict.

use optimist_core::StorageError;

/// A row whose JSON text does not parse: corrupt storage, not the caller's fault.
pub(crate) fn corrupt_row(err: serde_json::Error) -> StorageError {
    StorageError::corrupt(err)
}

//! Transactions: every write judged under one lock before any is applied, so they
//! apply all or nothing (contract R10).

use optimist_core::{CommitOutcome, Decision, Held, StorageError, Write};

use crate::engine::Rows;
use crate::store::{apply, current};

/// Judges every write, then applies them all, or none and lists every refused one.
pub(crate) fn commit(rows: &mut Rows, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
    let mut previous = Vec::with_capacity(writes.len());
    let mut refused = Vec::new();
    for (index, write) in writes.iter().enumerate() {
        let record = current(rows, write.key)?;
        let held = Held::of(record.as_ref());
        if write.decide(held) == Decision::Refuse {
            refused.push((index, record));
        }
        previous.push(held);
    }
    if !refused.is_empty() {
        return Ok(CommitOutcome::Refused { current: refused });
    }
    for write in writes {
        apply(rows, write)?;
    }
    Ok(CommitOutcome::Applied { previous })
}

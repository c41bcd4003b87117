//! The mutant's reads beyond one key: its items copied, at the call, into a read-only
//! [`Storage`] that the core engine turns into `get_many`, `query` and `scan` (checked
//! input, cursors), so the mutant's bugs sit where a backend author's would: in
//! `read_many` and `read_range`.

use std::collections::BTreeMap;

use optimist_core::{
    Capabilities, Direction, ErrorKind, Key, Outcome, RangePage, RangeRequest, RangeScope, Record,
    Storage, StorageError, Write, async_trait,
};

use crate::store::Bug;

/// A copy of a mutant's items at one moment.
pub struct Snapshot {
    pub bug: Bug,
    /// The mutant's identity: cursors of another mutant are refused.
    pub id: u64,
    pub caps: Capabilities,
    pub records: BTreeMap<Key, Record>,
}

#[async_trait]
impl Storage for Snapshot {
    fn backend_name(&self) -> &'static str {
        "mutant"
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn identity(&self) -> String {
        format!("mutant #{}", self.id)
    }

    async fn read(&self, key: &Key) -> Result<Option<Record>, StorageError> {
        Ok(self.records.get(key).cloned())
    }

    async fn write(&self, _write: &Write<'_>) -> Result<Outcome, StorageError> {
        Err(StorageError::not_applied(
            ErrorKind::Rejected,
            "a snapshot for reads takes no writes",
        ))
    }

    async fn read_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        let mut asked: Vec<&Key> = keys.iter().collect();
        if self.bug == Bug::GetManyOutOfOrder {
            // The bug: the answers in the store's key order (as `WHERE key IN (...)`
            // without `ORDER BY` gives them), not in the order asked.
            asked.sort();
        }
        Ok(asked
            .into_iter()
            .map(|key| self.records.get(key).cloned())
            .collect())
    }

    async fn read_range(&self, request: &RangeRequest<'_>) -> Result<RangePage, StorageError> {
        let limit = request.limit;
        let after = request.after;
        let descending = matches!(
            request.scope,
            RangeScope::Partition {
                direction: Direction::Descending,
                ..
            }
        ) && self.bug != Bug::QueryIgnoresDescending;
        let admitted = |key: &Key| match request.scope {
            RangeScope::Partition { .. } => {
                // The bug: the bound of the next page taken as inclusive (`>=`).
                request.admits(key)
                    || (self.bug == Bug::QueryRepeatsAtPageBoundary && Some(key) == after)
            }
            _ => after.is_none_or(|after| {
                key > after || (self.bug == Bug::QueryRepeatsAtPageBoundary && key == after)
            }),
        };
        let mut matching: Vec<(&Key, &Record)> = self
            .records
            .iter()
            .filter(|(key, _)| admitted(key))
            .collect();
        // With Bug::QueryIgnoresDescending, `descending` is false: the direction is
        // dropped, while the range and position still narrow the read as asked.
        if descending {
            matching.reverse();
        }
        let more = matching.len() > limit;
        let resume_after = if !more {
            None
        } else if self.bug == Bug::QuerySkipsAtPageBoundary {
            // The bug: the page resumes after the first item it did not answer.
            matching.get(limit).map(|(key, _)| (*key).clone())
        } else {
            matching.get(limit - 1).map(|(key, _)| (*key).clone())
        };
        let records = matching
            .into_iter()
            .take(limit)
            .map(|(key, record)| (key.clone(), record.clone()))
            .collect();
        Ok(RangePage::new(records, resume_after))
    }
}

//! The toy storage engine the example backend sits on: rows of JSON text and a version
//! number under string keys, one lock for the whole table. A real backend talks to a
//! server here; the point is that the engine knows nothing about optimist.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// One stored row.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    /// The value, as JSON text.
    pub json: String,
    /// The item's version.
    pub version: u64,
    pub token: String,
}

/// The rows of the table, by key.
pub(crate) type Rows = BTreeMap<String, Row>;

/// The table: key → row, ordered by key, and the table's number.
#[derive(Debug)]
pub(crate) struct Engine {
    rows: Mutex<BTreeMap<String, Row>>,
    id: u64,
}

impl Default for Engine {
    fn default() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Self {
            rows: Mutex::default(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl Engine {
    /// The table's number, unique in this process.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Locks the table for one atomic step (a check and a write happen under one lock:
    /// the engine's equivalent of a conditional write or a transaction).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Rows> {
        // Nothing panics while the lock is held, so a poisoned lock guards a valid map.
        self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

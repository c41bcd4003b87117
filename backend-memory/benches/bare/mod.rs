//! The baseline the memory store is measured against: the same compare-and-swap on a
//! bare `Mutex<HashMap>`, no checks, no async. Shared by the memory benches.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use optimist_core::Key;
use serde_json::Value;

/// Items and their versions behind one lock.
#[derive(Default)]
pub struct Bare(Mutex<HashMap<Key, (Value, u64)>>);

impl Bare {
    fn lock(&self) -> MutexGuard<'_, HashMap<Key, (Value, u64)>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the item, as a read hands it out.
    pub fn get(&self, key: &Key) -> Option<(Value, u64)> {
        self.lock().get(key).cloned()
    }

    /// Stores `value` at version 1.
    pub fn insert(&self, key: Key, value: Value) {
        self.lock().insert(key, (value, 1));
    }

    /// The compare-and-swap: the new version, or a copy of the current item.
    pub fn update(
        &self,
        key: &Key,
        expected: u64,
        value: Value,
    ) -> Result<u64, Option<(Value, u64)>> {
        let mut map = self.lock();
        match map.get_mut(key) {
            Some((v, version)) if *version == expected => {
                *v = value;
                *version += 1;
                Ok(*version)
            }
            Some((v, version)) => Err(Some((v.clone(), *version))),
            None => Err(None),
        }
    }
}

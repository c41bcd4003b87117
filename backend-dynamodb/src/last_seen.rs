//! What the store last saw each key hold (nothing, an item or a tombstone, and its
//! version), for the keys it used most recently: the first guess of a `put` (see
//! [`crate::put`]), so that a put on a key this store has read or written is one
//! conditional `PutItem`.
//!
//! It is only ever a guess. Every write it feeds is conditioned on exactly the state it
//! names, so a stale entry (another client, boto3 or PynamoDB or another store, wrote
//! the key since) costs one refused request, which returns the real record, and the
//! next round is conditioned on that: never a lost update.
//!
//! Bounded: two generations of at most [`KEYS_PER_GENERATION`] keys each. A key seen
//! goes into the young one; when it is full it becomes the old one (the old one is
//! dropped); a key found in the old one moves back to the young. So the keys used
//! within the last `KEYS_PER_GENERATION` distinct keys are always remembered, and at
//! most twice that many are held.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use optimist_core::{Held, Key};

/// How many keys one generation holds.
pub(crate) const KEYS_PER_GENERATION: usize = 8192;

/// The states last seen, per key.
#[derive(Debug, Default)]
pub(crate) struct LastSeen {
    generations: Mutex<Generations>,
}

#[derive(Debug, Default)]
struct Generations {
    young: HashMap<Key, Held>,
    old: HashMap<Key, Held>,
}

impl LastSeen {
    /// What `key` was last seen holding, if it is remembered.
    pub(crate) fn get(&self, key: &Key) -> Option<Held> {
        let mut generations = self.lock();
        if let Some(held) = generations.young.get(key) {
            return Some(*held);
        }
        let held = generations.old.remove(key)?;
        generations.remember(key.clone(), held);
        Some(held)
    }

    /// `key` holds `held` now, as an answer of the server showed.
    pub(crate) fn saw(&self, key: &Key, held: Held) {
        self.lock().remember(key.clone(), held);
    }

    /// Nothing is known of `key` any more (a request's answer was lost).
    pub(crate) fn forget(&self, key: &Key) {
        let mut generations = self.lock();
        generations.young.remove(key);
        generations.old.remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        self.generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Generations {
    fn remember(&mut self, key: Key, held: Held) {
        if self.young.len() >= KEYS_PER_GENERATION && !self.young.contains_key(&key) {
            self.old = std::mem::take(&mut self.young);
        }
        self.old.remove(&key);
        self.young.insert(key, held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use optimist_core::Version;

    #[test]
    fn remembers_the_last_state_and_forgets_on_request() {
        let seen = LastSeen::default();
        let key = Key::new("k");
        assert_eq!(seen.get(&key), None);
        seen.saw(&key, Held::Item(Version::FIRST));
        seen.saw(&key, Held::Tombstone(Version::new(2)));
        assert_eq!(seen.get(&key), Some(Held::Tombstone(Version::new(2))));
        seen.forget(&key);
        assert_eq!(seen.get(&key), None);
    }

    #[test]
    fn holds_at_most_two_generations_and_keeps_recent_keys() {
        let seen = LastSeen::default();
        let first = Key::new("first");
        seen.saw(&first, Held::Nothing);
        for i in 0..KEYS_PER_GENERATION {
            seen.saw(&Key::new(format!("k{i}")), Held::Item(Version::FIRST));
            // Used all along: moved back to the young generation each time it ages.
            assert_eq!(seen.get(&first), Some(Held::Nothing));
        }
        for i in 0..3 * KEYS_PER_GENERATION {
            seen.saw(&Key::new(format!("m{i}")), Held::Nothing);
        }
        let generations = seen.lock();
        assert!(generations.young.len() + generations.old.len() <= 2 * KEYS_PER_GENERATION);
        drop(generations);
        assert_eq!(seen.get(&Key::new("k0")), None, "an old key is dropped");
    }
}

//! `put` (a put under [`Expect::Any`](optimist_core::Expect::Any)): store the document
//! at the item's version + 1, whatever the item is.
//!
//! `PutItem` replaces the whole item but cannot compute `version + 1`; `UpdateItem`
//! can, but cannot remove attributes it does not know of. So a put guesses the item's
//! state: first that the key is new (`PutItem` on `attribute_not_exists`); on an
//! existing item the refusal returns it, and the next `PutItem` is conditioned on that
//! item's version. Every round is conditional, so a racing writer makes the put go
//! round again, never lose an update; after [`WRITE_ROUNDS`] rounds it gives up with
//! `Contention`, nothing written. A refused round applied nothing, so a round whose
//! answer is lost ends the put as `Indeterminate` with no earlier round applied.
//! Transactions with Put ops do the same (see [`crate::transaction`]).

use optimist_core::{Decision, ErrorKind, Outcome, StorageError, Value, Versioned, Write};

use crate::DynamoDbStore;
use crate::error::DynamoDbError;

/// How many conditional writes a put (or a transaction holding one) makes before it
/// reports contention.
pub(crate) const WRITE_ROUNDS: usize = 8;

/// The rounds of one put of `value`: `Applied` with the version it overwrote, or
/// `Refused` with the item when that item's version is `u64::MAX`.
pub(crate) async fn put(
    store: &DynamoDbStore,
    write: &Write<'_>,
    value: &Value,
) -> Result<Outcome, StorageError> {
    // The guess: the item as the last refusal showed it; first, absent.
    let mut current: Option<Versioned<Value>> = None;
    for _ in 0..WRITE_ROUNDS {
        let guess = current.as_ref().map(|item| item.version);
        let Decision::Put(version) = write.decide(guess) else {
            // The item is at u64::MAX: no put can follow it.
            return Ok(Outcome::Refused { current });
        };
        match store.put_item(write.key, value, guess, version).await? {
            Outcome::Refused { current: now } => current = now,
            applied @ Outcome::Applied { .. } => return Ok(applied),
        }
    }
    Err(contention())
}

/// Other writers won every round: nothing was written. Transient, so the engine sends
/// the whole write again within the store's retry policy.
pub(crate) fn contention() -> StorageError {
    StorageError::not_applied(
        ErrorKind::Contention,
        DynamoDbError::Contention(format!(
            "other writers changed the item {WRITE_ROUNDS} times during the write; nothing was written"
        )),
    )
}

//! `put` (a put under [`Expect::Any`](optimist_core::Expect::Any)): store the document
//! at the key's version + 1 (an item's or a tombstone's), whatever the key holds.
//!
//! `PutItem` replaces the whole item but cannot compute `version + 1`; `UpdateItem`
//! can, but cannot remove attributes it does not know of. So a put guesses the key's
//! state: first what this store last saw the key hold (see [`crate::last_seen`]: any
//! read or write of the key by this store), or that the key is new (`PutItem` on
//! `attribute_not_exists`) when it has not seen it; a wrong guess is refused with the
//! record there, and the next `PutItem` is conditioned on exactly that record. So a
//! put is one request on a new key and on a key this store used last, two on a key
//! it has not seen or that another client wrote since. Every round is conditional, so a racing writer
//! makes the put go round again, never lose an update; after [`WRITE_ROUNDS`] rounds it
//! gives up with `Contention`, nothing written. A refused round applied nothing; a
//! round whose answer is lost goes to core's engine, which reads the key: our token
//! there means the put applied, anything else ends it as `Indeterminate` (a put is
//! never sent again after a lost answer). Transactions with Put ops do the same (see
//! [`crate::transaction`]).

use optimist_core::{Decision, ErrorKind, Held, Outcome, Record, StorageError, Value, Write};

use crate::DynamoDbStore;
use crate::error::DynamoDbError;
use crate::item::full_item;

/// How many conditional writes a put (or a transaction holding one) makes before it
/// reports contention.
pub(crate) const WRITE_ROUNDS: usize = 8;

/// The rounds of one put of `value`: `Applied` with what the key held before, or
/// `Refused` with the record when its version is `u64::MAX`.
pub(crate) async fn put(
    store: &DynamoDbStore,
    write: &Write<'_>,
    value: &Value,
) -> Result<Outcome, StorageError> {
    // The guess: first the state this store last saw (unless no put can follow it, as
    // a refusal then needs the record), else nothing; then the record as the last
    // refusal showed it.
    let mut guess = store
        .last_seen(write.key)
        .filter(|seen| matches!(write.decide(*seen), Decision::Put(_)))
        .unwrap_or(Held::Nothing);
    let mut current: Option<Record> = None;
    for _ in 0..WRITE_ROUNDS {
        let Decision::Put(version) = write.decide(guess) else {
            // The counter is at u64::MAX: no put can follow it.
            return Ok(Outcome::Refused { current });
        };
        let item = full_item(
            store.table_description(),
            write.key,
            value,
            version,
            write.token,
        );
        store.check_item_size(write.key, &item)?;
        match store.put_item(write.key, item, guess).await? {
            Outcome::Refused { current: now } => {
                guess = Held::of(now.as_ref());
                current = now;
            }
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

//! Settling a write whose answer was lost (contract R14): the engine reads the key and
//! finds out from the stored write token whether its own write is there.
//!
//! - our token on the record: the write was applied;
//! - the key still in the state the precondition asks for: not applied (yet). A
//!   conditional write can then be sent again with the same token: the first attempt
//!   and the resend ask for the same state, so at most one of them can apply, and once
//!   either has, the other is refused (and its refusal shows our token);
//! - the key holding what one other write on exactly the asked-for state leaves: that
//!   writer took the state, ours never applied and never will: a conflict;
//! - anything else (the key moved on further without our token, an unconditional
//!   write whose effect is not visible, the read failing): the outcome stays unknown,
//!   and the caller gets `Indeterminate`.

use crate::retry::retry_transient;
use crate::{Change, Expect, Held, Key, Record, Storage, StorageError, Version, Write};

/// What a read after a lost answer says about a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Settled {
    /// The write was applied; what its key held before.
    Applied(Held),
    /// The write has not been applied and may be sent again.
    NotApplied,
    /// Another writer took the state the write asked for: it was not applied and never
    /// will be; the record read is its conflict.
    Taken,
    /// Nobody can tell.
    Unknown,
}

/// Judges `write` against the record read after its answer was lost, on a store in
/// tombstone mode or not.
pub(super) fn judge(write: &Write<'_>, record: Option<&Record>, tombstones: bool) -> Settled {
    if write.change == Change::Keep {
        // A check changes nothing: sending it again is always safe.
        return Settled::NotApplied;
    }
    match record {
        Some(record) if record.written_by(write.token) => {
            Settled::Applied(previous_of(write, record))
        }
        // Without tombstones, an empty key (or another client's version 1) may follow
        // our own insert, deleted since by another client: resending would apply it
        // twice, calling it a conflict would hide that it applied.
        _ if write.expect == Expect::Absent && !tombstones => Settled::Unknown,
        current if taken_by_another(write, current, tombstones) => Settled::Taken,
        // An unconditional write still travelling could land after a resend: it is
        // never sent again.
        _ if write.expect == Expect::Any => Settled::Unknown,
        current if write.expect.admits(Held::of(current)) => Settled::NotApplied,
        _ => Settled::Unknown,
    }
}

/// Whether a refusal's record shows that an earlier attempt of this write applied.
pub(super) fn applied_before(write: &Write<'_>, current: Option<&Record>) -> Option<Held> {
    match current {
        Some(record) if write.change != Change::Keep && record.written_by(write.token) => {
            Some(previous_of(write, record))
        }
        _ => None,
    }
}

/// Whether a refusal's record (not carrying the write's token) proves that another
/// writer took the state the write asked for, so that the write never applied and
/// never will: the record is what one write on exactly that state leaves. Any other
/// refusal of a write whose earlier attempt lost its answer cannot tell "refused" from
/// "applied, then overwritten".
pub(super) fn taken_by_another(
    write: &Write<'_>,
    current: Option<&Record>,
    tombstones: bool,
) -> bool {
    if write.change == Change::Keep {
        // A check leaves no trace: it may have passed before the item changed.
        return false;
    }
    let deletes = write.change == Change::Delete;
    match (write.expect, Held::of(current)) {
        // Another client's update of v. (For a delete, v + 1 is also what our own
        // tombstone at v becomes when another client inserts again: unknown.)
        (Expect::At(expected), Held::Item(version)) => !deletes && expected.next() == Some(version),
        // Another client's delete of v.
        (Expect::At(expected), Held::Tombstone(version)) => version == expected,
        // Without tombstones, version 1 may follow our own insert, deleted since.
        (Expect::Absent, Held::Item(version)) => tombstones && version == Version::FIRST,
        (Expect::Tombstone(buried), Held::Item(version)) => buried.next() == Some(version),
        _ => false,
    }
}

/// The error of a write whose earlier attempt lost its answer and whose outcome the
/// engine could not settle.
pub(super) fn unsettled() -> StorageError {
    StorageError::maybe_applied(
        crate::ErrorKind::Timeout,
        "an earlier attempt's answer was lost, and the item changed before the engine \
         could tell whether that attempt applied",
    )
}

/// What the key held before `write` left `record` (which carries its token).
fn previous_of(write: &Write<'_>, record: &Record) -> Held {
    match write.expect {
        Expect::Absent => Held::Nothing,
        Expect::At(version) => Held::Item(version),
        Expect::Tombstone(version) => Held::Tombstone(version),
        // A tombstone keeps the deleted item's version.
        _ if write.change == Change::Delete => Held::Item(record.version),
        // A put left `previous + 1`: only the new version matters to the caller.
        _ => match record.version.get() {
            1 => Held::Nothing,
            n => Held::Item(Version::new(n - 1)),
        },
    }
}

/// Reads `key` after a lost answer, resending the read after transient failures.
pub(super) async fn read<S: Storage + ?Sized>(
    store: &S,
    key: &Key,
) -> Result<Option<Record>, StorageError> {
    retry_transient(store.retry_policy(), || async {
        store.read(key).await.map_err(not_applied)
    })
    .await
    .result
}

/// Settles a transaction (its writes share one token): applied if every write that
/// changes something shows the token (the commit is atomic, so one would do; all
/// are asked so that a record overwritten since cannot mislead), not applied if none
/// can have been, unknown otherwise. For an applied one, each write's previous state.
pub(super) async fn commit<S: Storage + ?Sized>(
    store: &S,
    writes: &[Write<'_>],
) -> Result<Vec<Held>, Settled> {
    let mut previous = Vec::with_capacity(writes.len());
    let (mut applied, mut not_applied) = (0, 0);
    for write in writes {
        let verdict = match write.change {
            Change::Keep => None,
            _ => Some(match read(store, write.key).await {
                Ok(record) => judge(write, record.as_ref(), store.capabilities().tombstones),
                Err(_) => Settled::Unknown,
            }),
        };
        match verdict {
            None => previous.push(expected_state(write.expect)),
            Some(Settled::Applied(held)) => {
                applied += 1;
                previous.push(held);
            }
            Some(Settled::NotApplied) => not_applied += 1,
            // The transaction can never apply: sending it again is safe, and its
            // refusal names every failing write.
            Some(Settled::Taken) => return Err(Settled::NotApplied),
            Some(Settled::Unknown) => return Err(Settled::Unknown),
        }
    }
    match (applied, not_applied) {
        (_, 0) if applied > 0 => Ok(previous),
        (0, _) => Err(Settled::NotApplied),
        _ => Err(Settled::Unknown),
    }
}

/// The state a precondition names (a check's previous state, once it held).
pub(super) fn expected_state(expect: Expect) -> Held {
    match expect {
        Expect::At(version) => Held::Item(version),
        Expect::Tombstone(version) => Held::Tombstone(version),
        Expect::Absent | Expect::Any => Held::Nothing,
    }
}

/// A read applies nothing, whatever happened to its answer.
pub(super) fn not_applied(err: StorageError) -> StorageError {
    let (kind, _, source) = err.into_parts();
    StorageError::not_applied(kind, source)
}

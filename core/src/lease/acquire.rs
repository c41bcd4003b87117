//! Acquiring a lease: on a free or released record at once, on a held one only after
//! seeing the record unchanged for a full lease duration, on this process's monotonic
//! clock (no clock is compared across machines).

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::error::held;
use super::handle::{Holding, Judgement};
use super::record::LeaseRecord;
use super::{FencingToken, Lease, LeaseOptions};
use crate::{
    Conflict, Error, ErrorKind, Key, Operation, Result, Version, Versioned, VersionedStore,
};

const OPERATION: Operation = Operation::AcquireLease;

/// Whether, and until when, an acquisition waits for a held lease.
#[derive(Clone, Copy)]
enum Wait {
    /// Not at all.
    No,
    /// Until the deadline; `None`: a timeout too long to count.
    Until(Option<Instant>),
}

/// A version of the record and when this waiter first saw it.
#[derive(Clone, Copy)]
struct Seen {
    version: Version,
    since: Instant,
}

impl<S: VersionedStore> Lease<S> {
    /// Acquires the lease on `key`, waiting up to `timeout` for a holder to release it
    /// or to let it expire.
    ///
    /// A free key (no record) or a released record is taken at once. A held record is
    /// taken over only after this waiter has seen it unchanged, at the same version,
    /// for the holder's full lease duration as measured by its own monotonic clock:
    /// each renewal restarts the wait. The waiter reads the record every
    /// [`poll_interval`](LeaseOptions::poll_interval). Taking over is an update
    /// expecting the version it watched, so a renewal that lands first wins.
    ///
    /// An owner name is not an identity: a restarted process waits like any other, or
    /// takes its lease back with [`resume`](Self::resume) and the token it kept.
    ///
    /// Errors, nothing written: bad [`LeaseOptions`] or a key holding an item that is
    /// not a lease record are `InvalidInput`; a lease still held when the timeout runs
    /// out is [`Error::Lease`] with [`LeaseConflict::Held`](super::LeaseConflict::Held)
    /// naming the holder and its token.
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use optimist_core::{Key, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let lease_ms = Duration::from_millis(50);
    /// let crashed = Lease::try_acquire(store.clone(), Key::new("l"), &LeaseOptions::new("a", lease_ms)).await?;
    /// drop(crashed); // never released: it expires after 50 ms unchanged
    /// let next = Lease::acquire(store, Key::new("l"), &LeaseOptions::new("b", lease_ms), Duration::from_secs(5)).await?;
    /// assert_eq!(next.token().get(), 2);
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn acquire(
        store: S,
        key: Key,
        options: &LeaseOptions,
        timeout: Duration,
    ) -> Result<Self> {
        let deadline = Instant::now().checked_add(timeout);
        acquire(store, key, options, Wait::Until(deadline)).await
    }

    /// Acquires the lease on `key` if it is free (no record) or released, without
    /// waiting: a held lease is [`Error::Lease`] with
    /// [`LeaseConflict::Held`](super::LeaseConflict::Held) naming the holder, even if
    /// the holder has crashed (only a waiter can tell, by watching the record for a
    /// lease duration: use [`acquire`](Self::acquire)). Other errors as for `acquire`.
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use optimist_core::{Key, lease::{Lease, LeaseConflict, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let minute = Duration::from_secs(60);
    /// let held = Lease::try_acquire(store.clone(), Key::new("l"), &LeaseOptions::new("a", minute)).await?;
    /// let err = Lease::try_acquire(store, Key::new("l"), &LeaseOptions::new("b", minute)).await.unwrap_err();
    /// let holder = err.lease_conflict().and_then(LeaseConflict::holder).cloned();
    /// assert_eq!(holder.map(|h| (h.owner, h.token)), Some(("a".to_string(), 1)));
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn try_acquire(store: S, key: Key, options: &LeaseOptions) -> Result<Self> {
        acquire(store, key, options, Wait::No).await
    }

    /// A handle again for the acquisition `token` names, held by `options`' owner (a
    /// process that kept its token across a restart, or a task given the token): one
    /// read to check the record is still that acquisition's, then one renewal, so the
    /// handle starts with a full duration. The lease is on `key`: a token of another
    /// lease is `InvalidInput`, and nothing is sent. A lease no longer the token's is
    /// [`Error::Lease`] with [`LeaseConflict::Lost`](super::LeaseConflict::Lost).
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use optimist_core::{Key, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let options = LeaseOptions::new("w", Duration::from_secs(60));
    /// let token = Lease::try_acquire(store.clone(), Key::new("l"), &options).await?.token();
    /// let again = Lease::resume(store.clone(), Key::new("l"), &token, &options).await?;
    /// assert_eq!(again.token(), token);
    /// let other = Lease::resume(store, Key::new("other"), &token, &options).await;
    /// assert!(other.unwrap_err().is_invalid_input());
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn resume(
        store: S,
        key: Key,
        token: &FencingToken,
        options: &LeaseOptions,
    ) -> Result<Self> {
        options.validate(OPERATION, &key)?;
        if token.lease() != &key {
            return Err(Error::invalid(
                OPERATION,
                Some(&key),
                format!("the fencing token is of another lease ({token})"),
            ));
        }
        let holding = Holding::new(
            key,
            options.owner().to_owned(),
            options.duration(),
            token.version(),
            Instant::now(),
        );
        let item = store.get(&holding.key).await?;
        match holding.judge(item.as_ref()) {
            Judgement::Ours => {}
            Judgement::Lost(holder) => return Err(holding.lost(OPERATION, holder)),
        }
        holding.rewrite(&store, OPERATION, false).await?;
        Ok(Lease { store, holding })
    }
}

async fn acquire<S: VersionedStore>(
    store: S,
    key: Key,
    options: &LeaseOptions,
    wait: Wait,
) -> Result<Lease<S>> {
    options.validate(OPERATION, &key)?;
    let owner = options.owner();
    let duration = options.duration();
    let won = |store: S, token: Version, sent: Instant| Lease {
        store,
        holding: Holding::new(key.clone(), owner.to_owned(), duration, token, sent),
    };
    // The record as last read; `None`: believed absent. Starting from `None` makes a
    // free key one round trip: the insert either creates the record or answers with it.
    let mut item: Option<Versioned<Value>> = None;
    let mut seen: Option<Seen> = None;
    loop {
        let Some(current) = item.take() else {
            let record = LeaseRecord::acquired(owner, Version::FIRST, duration);
            let sent = Instant::now();
            match store.insert(&key, record.to_value()).await {
                Ok(token) if token == Version::FIRST => return Ok(won(store, token, sent)),
                Ok(token) => {
                    // A tombstone kept the deleted record's version counting (contract
                    // R15): the record names token 1, so write the real one.
                    let lease = won(store, token, sent);
                    lease
                        .holding
                        .rewrite(&lease.store, OPERATION, false)
                        .await?;
                    return Ok(lease);
                }
                Err(Error::Conflict {
                    conflict: Conflict::AlreadyExists { current },
                    ..
                }) => item = Some(current),
                Err(err) => return Err(err),
            }
            continue;
        };
        let record = LeaseRecord::from_value(&current.value).ok_or_else(|| {
            Error::invalid(
                OPERATION,
                Some(&key),
                "the key holds an item that is not a lease record",
            )
        })?;
        let now = Instant::now();
        let since = match seen {
            Some(s) if s.version == current.version => s.since,
            _ => now,
        };
        seen = Some(Seen {
            version: current.version,
            since,
        });
        let expires = since.checked_add(record.duration);
        let expired = expires.is_some_and(|at| now >= at);
        if record.released || expired {
            let token = current.version.next().ok_or_else(|| {
                Error::backend(
                    "lease",
                    OPERATION,
                    Some(&key),
                    ErrorKind::VersionExhausted,
                    "the lease record's version is at its maximum",
                )
            })?;
            let record = LeaseRecord::acquired(owner, token, duration);
            let sent = Instant::now();
            match store.update(&key, current.version, record.to_value()).await {
                Ok(token) => return Ok(won(store, token, sent)),
                Err(Error::Conflict { conflict, .. }) => item = conflict.into_current(),
                Err(err) => return Err(err),
            }
            if item.is_none() {
                // Removed meanwhile: the next insert will say.
                seen = None;
            }
            continue;
        }
        let holder = record.holder();
        let give_up = |holder| match holder {
            Some(holder) => held(OPERATION, &key, holder),
            // Unreachable: a record that is not released has a holder.
            None => Error::invalid(OPERATION, Some(&key), "the lease record has no holder"),
        };
        let deadline = match wait {
            Wait::No => return Err(give_up(holder)),
            Wait::Until(deadline) => deadline,
        };
        if deadline.is_some_and(|d| now >= d) {
            return Err(give_up(holder));
        }
        // Sleep until the next poll, the expiry or the deadline, whichever comes first.
        // At the expiry the takeover's update is itself the last look: it expects the
        // version watched, so it lands only if the record is still unchanged.
        let to_expiry = expires.map(|at| at.saturating_duration_since(now));
        let mut nap = options.poll_interval();
        let mut at_expiry = false;
        if let Some(to_expiry) = to_expiry.filter(|t| *t <= nap) {
            nap = to_expiry;
            at_expiry = true;
        }
        if let Some(deadline) = deadline {
            let to_deadline = deadline.saturating_duration_since(now);
            if to_deadline < nap {
                nap = to_deadline;
                at_expiry = false;
            }
        }
        tokio::time::sleep(nap).await;
        item = if at_expiry {
            Some(current)
        } else {
            store.get(&key).await?
        };
        if item.is_none() {
            seen = None;
        }
    }
}

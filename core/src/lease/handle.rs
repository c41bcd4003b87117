//! The lease handle: what its holder knows (key, owner, token, the record's current
//! version), renewal and release.

use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::error::lost;
use super::record::LeaseRecord;
use super::{FencingToken, Guarded, LeaseHolder};
use crate::{Error, ErrorKind, Key, Operation, Result, Version, Versioned, VersionedStore};

/// How many times in a row an operation re-sends after finding the record moved on by
/// the holder itself (a renewal from another task of the same handle). Each time the
/// record was renewed, so running out means renewals were sent in a tight loop.
pub(crate) const OWN_RACES: usize = 16;

/// A held lease (contract R19): made by [`Lease::acquire`], [`Lease::try_acquire`] or
/// [`Lease::resume`] on the store `S` it holds the lease on (an `Arc` of a store, an
/// `Arc<dyn VersionedStore>`).
///
/// Its [`token`](Self::token) is the record's version at acquisition. It
/// [`renew`](Self::renew)s within its duration, writes through
/// [`guard`](Self::guard) (each write checks, in the same atomic step, that the record
/// is still at the version this handle last wrote), and [`release`](Self::release)s
/// when done. Every method takes `&self`: share it in an `Arc` to renew from one task
/// while another writes. A handle dropped without a release leaves the lease held
/// until a waiter has seen its record unchanged for the lease duration.
///
/// See the [module](super) documentation for an example.
pub struct Lease<S> {
    pub(crate) store: S,
    pub(crate) holding: Holding,
}

/// What a handle knows of its lease, shared by its guarded writes.
pub(crate) struct Holding {
    pub(crate) key: Key,
    pub(crate) owner: String,
    pub(crate) duration: Duration,
    pub(crate) token: Version,
    state: Mutex<State>,
}

/// What changes while the lease is held.
#[derive(Clone, Copy, Debug)]
pub(crate) struct State {
    /// The record's version as this handle last wrote or saw it.
    pub(crate) current: Version,
    /// The record's renewal count at that version.
    pub(crate) renewals: u64,
    /// When a waiter may first take the lease over: the last acquisition or renewal's
    /// sending time plus the duration.
    pub(crate) valid_until: Instant,
    /// Whether this handle released the lease.
    pub(crate) released: bool,
}

/// Whose a record is, seen by a holder whose write was refused.
pub(crate) enum Judgement {
    /// Still this acquisition's: the holder's own renewal moved it on.
    Ours,
    /// Another owner's, released, removed or not a lease record.
    Lost(Option<LeaseHolder>),
}

impl Holding {
    pub(crate) fn new(
        key: Key,
        owner: String,
        duration: Duration,
        token: Version,
        sent: Instant,
    ) -> Self {
        Self {
            key,
            owner,
            duration,
            token,
            state: Mutex::new(State {
                current: token,
                renewals: 0,
                valid_until: sent + duration,
                released: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is plain data, consistent after every assignment: a panic elsewhere
        // while it was locked leaves nothing half written.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn state(&self) -> State {
        *self.lock()
    }

    /// The state, if this handle has not released the lease.
    pub(crate) fn held(&self, operation: Operation) -> Result<State> {
        let state = self.state();
        if state.released {
            return Err(Error::invalid(
                operation,
                Some(&self.key),
                format!(
                    "the lease with token {} was released by this handle",
                    self.token.get()
                ),
            ));
        }
        Ok(state)
    }

    /// Decides whose the record `item` is after a write of this holder's was refused;
    /// if still ours, remembers its version so the next write expects it.
    pub(crate) fn judge(&self, item: Option<&Versioned<Value>>) -> Judgement {
        let Some(item) = item else {
            return Judgement::Lost(None);
        };
        let Some(record) = LeaseRecord::from_value(&item.value) else {
            return Judgement::Lost(None);
        };
        if record.released || record.token != self.token.get() || record.owner != self.owner {
            return Judgement::Lost(record.holder());
        }
        let mut state = self.lock();
        if item.version > state.current {
            state.current = item.version;
            state.renewals = state.renewals.max(record.renewals);
        }
        Judgement::Ours
    }

    /// The error for a lost lease; `InvalidInput` if it was this handle that released it.
    pub(crate) fn lost(&self, operation: Operation, holder: Option<LeaseHolder>) -> Error {
        match self.held(operation) {
            Err(released) => released,
            Ok(_) => lost(operation, &self.key, self.token.get(), holder),
        }
    }

    /// The error when the holder's own renewals kept moving the record on.
    pub(crate) fn own_races(&self, operation: Operation) -> Error {
        Error::backend(
            "lease",
            operation,
            Some(&self.key),
            ErrorKind::Contention,
            format!(
                "the record kept moving on by this holder's own renewals ({OWN_RACES} times in a row)"
            ),
        )
    }

    /// Renews (`release == false`) or releases the lease: one update of the record,
    /// expecting the version this handle last saw.
    pub(crate) async fn rewrite<S: VersionedStore + ?Sized>(
        &self,
        store: &S,
        operation: Operation,
        release: bool,
    ) -> Result<()> {
        for _ in 0..OWN_RACES {
            let state = self.held(operation)?;
            let renewals = if release {
                state.renewals
            } else {
                state.renewals.saturating_add(1)
            };
            let record = LeaseRecord {
                owner: self.owner.clone(),
                token: self.token.get(),
                duration: self.duration,
                released: release,
                renewals,
            };
            let sent = Instant::now();
            match store
                .update(&self.key, state.current, record.to_value())
                .await
            {
                Ok(version) => {
                    let mut state = self.lock();
                    if version > state.current {
                        state.current = version;
                        state.renewals = renewals;
                    }
                    state.valid_until = state.valid_until.max(sent + self.duration);
                    state.released |= release;
                    return Ok(());
                }
                Err(Error::Conflict { conflict, .. }) => match self.judge(conflict.current()) {
                    Judgement::Ours => continue,
                    Judgement::Lost(holder) => return Err(self.lost(operation, holder)),
                },
                Err(other) => return Err(other),
            }
        }
        Err(self.own_races(operation))
    }
}

impl<S> Lease<S> {
    /// The lease record's key.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use optimist_core::{Key, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let options = LeaseOptions::new("w", Duration::from_secs(5));
    /// let lease = Lease::try_acquire(store, Key::new("shard-1"), &options).await?;
    /// assert_eq!(lease.key(), &Key::new("shard-1"));
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn key(&self) -> &Key {
        &self.holding.key
    }

    /// The owner name the lease was acquired with.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use optimist_core::{Key, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let options = LeaseOptions::new("worker-1", Duration::from_secs(5));
    /// let lease = Lease::try_acquire(store, Key::new("l"), &options).await?;
    /// assert_eq!(lease.owner(), "worker-1");
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn owner(&self) -> &str {
        &self.holding.owner
    }

    /// The lease duration it was acquired with.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use optimist_core::{Key, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let options = LeaseOptions::new("w", Duration::from_secs(5));
    /// let lease = Lease::try_acquire(store, Key::new("l"), &options).await?;
    /// assert_eq!(lease.duration(), Duration::from_secs(5));
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn duration(&self) -> Duration {
        self.holding.duration
    }

    /// The fencing token: the record's version at acquisition, greater than every
    /// earlier holder's.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use optimist_core::{Key, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let options = LeaseOptions::new("w", Duration::from_secs(5));
    /// let lease = Lease::try_acquire(store, Key::new("l"), &options).await?;
    /// assert_eq!(lease.token().get(), 1); // the first holder of a new record
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn token(&self) -> FencingToken {
        FencingToken::new(self.holding.key.clone(), self.holding.token)
    }

    /// The record's version as this handle last wrote or saw it: the token, then one
    /// more per renewal.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use optimist_core::{Key, Version, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let store = Arc::new(optimist_memory::MemoryStore::new());
    /// # let options = LeaseOptions::new("w", Duration::from_secs(5));
    /// let lease = Lease::try_acquire(store, Key::new("l"), &options).await?;
    /// lease.renew().await?;
    /// assert_eq!(lease.record_version(), Version::new(2));
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn record_version(&self) -> Version {
        self.holding.state().current
    }

    /// Until when no waiter can have taken the lease over: the sending time of the last
    /// acquisition or renewal plus the duration, on this process's monotonic clock. A
    /// waiter starts counting only after it saw that write, so this holds as long as
    /// the two clocks run at the same rate; they need not agree on the time. Past it,
    /// stop work that needs the lease, or renew; guarded writes stay safe either way,
    /// since the store refuses them once another owner holds the lease.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use optimist_core::{Key, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let store = Arc::new(optimist_memory::MemoryStore::new());
    /// # let options = LeaseOptions::new("w", Duration::from_secs(5));
    /// let lease = Lease::try_acquire(store, Key::new("l"), &options).await?;
    /// assert!(lease.valid_until() > tokio::time::Instant::now());
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn valid_until(&self) -> Instant {
        self.holding.state().valid_until
    }

    /// Whether this handle released the lease.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use optimist_core::{Key, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let store = Arc::new(optimist_memory::MemoryStore::new());
    /// # let options = LeaseOptions::new("w", Duration::from_secs(5));
    /// let lease = Lease::try_acquire(store, Key::new("l"), &options).await?;
    /// lease.release().await?;
    /// assert!(lease.is_released());
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn is_released(&self) -> bool {
        self.holding.state().released
    }

    /// The store the lease is held on.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use optimist_core::{Key, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let options = LeaseOptions::new("w", Duration::from_secs(5));
    /// let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let lease = Lease::try_acquire(store.clone(), Key::new("l"), &options).await?;
    /// assert!(Arc::ptr_eq(lease.store(), &store));
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn store(&self) -> &S {
        &self.store
    }
}

impl<S: VersionedStore> Lease<S> {
    /// Renews the lease (a heartbeat): one update of the record, so its version moves
    /// on and waiters restart their wait. Call it well within the duration. The
    /// handle's own guarded writes keep passing: they expect the new version.
    ///
    /// A lease another owner took over, or whose record was released or removed, is
    /// [`Error::Lease`] with [`LeaseConflict::Lost`](super::LeaseConflict::Lost) naming
    /// the current holder; a lease this handle released is `InvalidInput`. Nothing is
    /// written then.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use optimist_core::{Key, Version, VersionedStore, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let options = LeaseOptions::new("w", Duration::from_secs(5));
    /// let lease = Lease::try_acquire(store.clone(), Key::new("l"), &options).await?;
    /// lease.renew().await?;
    /// assert_eq!(store.get(&Key::new("l")).await?.map(|r| r.version), Some(Version::new(2)));
    /// assert_eq!(lease.token().get(), 1); // renewals keep the token
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn renew(&self) -> Result<()> {
        self.holding
            .rewrite(&self.store, Operation::RenewLease, false)
            .await
    }

    /// Releases the lease: one update marking the record released, so a waiter takes
    /// it at once. The record stays, so its version keeps counting and the next
    /// holder's token is greater. Errors as for [`renew`](Self::renew); releasing twice
    /// is `InvalidInput`.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use optimist_core::{Key, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let options = LeaseOptions::new("w", Duration::from_secs(5));
    /// let first = Lease::try_acquire(store.clone(), Key::new("l"), &options).await?;
    /// first.release().await?;
    /// let second = Lease::try_acquire(store, Key::new("l"), &options).await?;
    /// assert_eq!((first.token().get(), second.token().get()), (1, 3));
    /// assert!(first.release().await.unwrap_err().is_invalid_input());
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn release(&self) -> Result<()> {
        self.holding
            .rewrite(&self.store, Operation::ReleaseLease, true)
            .await
    }

    /// Guarded writes on the lease's own store: a [`VersionedStore`] whose every write
    /// is one transaction with a check that the lease is still this handle's.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use optimist_core::{Key, VersionedStore, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let options = LeaseOptions::new("w", Duration::from_secs(5));
    /// let lease = Lease::try_acquire(store, Key::new("l"), &options).await?;
    /// lease.guard().put(&Key::new("data"), serde_json::json!({"by": lease.token().get()})).await?;
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn guard(&self) -> Guarded<'_, S> {
        Guarded::new(&self.store, &self.holding)
    }
}

impl<S> Lease<S> {
    /// Guarded writes on `store`, which must hold the lease record too (the same
    /// database through another handle, as a typed [`Context`](crate::typed::Context)'s
    /// store): the check and the write are one transaction there. On a store without
    /// the record, every guarded write is refused as a lost lease.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use optimist_core::{Key, VersionedStore, lease::{Lease, LeaseOptions}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let options = LeaseOptions::new("w", Duration::from_secs(5));
    /// let lease = Lease::try_acquire(store.clone(), Key::new("l"), &options).await?;
    /// let as_dyn: Arc<dyn VersionedStore> = store;
    /// lease.guard_on(&as_dyn).insert(&Key::new("data"), serde_json::json!(1)).await?;
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn guard_on<'a, T: VersionedStore + ?Sized>(&'a self, store: &'a T) -> Guarded<'a, T> {
        Guarded::new(store, &self.holding)
    }
}

impl<S> fmt::Debug for Lease<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.holding.state();
        f.debug_struct("Lease")
            .field("key", &self.holding.key)
            .field("owner", &self.holding.owner)
            .field("token", &self.holding.token)
            .field("record_version", &state.current)
            .field("released", &state.released)
            .finish()
    }
}

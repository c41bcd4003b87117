//! `update_with`: read, change, save, and on a conflict change the conflict's current
//! item and save again, with bounded attempts and backoff (contract R24).

use std::time::{Duration, Instant};

use crate::retry::RetryPolicy;
use crate::{BoxError, Conflict, Error as StoreError, Key, Operation, Version, VersionedStore};

use super::{Context, Entity, Error, IntoKey, Result};

impl<S: VersionedStore> Context<S> {
    /// Loads the entity at `key`, applies `change` and saves it expecting the version it
    /// read. On a conflict, `change` is applied again to the item the conflict carries,
    /// without another read (contract R24), after a backoff drawn from `policy`
    /// (exponential, full jitter); after `policy.max_attempts()` conflicting writes the
    /// error is [`Error::RetryExhausted`] with the last conflict. Returns the entity as
    /// saved, with its new version.
    ///
    /// The item a conflict carries is as fresh as a read, but it ages while the writer
    /// sleeps: on a hot key a write sent after a backoff usually conflicts again. So a
    /// write that conflicted after a backoff is retried at once with its conflict's
    /// (fresh) item, and the next backoff, twice as long, comes only if that conflicts
    /// too. Every write counts as an attempt. The backoff's unit is the policy's base
    /// delay, or the failed write's round trip if that is longer: writers spread out
    /// only over windows of several round trips, whatever the server's speed.
    ///
    /// `change` may run several times, each time on a fresh copy of the stored item,
    /// and should depend only on it. It can give up with its own error, returned as
    /// [`Error::Aborted`]; nothing is written then. A missing item (at the start, or
    /// deleted meanwhile) is a `NotFound` conflict, returned at once: to create it,
    /// use [`update_or_insert_with`](Self::update_or_insert_with). Busy or throttled
    /// requests are sent again by the store itself, within its own retry policy; once
    /// that is spent the error is marked not retryable and returned here as it is, so
    /// the two budgets never multiply. A store that returns a retryable error without
    /// having retried it gets it retried here, with a fresh read since it carries no
    /// item. Versions are always checked, whatever the context's [`VersionCheck`]
    /// (without the check this would lose updates).
    ///
    /// ```
    /// use optimist_core::retry::RetryPolicy;
    /// use optimist_core::typed::{Context, Entity};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Entity, Serialize, Deserialize, Debug)]
    /// struct Stock {
    ///     #[entity(partition_key)]
    ///     sku: String,
    ///     left: u32,
    ///     #[entity(version)]
    ///     version: Option<u64>,
    /// }
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("sold out")]
    /// struct SoldOut;
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new());
    /// ctx.save(&mut Stock { sku: "pen".into(), left: 1, version: None }).await?;
    ///
    /// let take_one = |s: &mut Stock| match s.left {
    ///     0 => Err(SoldOut),
    ///     _ => { s.left -= 1; Ok(()) }
    /// };
    /// let stock = ctx.update_with("pen", &RetryPolicy::default(), take_one).await?;
    /// assert_eq!((stock.left, stock.version), (0, Some(2)));
    ///
    /// let err = ctx.update_with("pen", &RetryPolicy::default(), take_one).await.unwrap_err();
    /// assert!(err.aborted::<SoldOut>().is_some());
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// [`VersionCheck`]: super::VersionCheck
    pub async fn update_with<T, F, E>(
        &self,
        key: impl IntoKey,
        policy: &RetryPolicy,
        change: F,
    ) -> Result<T>
    where
        T: Entity,
        F: FnMut(&mut T) -> std::result::Result<(), E> + Send,
        E: Into<BoxError>,
    {
        let key = key.into_key();
        if let Some(combiner) = self.combiner() {
            return super::combine::combined_update(self, combiner, key, policy, change).await;
        }
        self.retry_update(key, policy, None::<fn() -> T>, change)
            .await
    }

    /// [`update_with`](Self::update_with), but a missing item is created: `default`
    /// makes the entity (its key must be `key` and its version `None`), `change` is
    /// applied to it and it is inserted. If another writer inserts first, the change
    /// is applied to that writer's item instead, as for any conflict.
    ///
    /// ```
    /// use optimist_core::retry::RetryPolicy;
    /// use optimist_core::typed::{Context, Entity};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Entity, Serialize, Deserialize)]
    /// struct Counter {
    ///     #[entity(partition_key)]
    ///     id: String,
    ///     count: u64,
    ///     #[entity(version)]
    ///     version: Option<u64>,
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new());
    /// let policy = RetryPolicy::default();
    /// let new = || Counter { id: "visits".into(), count: 0, version: None };
    /// let bump = |c: &mut Counter| -> Result<(), std::convert::Infallible> { c.count += 1; Ok(()) };
    /// ctx.update_or_insert_with("visits", &policy, new, bump).await?;
    /// let counter = ctx.update_or_insert_with("visits", &policy, new, bump).await?;
    /// assert_eq!((counter.count, counter.version), (2, Some(2)));
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn update_or_insert_with<T, D, F, E>(
        &self,
        key: impl IntoKey,
        policy: &RetryPolicy,
        default: D,
        change: F,
    ) -> Result<T>
    where
        T: Entity,
        D: FnMut() -> T + Send,
        F: FnMut(&mut T) -> std::result::Result<(), E> + Send,
        E: Into<BoxError>,
    {
        let key = key.into_key();
        self.retry_update(key, policy, Some(default), change).await
    }

    async fn retry_update<T, D, F, E>(
        &self,
        key: Key,
        policy: &RetryPolicy,
        mut default: Option<D>,
        mut change: F,
    ) -> Result<T>
    where
        T: Entity,
        D: FnMut() -> T + Send,
        F: FnMut(&mut T) -> std::result::Result<(), E> + Send,
        E: Into<BoxError>,
    {
        let mut current: Option<T> = self.load(&key).await?;
        let mut attempts: u32 = 0;
        let mut backoff = Backoff::default();
        loop {
            let mut entity = match current.take() {
                Some(entity) => entity,
                None => fresh(&key, default.as_mut())?,
            };
            change(&mut entity).map_err(|source| Error::Aborted {
                key: key.clone(),
                source: source.into(),
            })?;
            if entity.key() != key {
                return Err(StoreError::invalid(
                    Operation::Update,
                    Some(&key),
                    "the change altered the entity's key",
                )
                .into());
            }
            attempts += 1;
            let (operation, expected) = match entity.version() {
                None => (Operation::Insert, None),
                Some(v) => (Operation::Update, Some(Version::new(v))),
            };
            let document = entity.to_document(operation)?;
            let sent = Instant::now();
            let written = match expected {
                Some(expected) => self.store().update(&key, expected, document).await,
                None => self.store().insert(&key, document).await,
            };
            // Writers spread out only over windows of several round trips, so the
            // backoff's unit is the write's own round trip when that is longer than the
            // policy's base (a slow server), never less than the base.
            let round_trip = sent.elapsed();
            let err = match written {
                Ok(version) => {
                    entity.set_version(Some(version.get()));
                    return Ok(entity);
                }
                Err(err) => err,
            };
            let reread = match &err {
                StoreError::Conflict { conflict, .. } => {
                    if let (Conflict::NotFound, None) = (conflict, &default) {
                        return Err(err.into());
                    }
                    // The conflict's item is the state to retry from: no read needed.
                    current = match conflict.current() {
                        Some(item) => Some(T::from_item(&key, item.clone(), Operation::Get)?),
                        None => None,
                    };
                    false
                }
                other if other.is_retryable() => true,
                _ => return Err(err.into()),
            };
            if attempts >= policy.max_attempts() {
                return Err(Error::RetryExhausted {
                    attempts,
                    last: Box::new(err.into()),
                });
            }
            let delay = backoff.next(policy, round_trip, reread);
            tracing::debug!(%key, attempts, ?delay, error = %err, "update_with: retrying");
            // A zero wait retries at once, without a trip through the timer.
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if reread {
                current = self.load(&key).await?;
            }
        }
    }
}

/// The waits of `update_with` (alone or combined) between attempts.
#[derive(Debug, Default)]
pub(super) struct Backoff {
    /// Backoffs so far: the exponent of the next one.
    backoffs: u32,
    /// Whether the write being retried was sent after a backoff.
    after_backoff: bool,
}

impl Backoff {
    /// The wait before the next attempt. A write sent after a backoff carried an item
    /// that aged while it slept, so it conflicts often; its conflict's item is fresh,
    /// though: retry that one at once (`reread` false), and back off again only if the
    /// fresh retry conflicts too. The unit is the policy's base delay, or the failed
    /// write's round trip if that is longer.
    pub(super) fn next(
        &mut self,
        policy: &RetryPolicy,
        round_trip: Duration,
        reread: bool,
    ) -> Duration {
        let delay = if self.after_backoff && !reread {
            Duration::ZERO
        } else {
            self.backoffs += 1;
            policy
                .clone()
                .with_base_delay(policy.base_delay().max(round_trip))
                .delay(self.backoffs)
        };
        self.after_backoff = !delay.is_zero();
        delay
    }
}

/// A new entity for a missing item, or the `NotFound` conflict if creating it was not
/// asked for.
fn fresh<T: Entity, D: FnMut() -> T>(key: &Key, default: Option<&mut D>) -> Result<T> {
    let Some(default) = default else {
        return Err(
            StoreError::conflict(Operation::Update, key.clone(), Conflict::NotFound).into(),
        );
    };
    let entity = default();
    if entity.key() != *key || entity.version().is_some() {
        return Err(StoreError::invalid(
            Operation::Insert,
            Some(key),
            "the default entity must have the updated key and no version",
        )
        .into());
    }
    Ok(entity)
}

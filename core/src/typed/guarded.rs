//! Guarded typed writes: `save`, `delete` and `update_with` under a lease, each write
//! checked against the lease record in the same atomic step (contract R19).

use crate::lease::Lease;
use crate::retry::RetryPolicy;
use crate::{BoxError, VersionedStore};

use super::{Context, Entity, IntoKey, Result};

impl<S: VersionedStore> Context<S> {
    /// [`save`](Self::save) under `lease`: the write and a check that the lease is
    /// still the caller's are one transaction on this context's store (which must hold
    /// the lease record). A lease lost to another owner is
    /// [`Error::Lease`](crate::Error::Lease) inside [`Error::Store`](super::Error::Store),
    /// naming the holder; nothing is written and the entity is unchanged.
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use optimist_core::{Key, VersionedStore};
    /// use optimist_core::lease::{Lease, LeaseOptions};
    /// use optimist_core::typed::{Context, Entity};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Entity, Serialize, Deserialize)]
    /// struct Shard {
    ///     #[entity(partition_key)]
    ///     id: String,
    ///     done: u64,
    ///     #[entity(version)]
    ///     version: Option<u64>,
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let ctx = Context::new(store.clone());
    /// let options = LeaseOptions::new("w", Duration::from_secs(30));
    /// let lease = Lease::try_acquire(store, Key::new("lease#s1"), &options).await?;
    /// let mut shard = Shard { id: "s1".into(), done: 0, version: None };
    /// ctx.save_guarded(&mut shard, &lease).await?;
    /// assert_eq!(shard.version, Some(1));
    /// lease.release().await?;
    /// shard.done = 5;
    /// assert!(ctx.save_guarded(&mut shard, &lease).await.is_err());
    /// assert_eq!(shard.version, Some(1));
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn save_guarded<T: Entity, L>(&self, entity: &mut T, lease: &Lease<L>) -> Result<()> {
        self.guarded(lease).save(entity).await
    }

    /// [`delete`](Self::delete) under `lease`, as [`save_guarded`](Self::save_guarded).
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use optimist_core::Key;
    /// use optimist_core::lease::{Lease, LeaseOptions};
    /// use optimist_core::typed::{Context, Entity};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Entity, Serialize, Deserialize)]
    /// # struct Shard { #[entity(partition_key)] id: String, #[entity(version)] version: Option<u64> }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let ctx = Context::new(store.clone());
    /// let lease = Lease::try_acquire(store, Key::new("lease#s1"), &LeaseOptions::new("w", Duration::from_secs(30))).await?;
    /// let mut shard = Shard { id: "s1".into(), version: None };
    /// ctx.save_guarded(&mut shard, &lease).await?;
    /// ctx.delete_guarded(&shard, &lease).await?;
    /// assert!(ctx.load::<Shard>("s1").await?.is_none());
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn delete_guarded<T: Entity, L>(&self, entity: &T, lease: &Lease<L>) -> Result<()> {
        self.guarded(lease).delete(entity).await
    }

    /// [`update_with`](Self::update_with) under `lease`: every write it tries is
    /// guarded, and a lost lease ends it at once (it is not a conflict to retry).
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use optimist_core::Key;
    /// use optimist_core::lease::{Lease, LeaseOptions};
    /// use optimist_core::retry::RetryPolicy;
    /// use optimist_core::typed::{Context, Entity};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Entity, Serialize, Deserialize)]
    /// # struct Shard { #[entity(partition_key)] id: String, done: u64, #[entity(version)] version: Option<u64> }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = Arc::new(optimist_memory::MemoryStore::new());
    /// let ctx = Context::new(store.clone());
    /// let lease = Lease::try_acquire(store, Key::new("lease#s1"), &LeaseOptions::new("w", Duration::from_secs(30))).await?;
    /// ctx.save_guarded(&mut Shard { id: "s1".into(), done: 0, version: None }, &lease).await?;
    /// let bump = |s: &mut Shard| -> Result<(), std::convert::Infallible> { s.done += 1; Ok(()) };
    /// let shard: Shard = ctx.update_with_guarded("s1", &lease, &RetryPolicy::default(), bump).await?;
    /// assert_eq!((shard.done, shard.version), (1, Some(2)));
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn update_with_guarded<T, F, E, L>(
        &self,
        key: impl IntoKey,
        lease: &Lease<L>,
        policy: &RetryPolicy,
        change: F,
    ) -> Result<T>
    where
        T: Entity,
        F: FnMut(&mut T) -> std::result::Result<(), E> + Send,
        E: Into<BoxError>,
    {
        self.guarded(lease).update_with(key, policy, change).await
    }

    /// A context over this store's guarded view, with the same version check.
    fn guarded<'a, L>(&'a self, lease: &'a Lease<L>) -> Context<crate::lease::Guarded<'a, S>> {
        Context::new(lease.guard_on(self.store())).with_version_check(self.version_check())
    }
}

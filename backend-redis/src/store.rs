//! The store, and its [`Storage`] reads and writes: each one script, one round trip.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{BACKEND, Failed, from_redis};
use crate::item::WriteArgs;
use crate::layout::{Keys, Layout};
use crate::pool::Pool;
use crate::reply;
use crate::scripts::{Call, Script, scripts};
use crate::{Prefix, RedisConnection, RedisStoreBuilder};
use async_trait::async_trait;
use optimist_core::retry::RetryPolicy;
use optimist_core::{
    Applied, Capabilities, CommitOutcome, ErrorKind, Key, Outcome, OwnedPut, PutAnswer, RangePage,
    RangeRequest, Record, Storage, StorageError, Write,
};

/// A [`VersionedStore`](optimist_core::VersionedStore) on Redis: every item of the
/// store lives under its key prefix, and every operation, a transaction included, is
/// one Lua script run in one round trip. Clones share the connections.
///
/// It implements core's [`Storage`]: `read.lua` reads a record, `write.lua` applies one
/// conditional write, `commit.lua` a transaction, each storing the write's token with
/// what it leaves; `purge.lua` removes old tombstones. Core's engine makes it a
/// `VersionedStore` (input checks, versions, conflicts, retries of transient
/// failures, settling lost answers by the token).
///
/// In tombstone mode ([`RedisStoreBuilder::tombstones`]) a delete leaves a tombstone
/// that keeps the version counting; `purge_tombstones` sweeps the store's keys for old
/// ones.
///
/// Built with [`RedisStore::builder`]; see the crate docs for the data layout.
///
/// ```no_run
/// use optimist_core::{Key, VersionedStore};
/// use optimist_redis::RedisStore;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = RedisStore::builder()
///     .url("redis://127.0.0.1:6379")
///     .prefix("orders")
///     .build()
///     .await?;
/// let v1 = store.insert(&Key::new("order-1"), serde_json::json!({"total": 10})).await?;
/// assert_eq!(v1.get(), 1);
/// # Ok::<(), optimist_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    keys: Keys,
    capabilities: Capabilities,
    retry_policy: RetryPolicy,
    address: String,
}

impl Inner {
    /// Whether a delete leaves a tombstone.
    fn tombstones(&self) -> bool {
        self.capabilities.tombstones
    }
}

impl RedisStore {
    /// A builder: give it a URL, a client, a
    /// [`ConnectionManager`](redis::aio::ConnectionManager) or cluster nodes, and a key prefix.
    ///
    /// ```
    /// let builder = optimist_redis::RedisStore::builder().prefix("orders");
    /// ```
    pub fn builder() -> RedisStoreBuilder {
        RedisStoreBuilder::default()
    }

    pub(crate) fn from_parts(
        pool: Pool,
        prefix: Prefix,
        retry_policy: RetryPolicy,
        address: String,
        tombstones: bool,
        layout: Layout,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                keys: Keys::new(prefix, layout),
                // A script runs on one hash slot of a cluster, and each partition
                // has its own (its bucket's).
                capabilities: Capabilities::new()
                    .with_tombstones(tombstones)
                    .with_transactions_span_partitions(layout == Layout::Single),
                retry_policy,
                address,
            }),
        }
    }

    /// The store's key prefix.
    ///
    /// ```no_run
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_redis::RedisStore::builder()
    ///     .url("redis://127.0.0.1:6379").prefix("orders").build().await?;
    /// assert_eq!(store.prefix(), "orders");
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn prefix(&self) -> &str {
        self.inner.keys.prefix().as_str()
    }

    /// Whether the store is on a Redis Cluster (built from
    /// [`RedisStoreBuilder::cluster_nodes`] or a `redis+cluster://` URL), and so uses
    /// the cluster layout.
    ///
    /// ```no_run
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_redis::RedisStore::builder()
    ///     .url("redis://127.0.0.1:6379").prefix("p").build().await?;
    /// assert!(!store.is_cluster());
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn is_cluster(&self) -> bool {
        self.inner.keys.layout() == Layout::Cluster
    }

    /// The Redis key an item is stored under: on one server [`Prefix::redis_key`]
    /// (`{prefix}…`), on a cluster the same parts under the tag of the partition's
    /// bucket (`{prefix/bNNNN}…`).
    ///
    /// ```no_run
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_redis::RedisStore::builder()
    ///     .url("redis://127.0.0.1:6379").prefix("p").build().await?;
    /// assert_eq!(store.redis_key(&optimist_core::Key::new("a")), b"{p}1:a");
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn redis_key(&self, key: &Key) -> Vec<u8> {
        self.inner.keys.item(key)
    }

    /// The spelling of the store's keys.
    pub(crate) fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// One of the store's connections (the first of its pool), for commands of your own
    /// (it is cheap to clone): to the server, or to the cluster.
    ///
    /// ```no_run
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_redis::RedisStore::builder()
    ///     .url("redis://127.0.0.1:6379").prefix("p").build().await?;
    /// let mut conn = store.connection();
    /// let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn connection(&self) -> RedisConnection {
        self.inner.pool.first()
    }

    /// How many connections the store's requests take in turn
    /// ([`RedisStoreBuilder::pool_size`]; one for a given connection manager).
    ///
    /// ```no_run
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = optimist_redis::RedisStore::builder()
    ///     .url("redis://127.0.0.1:6379").prefix("p").build().await?;
    /// assert_eq!(store.pool_size(), optimist_redis::DEFAULT_POOL_SIZE);
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn pool_size(&self) -> usize {
        self.inner.pool.size()
    }

    /// Runs `script` with these keys and arguments on the next connection of the pool.
    pub(crate) async fn run(
        &self,
        script: &Script,
        keys: &[Vec<u8>],
        args: &[&[u8]],
    ) -> Result<redis::Value, Failed> {
        self.inner.pool.run(script, Call { keys, args }).await
    }

    /// [`Storage::write`]: `write.lua`, one round trip.
    async fn write_script(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        let spell = &self.inner.keys;
        let keys = [
            spell.item(write.key),
            spell.index(write.key.partition()),
            spell.partitions(write.key.partition()),
        ];
        let encoded = WriteArgs::new(write, self.inner.tombstones())?;
        let mut args = Vec::with_capacity(7);
        encoded.push_to(&mut args);
        let reply = self
            .run(&scripts().write, &keys, &args)
            .await
            .map_err(|err| from_redis(err, Applied::Maybe))?;
        reply::write(reply)
    }
}

#[async_trait]
impl Storage for RedisStore {
    fn backend_name(&self) -> &'static str {
        BACKEND
    }

    fn capabilities(&self) -> &Capabilities {
        &self.inner.capabilities
    }

    fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry_policy
    }

    /// The key prefix: the data a store reads is its prefix's keys, so a cursor of
    /// one prefix is refused by a store of another.
    fn identity(&self) -> String {
        match self.inner.keys.layout() {
            Layout::Single => format!("redis prefix {}", self.inner.keys.prefix()),
            Layout::Cluster => format!("redis cluster prefix {}", self.inner.keys.prefix()),
        }
    }

    /// `read.lua`: one round trip; the record with its token, a tombstone included.
    async fn read(&self, key: &Key) -> Result<Option<Record>, StorageError> {
        let keys = [self.redis_key(key)];
        let reply = self
            .run(&scripts().read, &keys, &[])
            .await
            .map_err(|err| from_redis(err, Applied::No))?;
        reply::read(reply)
    }

    /// `read_many.lua`: on one server one round trip for every key, each record read
    /// at the same moment (the script runs atomically), tombstones included; on a
    /// cluster one script per bucket the keys fall in, all sent at once.
    async fn read_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        crate::read_many::read(self, keys).await
    }

    /// `query.lua` (a partition, from its index) or `scan.lua` (the store, from its
    /// partitions set): one round trip per page.
    async fn read_range(&self, request: &RangeRequest<'_>) -> Result<RangePage, StorageError> {
        crate::range::read(self, request).await
    }

    /// `write.lua`: one round trip, the token stored by the same script, the refused
    /// write's current record in the reply, the partition's index kept by the same
    /// script.
    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        self.write_script(write).await
    }

    /// As the default, without its second boxed future (its call of `write`).
    async fn write_value(&self, put: OwnedPut<'_>) -> PutAnswer {
        let answer = self.write_script(&put.write()).await;
        put.answered(answer)
    }

    async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
        crate::transaction::commit(self, writes, self.inner.tombstones()).await
    }

    /// A sweep of the store's keys: `SCAN` steps over its prefix, each followed by
    /// `purge.lua` on the keys found. Rejected unless the store is in tombstone mode.
    async fn purge_tombstones(&self, older_than: Duration) -> Result<u64, StorageError> {
        if !self.inner.tombstones() {
            return Err(StorageError::not_applied(
                ErrorKind::Rejected,
                "this Redis store keeps no tombstones (RedisStoreBuilder::tombstones is off)",
            ));
        }
        crate::purge::sweep(self, older_than).await
    }
}

// Hand-written so that no connection detail beyond the redacted address is printed.
impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("address", &self.inner.address)
            .field("prefix", self.inner.keys.prefix())
            .field("cluster", &self.is_cluster())
            .field("tombstones", &self.inner.tombstones())
            .field("pool_size", &self.inner.pool.size())
            .finish_non_exhaustive()
    }
}

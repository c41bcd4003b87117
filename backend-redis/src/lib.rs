//! # optimist-redis
//!
//! A [`VersionedStore`](optimist_core::VersionedStore) on Redis (7.0 or later, or a
//! compatible server such as Valkey), on the async [`redis`] crate.
//!
//! - **On core's engine.** [`RedisStore`] implements [`Storage`](optimist_core::Storage):
//!   read an item, apply one conditional write, commit a transaction. Core checks the
//!   input, derives versions, judges refusals into conflicts and resends requests after
//!   transient failures; this crate only talks to Redis.
//! - **One round trip per operation.** Every operation, conflicts and transactions
//!   included, is one Lua script sent with `EVALSHA`: the script checks the condition,
//!   writes, and when it refuses returns the current item (contract R11) in the same
//!   reply. Redis runs a script atomically, so operations are linearizable (R13).
//! - **Items under a key prefix.** An item is a hash `{v: JSON text, ver: decimal
//!   version, tok: write token}` at `{prefix}<len>:<partition>[<len>:<sort>]`. Stores
//!   with different prefixes on one server never see each other's items.
//! - **Write tokens.** Every write stores its token (contract R14) in the record it
//!   leaves, in the same script: after a lost answer the engine reads the key and
//!   finds out whether the write is there.
//! - **Reads beyond one key.** `get_many` is one script for every key; `query` reads
//!   a per-partition index (a sorted set of sort parts, `ZRANGEBYLEX` in byte order)
//!   and `scan` a set of the store's partitions, one script per page. The write
//!   scripts keep both, in the same script as the item.
//! - **Tombstone mode** ([`RedisStoreBuilder::tombstones`], off by default): a delete
//!   leaves a tombstone, a hash `{ver, tok, del}` without the value, that keeps the
//!   version counting (contract R15); `purge_tombstones` sweeps the store's prefix for
//!   old ones.
//! - **A small pool of connections.** Requests take a few multiplexed connections in
//!   turn ([`RedisStoreBuilder::pool_size`], default [`DEFAULT_POOL_SIZE`]), so a lost
//!   connection fails only the requests in flight on it; every request waits at most
//!   [`RedisStoreBuilder::response_timeout`] for its answer.
//! - **Redis Cluster.** A `redis+cluster://` URL (or
//!   [`RedisStoreBuilder::cluster_nodes`]) runs the store on the cluster client with
//!   the cluster layout: each partition in one of 1,024 buckets with a hash tag of its
//!   own (`{prefix/bNNNN}`), so a store spreads over every shard while a partition's
//!   items, index and partitions set share one slot and every script touches one slot.
//!   A transaction stays within one partition
//!   ([`Capabilities::transactions_span_partitions`](optimist_core::Capabilities) is
//!   false: one spanning partitions is `InvalidInput`, nothing written); `get_many`
//!   sends one script per bucket at once; `scan` walks the buckets in order. On one
//!   server every key keeps the tag `{prefix}` (one slot), as before.
//!
//! The crate's README.md has the whole story: layout, scripts, errors, limits.
//!
//! ```no_run
//! use optimist_core::{Conflict, Error, Key, VersionedStore};
//! use optimist_redis::RedisStore;
//! use serde_json::json;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = RedisStore::builder()
//!     .url("redis://127.0.0.1:6379")
//!     .prefix("shop")
//!     .build()
//!     .await?;
//! let key = Key::with_sort("customer-7", "order-1");
//! let v1 = store.insert(&key, json!({"items": 1})).await?;
//! store.update(&key, v1, json!({"items": 2})).await?;
//! match store.update(&key, v1, json!({"items": 3})).await {
//!     Err(Error::Conflict { conflict: Conflict::VersionMismatch { current, .. }, .. }) => {
//!         assert_eq!(current.value, json!({"items": 2}));
//!     }
//!     other => panic!("expected a conflict, got {other:?}"),
//! }
//! # Ok::<(), Error>(())
//! # }).unwrap();
//! ```

#![deny(missing_docs)]

mod backoff;
mod builder;
mod cluster_renewal;
mod cluster_url;
mod config;
mod connection;
mod error;
mod item;
mod layout;
mod liveness;
mod pool;
mod prefix;
mod protocol;
mod purge;
mod range;
mod read_many;
mod reply;
mod scripts;
mod store;
mod transaction;

pub use builder::RedisStoreBuilder;
pub use config::RedisConfig;
pub use connection::RedisConnection;
pub use pool::{DEFAULT_POOL_SIZE, DEFAULT_RESPONSE_TIMEOUT};
pub use prefix::{MAX_PREFIX_BYTES, Prefix};
pub use redis;
pub use store::RedisStore;

/// The Lua script a store runs for an operation, exactly as sent (`EVALSHA` of its
/// SHA1, `EVAL` of this text when the server lacks it); `None` for operations without
/// a script of their own. Its arguments are described in the script (a write's seven
/// arguments in the shared prelude). For reading, auditing, and benchmarking the
/// driver alone on the same work.
///
/// Every single write (insert, update, delete, put, remove) runs the same script,
/// `write.lua`; `get` runs `read.lua`, `transact` runs `commit.lua`, and
/// `purge_tombstones` runs `purge.lua` on the keys of each `SCAN` step; `get_many`
/// runs `read_many.lua`, and each page of `query` and `scan` runs `query.lua` and
/// `scan.lua`.
///
/// ```
/// use optimist_core::Operation;
/// let update = optimist_redis::lua_source(Operation::Update).unwrap_or_default();
/// assert!(update.starts_with("#!lua"));
/// assert!(update.contains("HSET"));
/// assert_eq!(optimist_redis::lua_source(Operation::Remove), Some(update));
/// let query = optimist_redis::lua_source(Operation::Query).unwrap_or_default();
/// assert!(query.contains("ZRANGEBYLEX"));
/// assert_eq!(optimist_redis::lua_source(Operation::Setup), None);
/// ```
pub fn lua_source(operation: optimist_core::Operation) -> Option<&'static str> {
    scripts::source(operation)
}

//! The store: each operation validates its input, then runs its one script.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use optimist_core::{
    Capabilities, Error, Key, Operation, Result, TxAction, TxOp, Version, Versioned,
    VersionedStore, validate,
};
use redis::aio::ConnectionManager;
use serde_json::Value;

use crate::error::{Writes, from_redis};
use crate::reply::{self, Outcome};
use crate::scripts::{Call, Script, run, scripts};
use crate::{Prefix, RedisStoreBuilder};

/// A [`VersionedStore`] on Redis: every item of the store lives under its key prefix,
/// and every operation, a transaction included, is one Lua script run in one round
/// trip. Clones share the connection.
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
    conn: ConnectionManager,
    prefix: Prefix,
    capabilities: Capabilities,
    address: String,
}

impl RedisStore {
    /// A builder: give it a URL or a [`ConnectionManager`], and a key prefix.
    ///
    /// ```
    /// let builder = optimist_redis::RedisStore::builder().prefix("orders");
    /// ```
    pub fn builder() -> RedisStoreBuilder {
        RedisStoreBuilder::default()
    }

    pub(crate) fn from_parts(conn: ConnectionManager, prefix: Prefix, address: String) -> Self {
        Self {
            inner: Arc::new(Inner {
                conn,
                prefix,
                capabilities: Capabilities::new(),
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
    /// assert_eq!(store.prefix().as_str(), "orders");
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn prefix(&self) -> &Prefix {
        &self.inner.prefix
    }

    /// The Redis key an item is stored under (see [`Prefix::redis_key`]).
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
        self.inner.prefix.redis_key(key)
    }

    /// The connection the store uses, for commands of your own (it is cheap to clone).
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
    pub fn connection(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    async fn single(
        &self,
        script: &Script,
        operation: Operation,
        key: &Key,
        expected: Option<Version>,
        value: Option<&Value>,
    ) -> Result<Option<Version>> {
        let keys = [self.redis_key(key)];
        let expected_text = expected.map(|v| v.get().to_string());
        let json = value.map(|v| encode(operation, key, v)).transpose()?;
        let args: Vec<&[u8]> = expected_text
            .as_deref()
            .map(str::as_bytes)
            .into_iter()
            .chain(json.as_deref())
            .collect();
        let reply = run(
            &self.inner.conn,
            script,
            Call {
                keys: &keys,
                args: &args,
            },
        )
        .await
        .map_err(|err| from_redis(operation, Some(key), Writes::Yes, err))?;
        match reply::single(operation, key, expected, reply)? {
            Outcome::Applied(version) => Ok(version),
            Outcome::Refused(conflict) => Err(Error::conflict(operation, key.clone(), conflict)),
        }
    }
}

fn encode(operation: Operation, key: &Key, value: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|err| {
        Error::invalid(
            operation,
            Some(key),
            format!("the value cannot be encoded as JSON: {err}"),
        )
    })
}

/// Insert, update and put always report the version they wrote.
fn written(operation: Operation, key: &Key, version: Option<Version>) -> Result<Version> {
    version.ok_or_else(|| {
        crate::error::bad_reply(
            operation,
            Some(key),
            Writes::Yes,
            "no version after a write",
        )
    })
}

#[async_trait]
impl VersionedStore for RedisStore {
    fn capabilities(&self) -> &Capabilities {
        &self.inner.capabilities
    }

    async fn get(&self, key: &Key) -> Result<Option<Versioned<Value>>> {
        validate::key(Operation::Get, key, self.capabilities())?;
        let keys = [self.redis_key(key)];
        let reply = run(
            &self.inner.conn,
            &scripts().get,
            Call {
                keys: &keys,
                args: &[],
            },
        )
        .await
        .map_err(|err| from_redis(Operation::Get, Some(key), Writes::No, err))?;
        reply::get(key, reply)
    }

    async fn insert(&self, key: &Key, value: Value) -> Result<Version> {
        let op = Operation::Insert;
        validate::write(op, key, &value, self.capabilities())?;
        let version = self
            .single(&scripts().insert, op, key, None, Some(&value))
            .await?;
        written(op, key, version)
    }

    async fn update(&self, key: &Key, expected: Version, value: Value) -> Result<Version> {
        let op = Operation::Update;
        validate::write(op, key, &value, self.capabilities())?;
        let script = &scripts().update;
        let version = self
            .single(script, op, key, Some(expected), Some(&value))
            .await?;
        written(op, key, version)
    }

    async fn delete(&self, key: &Key, expected: Version) -> Result<()> {
        let op = Operation::Delete;
        validate::key(op, key, self.capabilities())?;
        self.single(&scripts().delete, op, key, Some(expected), None)
            .await
            .map(|_| ())
    }

    async fn put(&self, key: &Key, value: Value) -> Result<Version> {
        let op = Operation::Put;
        validate::write(op, key, &value, self.capabilities())?;
        let version = self
            .single(&scripts().put, op, key, None, Some(&value))
            .await?;
        written(op, key, version)
    }

    async fn remove(&self, key: &Key) -> Result<Option<Version>> {
        let op = Operation::Remove;
        validate::key(op, key, self.capabilities())?;
        self.single(&scripts().remove, op, key, None, None).await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        validate::transaction(&ops, self.capabilities())?;
        let op = Operation::Transact;
        let keys: Vec<Vec<u8>> = ops.iter().map(|o| self.redis_key(o.key())).collect();
        let mut fields: Vec<(&'static [u8], String, Vec<u8>)> = Vec::with_capacity(ops.len());
        for o in &ops {
            let action: &'static [u8] = match o.action() {
                TxAction::Insert(_) => b"I",
                TxAction::Update { .. } => b"U",
                TxAction::Delete { .. } => b"D",
                TxAction::Check { .. } => b"C",
                TxAction::Put(_) => b"P",
                TxAction::Remove => b"R",
            };
            let expected = o
                .action()
                .expected()
                .map(|v| v.get().to_string())
                .unwrap_or_default();
            let json = match o.action().value() {
                Some(value) => encode(op, o.key(), value)?,
                None => Vec::new(),
            };
            fields.push((action, expected, json));
        }
        let args: Vec<&[u8]> = fields
            .iter()
            .flat_map(|(action, expected, json)| [*action, expected.as_bytes(), json.as_slice()])
            .collect();
        let reply = run(
            &self.inner.conn,
            &scripts().transact,
            Call {
                keys: &keys,
                args: &args,
            },
        )
        .await
        .map_err(|err| from_redis(op, None, Writes::Yes, err))?;
        reply::transact(&ops, reply)
    }
}

// Hand-written so that no connection detail beyond the redacted address is printed.
impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("address", &self.inner.address)
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

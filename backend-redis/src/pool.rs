//! The store's connections: a few multiplexed connections taken in turn, so that one
//! lost connection fails only the requests in flight on it, and every request bounded
//! by the store's response timeout.
//!
//! Each slot holds a [`ConnectionManager`], which replaces its connection by itself
//! after an I/O error (a reset, a closed connection: the requests in flight on it
//! fail, later ones go on a new connection). A request that gets no answer in time
//! leaves a connection that may be half-open, whose later requests would wait too, so
//! the pool replaces that slot's manager with a new one; the requests still in flight
//! on the old connection keep it until they end.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::{Client, RedisError, RedisResult, Value};

use crate::RedisConnection;
use crate::scripts::{self, Call, Script};

/// How many connections a store opens unless told otherwise.
pub const DEFAULT_POOL_SIZE: usize = 4;

/// How long a request waits for its answer unless told otherwise.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct Pool {
    /// The first connection; a pool has at least one.
    head: Slot,
    /// The others.
    tail: Vec<Slot>,
    next: AtomicUsize,
    /// What opens a replacement; `None` for a manager the caller gave, which the store
    /// cannot rebuild.
    renew: Option<Renew>,
    /// Set when the store bounds each request itself: a given manager may have no
    /// response timeout of its own. Connections the store opens have the driver
    /// bound each request, which starts once the request is sent.
    own_timeout: Option<Duration>,
}

/// One connection of the pool; the generation tells a replaced manager from its
/// replacement, so one timeout replaces it once.
struct Slot {
    current: Mutex<(u64, RedisConnection)>,
}

struct Renew {
    client: Client,
    config: ConnectionManagerConfig,
}

impl Slot {
    fn new(conn: RedisConnection) -> Self {
        Self {
            current: Mutex::new((0, conn)),
        }
    }

    fn get(&self) -> (u64, RedisConnection) {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        (current.0, current.1.clone())
    }
}

impl Pool {
    /// `size` connections (at least one) to `client`'s server, each opened now, with
    /// the driver bounding every request by `response_timeout`.
    pub(crate) async fn open(
        client: Client,
        config: ConnectionManagerConfig,
        size: usize,
        response_timeout: Duration,
    ) -> RedisResult<Self> {
        let config = config.set_response_timeout(Some(response_timeout));
        let open = || ConnectionManager::new_with_config(client.clone(), config.clone());
        let head = Slot::new(RedisConnection::Single(open().await?));
        let mut tail = Vec::with_capacity(size.saturating_sub(1));
        for _ in 1..size {
            tail.push(Slot::new(RedisConnection::Single(open().await?)));
        }
        Ok(Self {
            head,
            tail,
            next: AtomicUsize::new(0),
            renew: Some(Renew { client, config }),
            own_timeout: None,
        })
    }

    /// `size` connections (at least one) to a Redis Cluster, each opened now (each one
    /// connection per node, which the cluster client opens again after an I/O error),
    /// every request bounded by the store. A connection that timed out is kept: the
    /// cluster client has no lazy constructor to replace it with.
    pub(crate) async fn cluster(
        client: ClusterClient,
        size: usize,
        response_timeout: Duration,
    ) -> RedisResult<Self> {
        let head = Slot::new(RedisConnection::Cluster(
            client.get_async_connection().await?,
        ));
        let mut tail = Vec::with_capacity(size.saturating_sub(1));
        for _ in 1..size {
            tail.push(Slot::new(RedisConnection::Cluster(
                client.get_async_connection().await?,
            )));
        }
        Ok(Self {
            head,
            tail,
            next: AtomicUsize::new(0),
            renew: None,
            own_timeout: Some(response_timeout),
        })
    }

    /// The one connection manager the caller gave, each request bounded by the store.
    pub(crate) fn given(conn: ConnectionManager, response_timeout: Duration) -> Self {
        Self {
            head: Slot::new(RedisConnection::Single(conn)),
            tail: Vec::new(),
            next: AtomicUsize::new(0),
            renew: None,
            own_timeout: Some(response_timeout),
        }
    }

    /// How many connections the pool holds.
    pub(crate) fn size(&self) -> usize {
        1 + self.tail.len()
    }

    /// The first connection, for commands of the caller's own and for loading scripts.
    pub(crate) fn first(&self) -> RedisConnection {
        self.head.get().1
    }

    /// Runs `script` on the next connection in turn. A request that got no answer in
    /// time has its connection replaced.
    pub(crate) async fn run(&self, script: &Script, call: Call<'_>) -> RedisResult<Value> {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.size();
        let slot = match index.checked_sub(1) {
            Some(i) => self.tail.get(i).unwrap_or(&self.head),
            None => &self.head,
        };
        let (generation, conn) = slot.get();
        let result = match self.own_timeout {
            None => scripts::run(&conn, script, call).await,
            Some(limit) => tokio::time::timeout(limit, scripts::run(&conn, script, call))
                .await
                .unwrap_or_else(|_| Err(no_answer(limit))),
        };
        if result.as_ref().is_err_and(RedisError::is_timeout) {
            self.replace(index, slot, generation);
        }
        result
    }

    /// Puts a new manager in `slot` unless another request has already done so.
    fn replace(&self, index: usize, slot: &Slot, generation: u64) {
        let Some(renew) = &self.renew else {
            return;
        };
        let mut current = slot.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current.0 != generation {
            return;
        }
        // Lazy: the new connection opens with the slot's next request, whose error
        // (refused, say) then says that nothing was sent.
        match ConnectionManager::new_lazy_with_config(renew.client.clone(), renew.config.clone()) {
            Ok(conn) => {
                *current = (generation + 1, RedisConnection::Single(conn));
                tracing::debug!(
                    connection = index,
                    "no answer within the response timeout: connection replaced"
                );
            }
            Err(err) => tracing::warn!(
                connection = index,
                %err,
                "could not replace a connection that timed out; keeping it"
            ),
        }
    }
}

/// The error of a request the store gave up waiting for: an I/O timeout, as the
/// driver's own, so it is classified the same way.
fn no_answer(limit: Duration) -> RedisError {
    RedisError::from(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no answer from Redis within the response timeout ({limit:?})"),
    ))
}

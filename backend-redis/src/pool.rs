//! The store's connections: a few multiplexed connections taken in turn, so that one
//! lost connection fails only the requests in flight on it, and every request bounded
//! by the store's response timeout.
//!
//! Each slot holds a [`ConnectionManager`], which replaces its connection by itself
//! after an I/O error (a reset, a closed connection: the requests in flight on it
//! fail, later ones go on a new connection). A request that gets no answer in time
//! leaves a connection that may be half-open, whose later requests would wait too, so
//! the pool replaces that slot's manager with a new one; the requests still in flight
//! on the old connection keep it until they end. A slot whose connection may be down
//! checks it before its next request ([`liveness`]). A Redis Cluster slot replaces its
//! cluster connection in the background instead, and also as soon as one of its node
//! connections closes ([`cluster_renewal`]).

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::{Client, RedisError, RedisResult, Value};
use tokio::sync::Notify;

use crate::RedisConnection;
use crate::cluster_renewal;
use crate::error::{Failed, refused_at_setup};
use crate::liveness::{self, Pushes, Suspicion};
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
    /// Set when the store bounds each request itself: a given manager may have no
    /// response timeout of its own. Connections the store opens have the driver
    /// bound each request, which starts once the request is sent.
    own_timeout: Option<Duration>,
    /// How long a request waits for a connection that may be down to answer its
    /// check: the driver's own bound starts once the check is sent, after its
    /// reconnection, whose attempts (connection timeouts, pauses) can take seconds.
    /// Where the driver bounds requests, half as long again as its bound, so that a
    /// connection that is open and silent is found by the driver's timeout, which
    /// has it replaced, and one the driver is still reopening by this one, which
    /// leaves the driver to it ([`Pool::run`]).
    check_timeout: Duration,
}

/// One connection of the pool.
pub(crate) struct Slot {
    state: Arc<SlotState>,
    /// A cluster slot's own client, which opens its replacements and (on RESP3) tells
    /// its watcher when one of its connections closes; `None` on one server.
    cluster: Option<Arc<ClusterClient>>,
}

/// The connection a slot holds now, and its generation, which tells a replaced
/// connection from its replacement, so that one timeout replaces it once.
pub(crate) struct SlotState {
    pub(crate) current: Mutex<(u64, RedisConnection)>,
    /// Set while a cluster slot opens its replacement in the background.
    pub(crate) renewing: AtomicBool,
    /// Set from a cluster slot's notice that one of its node connections closed until
    /// its replacement is open: requests wait for it ([`cluster_renewal::opened`]).
    pub(crate) closed: AtomicBool,
    /// Wakes the requests waiting for a cluster slot's replacement.
    pub(crate) renewed: Notify,
    /// Whether a single server's connection may be down: the next request checks it
    /// first ([`liveness`]).
    pub(crate) suspicion: Suspicion,
    /// What opens a replacement of a single server's connection; `None` for a cluster
    /// (its slot keeps its own client) and for a manager the caller gave, which the
    /// store cannot rebuild.
    renew: Option<Renew>,
}

/// The client and settings of a single server's connection, its push sender
/// included, so that a replacement tells the same watcher.
struct Renew {
    client: Client,
    config: ConnectionManagerConfig,
}

impl Slot {
    fn new(conn: RedisConnection, renew: Option<Renew>) -> Self {
        Self {
            state: Arc::new(SlotState {
                current: Mutex::new((0, conn)),
                renewing: AtomicBool::new(false),
                closed: AtomicBool::new(false),
                renewed: Notify::new(),
                suspicion: Suspicion::default(),
                renew,
            }),
            cluster: None,
        }
    }

    /// A cluster slot holding `conn`, opened by `client`.
    pub(crate) fn cluster(conn: RedisConnection, client: Arc<ClusterClient>) -> Self {
        Self {
            cluster: Some(client),
            ..Self::new(conn, None)
        }
    }

    /// A slot on one server holding `conn`, replaced (when it must be) from `renew`.
    fn single(conn: ConnectionManager, renew: Option<Renew>) -> Self {
        Self::new(RedisConnection::Single(conn), renew)
    }

    pub(crate) fn state(&self) -> &Arc<SlotState> {
        &self.state
    }

    fn get(&self) -> (u64, RedisConnection) {
        self.state.get()
    }
}

impl SlotState {
    pub(crate) fn get(&self) -> (u64, RedisConnection) {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        (current.0, current.1.clone())
    }

    /// Puts a new connection to the single server in the slot, unless the slot holds
    /// another than the one of `generation` by now, or cannot be renewed (a manager
    /// the caller gave). `why` says why, in the log.
    pub(crate) fn replace_single(&self, generation: u64, index: usize, why: &str) {
        let Some(renew) = &self.renew else {
            return;
        };
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current.0 != generation {
            return;
        }
        // Lazy: the new connection opens with the slot's next request, which checks it
        // first (`suspicion`), so that a connection that does not open fails it unsent.
        match ConnectionManager::new_lazy_with_config(renew.client.clone(), renew.config.clone()) {
            Ok(conn) => {
                *current = (generation + 1, RedisConnection::Single(conn));
                self.suspicion.mark();
                tracing::debug!(connection = index, why, "connection replaced");
            }
            Err(err) => tracing::warn!(
                connection = index,
                why,
                %err,
                "could not replace a connection; keeping it"
            ),
        }
    }
}

impl Pool {
    /// `size` connections (at least one) to `client`'s server, each opened now, with
    /// the driver bounding every request by `response_timeout`. On RESP3, unless
    /// `config` sends pushes somewhere of the caller's, each connection's pushes go
    /// to a watcher of its slot ([`liveness::watch`]).
    pub(crate) async fn open(
        client: Client,
        config: ConnectionManagerConfig,
        size: usize,
        response_timeout: Duration,
    ) -> RedisResult<Self> {
        let config = config.set_response_timeout(Some(response_timeout));
        let watched = client
            .get_connection_info()
            .redis_settings()
            .protocol()
            .supports_resp3()
            && !sends_pushes(&config);
        let open = |index: usize| {
            let (client, config) = (client.clone(), config.clone());
            async move {
                let (config, pushes) = if watched {
                    let (sender, pushes) = Pushes::channel();
                    (config.set_push_sender(sender), Some(pushes))
                } else {
                    (config, None)
                };
                let conn =
                    ConnectionManager::new_with_config(client.clone(), config.clone()).await?;
                let slot = Slot::single(conn, Some(Renew { client, config }));
                if let Some(pushes) = pushes {
                    tokio::spawn(liveness::watch(Arc::downgrade(slot.state()), pushes, index));
                }
                Ok::<_, RedisError>(slot)
            }
        };
        let head = open(0).await?;
        let mut tail = Vec::with_capacity(size.saturating_sub(1));
        for index in 1..size {
            tail.push(open(index).await?);
        }
        Ok(Self {
            head,
            tail,
            next: AtomicUsize::new(0),
            own_timeout: None,
            check_timeout: response_timeout.saturating_add(response_timeout / 2),
        })
    }

    /// `size` connections (at least one) to a Redis Cluster, each opened now by a
    /// client of its own from `clients` (each one connection per node, which the
    /// cluster client opens again after an I/O error), every request bounded by the
    /// store. A slot replaces its connection in the background after a timeout, and,
    /// when its client tells of closed connections (RESP3), as soon as one closes
    /// ([`cluster_renewal`]).
    pub(crate) async fn cluster(
        clients: &(dyn Fn() -> RedisResult<(ClusterClient, Option<Pushes>)> + Sync),
        size: usize,
        response_timeout: Duration,
    ) -> RedisResult<Self> {
        let head = cluster_renewal::open(clients()?, 0).await?;
        let mut tail = Vec::with_capacity(size.saturating_sub(1));
        for index in 1..size {
            tail.push(cluster_renewal::open(clients()?, index).await?);
        }
        Ok(Self {
            head,
            tail,
            next: AtomicUsize::new(0),
            own_timeout: Some(response_timeout),
            check_timeout: response_timeout,
        })
    }

    /// The one connection manager the caller gave, each request bounded by the store.
    pub(crate) fn given(conn: ConnectionManager, response_timeout: Duration) -> Self {
        Self {
            head: Slot::single(conn, None),
            tail: Vec::new(),
            next: AtomicUsize::new(0),
            own_timeout: Some(response_timeout),
            check_timeout: response_timeout,
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
    /// time has its connection replaced. On one server, a request on a connection
    /// that may be down checks it first, and fails unsent if it is down or does not
    /// answer in time ([`liveness`]); a request that lost its connection leaves every
    /// connection to be checked so, and one that met a connection whose setup the
    /// server refused (a wrong password, too many clients) has it replaced: the
    /// driver reconnects only after an I/O error, and would answer every later
    /// request with that refusal, even once the server takes the connection again.
    pub(crate) async fn run(&self, script: &Script, call: Call<'_>) -> Result<Value, Failed> {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.size();
        let slot = match index.checked_sub(1) {
            Some(i) => self.tail.get(i).unwrap_or(&self.head),
            None => &self.head,
        };
        let single = slot.cluster.is_none();
        if let (false, Some(limit)) = (single, self.own_timeout) {
            if !cluster_renewal::opened(&slot.state, limit).await {
                return Err(Failed::unsent(not_reopened(limit)));
            }
        }
        // The mark first: a replacement made in between (it marks the slot) is then
        // checked by the slot's next request, not cleared by this one's check.
        let suspect = single.then(|| slot.state.suspicion.pending()).flatten();
        let (generation, conn) = slot.get();
        if let Some(mark) = suspect {
            let suspicion = &slot.state.suspicion;
            let limit = self.check_timeout;
            let check = tokio::time::timeout(limit, liveness::answered(&conn)).await;
            let err = match (check, self.own_timeout) {
                (Ok(Ok(())), _) => None,
                (Ok(Err(err)), _) => Some(err),
                // The store's bound, the only one: the connection is silent.
                (Err(_), Some(limit)) => Some(no_answer(limit)),
                // Past the driver's bound: it is still reopening the connection, so
                // the slot keeps it; the request tells why a check failed since the
                // slot became suspect, if one did.
                (Err(_), None) => {
                    let why = suspicion.last_failure(mark);
                    return Err(Failed::unsent(why.unwrap_or_else(|| not_back(limit))));
                }
            };
            if let Some(err) = err {
                // In this order, so that the failure is kept under the mark the
                // slot's next request reads (a replacement marks the slot).
                self.replace_after(&err, index, slot, generation);
                self.suspect_after(slot, &err);
                suspicion.failed(&err);
                return Err(Failed::unsent(err));
            }
            suspicion.clear(mark);
        }
        let result = self.bounded(scripts::run(&conn, script, call)).await;
        if let Err(err) = &result {
            self.replace_after(err, index, slot, generation);
            if single {
                self.suspect_after(slot, err);
            }
        }
        Ok(result?)
    }

    /// Marks what a single server's connection failing with `err` makes suspect: its
    /// own slot after a timeout (the slot is replaced too); every slot after the
    /// connection was lost, as the server, or the way to it, may have failed, and the
    /// other connections with it, unheard of without RESP3's notices: a request sent
    /// on one of them would be lost in flight (`Indeterminate`), not found unsent.
    fn suspect_after(&self, slot: &Slot, err: &RedisError) {
        if err.is_timeout() {
            slot.state.suspicion.mark();
        } else if err.is_io_error() {
            for slot in std::iter::once(&self.head).chain(&self.tail) {
                slot.state.suspicion.mark();
            }
        }
    }

    /// `request`, bounded by the store's response timeout where the driver does not
    /// bound it.
    async fn bounded<T>(&self, request: impl Future<Output = RedisResult<T>>) -> RedisResult<T> {
        match self.own_timeout {
            None => request.await,
            Some(limit) => tokio::time::timeout(limit, request)
                .await
                .unwrap_or_else(|_| Err(no_answer(limit))),
        }
    }

    /// Replaces the connection of `slot` after `err`, if `err` says it must go: no
    /// answer in time, or (one server) its setup refused.
    fn replace_after(&self, err: &RedisError, index: usize, slot: &Slot, generation: u64) {
        if err.is_timeout() {
            let why = "no answer within the response timeout";
            self.replace(index, slot, generation, why);
        } else if slot.cluster.is_none() && refused_at_setup(err) {
            let why = "the server refused the connection's setup";
            self.replace(index, slot, generation, why);
        }
    }

    /// Puts a new connection in `slot` unless another request has already done so:
    /// `why` it must go.
    fn replace(&self, index: usize, slot: &Slot, generation: u64, why: &str) {
        match &slot.cluster {
            Some(client) => cluster_renewal::spawn(&slot.state, client, index, Some(generation)),
            None => slot.state.replace_single(generation, index, why),
        }
    }
}

/// Whether `config` sends the connections' pushes somewhere already (the caller's own
/// sender), which the store must not take over. The driver tells only in its `Debug`
/// form; should that form change, the store takes no pushes, and a closed connection
/// is found by the next request, as on RESP2.
fn sends_pushes(config: &ConnectionManagerConfig) -> bool {
    !format!("{config:?}").contains("push_sender: \"not set\"")
}

/// The error of a request on a connection to one server that may be down, which did
/// not answer a check in time (the driver still reconnecting, the server taking
/// connections and never answering), and no check before it told why: not sent.
fn not_back(limit: Duration) -> RedisError {
    RedisError::from(io::Error::new(
        io::ErrorKind::TimedOut,
        format!(
            "the connection to Redis closed or failed, and did not answer again within \
             {limit:?}"
        ),
    ))
}

/// The error of a request on a cluster connection that closed, whose replacement did
/// not open within the response timeout: not sent.
fn not_reopened(limit: Duration) -> RedisError {
    RedisError::from(io::Error::new(
        io::ErrorKind::NotConnected,
        format!(
            "a connection to the Redis Cluster closed, and its replacement did not open \
             within the response timeout ({limit:?})"
        ),
    ))
}

/// The error of a request the store gave up waiting for: an I/O timeout, as the
/// driver's own, so it is classified the same way.
fn no_answer(limit: Duration) -> RedisError {
    RedisError::from(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no answer from Redis within the response timeout ({limit:?})"),
    ))
}

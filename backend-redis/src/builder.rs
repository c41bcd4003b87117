//! Building a [`RedisStore`]: where to connect, under which prefix, over how many
//! connections, how long a request may wait for its answer, and how often to resend
//! a request after a transient failure.

use std::fmt;
use std::time::Duration;

use optimist_core::redact::{Secrets, redact_url};
use optimist_core::retry::RetryPolicy;
use optimist_core::{Error, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::{Client, IntoConnectionInfo, ProtocolVersion};

use crate::error::{BACKEND, bad_url, setup};
use crate::layout::Layout;
use crate::liveness::Pushes;
use crate::pool::{DEFAULT_POOL_SIZE, DEFAULT_RESPONSE_TIMEOUT, Pool};
use crate::{Prefix, RedisStore, cluster_url, protocol, scripts};

/// Builds a [`RedisStore`]. Needs a key prefix and a server: a URL, a
/// [`Client`], or a [`ConnectionManager`].
///
/// `build` checks the settings, opens the store's connections, and loads the store's
/// scripts into the server's cache (one round trip), so a store that builds is ready
/// and every later operation is one round trip.
///
/// ```no_run
/// use std::time::Duration;
/// use optimist_redis::RedisStore;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// // From a URL; the password never shows in Debug output or errors.
/// let store = RedisStore::builder()
///     .url("redis://:secret@127.0.0.1:6379/0")
///     .prefix("orders")
///     .pool_size(8)
///     .response_timeout(Duration::from_secs(2))
///     .build()
///     .await?;
///
/// // Or from a connection manager you already have: one connection.
/// let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
/// let manager = redis::aio::ConnectionManager::new(client).await.unwrap();
/// let invoices = RedisStore::builder().connection(manager).prefix("invoices").build().await?;
/// # Ok::<(), optimist_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Default)]
pub struct RedisStoreBuilder {
    source: Option<Source>,
    prefix: Option<String>,
    config: Option<ConnectionManagerConfig>,
    pool_size: Option<usize>,
    response_timeout: Option<Duration>,
    retry_policy: Option<RetryPolicy>,
    tombstones: bool,
}

enum Source {
    Url(String),
    Client(Client),
    Manager(ConnectionManager),
    /// The URLs of some of a Redis Cluster's nodes.
    Cluster(Vec<String>),
}

impl RedisStoreBuilder {
    /// Connect to this URL (`redis://[user][:password@]host[:port][/db]`, or
    /// `rediss://` when the `redis` crate has TLS enabled). Percent-encode a password
    /// that holds `/ ? # @ : %`, as URLs require; raw or encoded, it never shows.
    ///
    /// `redis+cluster://[user][:password@]host:port[,host:port…]` (or
    /// `rediss+cluster://`) names a Redis Cluster by one or more of its nodes, as
    /// [`cluster_nodes`](Self::cluster_nodes) does.
    ///
    /// Unless the URL names a protocol (`?protocol=resp2`), the store speaks RESP3, so
    /// that a connection the server closes while idle is replaced at once, before a
    /// write is sent on it (on RESP2 such a write fails as `Indeterminate`); a server
    /// without RESP3 (Redis before 6) gets RESP2.
    ///
    /// ```
    /// let builder = optimist_redis::RedisStore::builder().url("redis://127.0.0.1:6379");
    /// let cluster = optimist_redis::RedisStore::builder()
    ///     .url("redis+cluster://127.0.0.1:7000,127.0.0.1:7001");
    /// ```
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.source = Some(Source::Url(url.into()));
        self
    }

    /// Connect to a Redis Cluster (cluster mode): the `redis://` (or `rediss://`) URLs
    /// of one or more of its nodes, with the same credentials; the cluster client
    /// finds the others. The store then uses the cluster layout: each partition in one
    /// of 1,024 buckets with a hash tag of its own, so the store spreads over every
    /// shard, and a transaction stays within one partition (see the crate's README).
    ///
    /// ```
    /// let builder = optimist_redis::RedisStore::builder()
    ///     .cluster_nodes(["redis://:pw@127.0.0.1:7000", "redis://:pw@127.0.0.1:7001"]);
    /// ```
    pub fn cluster_nodes<I, S>(mut self, nodes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.source = Some(Source::Cluster(nodes.into_iter().map(Into::into).collect()));
        self
    }

    /// Connect with this client: its address, credentials and protocol. On RESP2 (a
    /// client's default) a connection the server closes while idle is found only by
    /// the next request on it, which for a write is `Indeterminate`: open the client
    /// on RESP3 (`?protocol=resp3`), as [`url`](Self::url) does unless told otherwise.
    ///
    /// ```
    /// let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    /// let builder = optimist_redis::RedisStore::builder().client(client);
    /// ```
    pub fn client(mut self, client: Client) -> Self {
        self.source = Some(Source::Client(client));
        self
    }

    /// Use this connection manager (and its settings) instead of opening connections:
    /// the store then runs on this **one** connection, so a lost connection fails
    /// every request in flight, and the store cannot replace it after a timeout, or
    /// after the server refused its setup (a wrong password: the manager reconnects
    /// after an I/O error only). The store bounds every request by its
    /// [`response_timeout`](Self::response_timeout) all the same; as it cannot tell
    /// waiting for the connection from waiting for the answer, a write that times out
    /// is reported as maybe applied. Give a [`url`](Self::url) or a
    /// [`client`](Self::client) for a pool.
    ///
    /// ```no_run
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    /// let manager = redis::aio::ConnectionManager::new(client).await.unwrap();
    /// let builder = optimist_redis::RedisStore::builder().connection(manager);
    /// # });
    /// ```
    pub fn connection(mut self, manager: ConnectionManager) -> Self {
        self.source = Some(Source::Manager(manager));
        self
    }

    /// The key prefix; required. Stores with different prefixes never see each other's
    /// items. See [`Prefix`] for what a prefix may hold.
    ///
    /// ```
    /// let builder = optimist_redis::RedisStore::builder().prefix("orders");
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// How many multiplexed connections the store opens to a [`url`](Self::url) or
    /// [`client`](Self::client) ([`DEFAULT_POOL_SIZE`](crate::DEFAULT_POOL_SIZE),
    /// 4). Requests take them in turn; each connection carries many requests at once.
    ///
    /// The point is the blast radius: when a connection is lost, every request in
    /// flight on it fails (a write as `Indeterminate`, as its answer is lost), and the
    /// others go on. With 4, a lost connection fails about a quarter of the requests
    /// in flight, not all. A connection lost or silent past the response timeout is
    /// replaced, never reused. Zero, or more than one with a
    /// [`connection`](Self::connection) manager, is `Error::Configuration`.
    ///
    /// ```
    /// let builder = optimist_redis::RedisStore::builder().pool_size(8);
    /// ```
    pub fn pool_size(mut self, connections: usize) -> Self {
        self.pool_size = Some(connections);
        self
    }

    /// How long a request waits for its answer
    /// ([`DEFAULT_RESPONSE_TIMEOUT`](crate::DEFAULT_RESPONSE_TIMEOUT), 5 s: a
    /// transaction of 100 large items takes longer than the driver's default 500 ms).
    /// It replaces the response timeout of a [`config`](Self::config), and bounds
    /// every request of a [`connection`](Self::connection) manager too.
    ///
    /// A write whose answer does not come in time may have been applied: it fails as
    /// `Error::Indeterminate`. A read applied nothing: it fails as a transient
    /// `ErrorKind::Timeout` and is sent again within the
    /// [retry policy](Self::retry_policy), on the next connection. The connection that
    /// timed out is replaced. Zero is `Error::Configuration`.
    ///
    /// ```
    /// let builder = optimist_redis::RedisStore::builder()
    ///     .response_timeout(std::time::Duration::from_secs(2));
    /// ```
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = Some(timeout);
        self
    }

    /// Settings for the connections opened from a [`url`](Self::url) or
    /// [`client`](Self::client): connection timeout, reconnection attempts and their
    /// delays. Its response timeout is replaced by the store's
    /// [`response_timeout`](Self::response_timeout). Without it:
    /// [`default_config`](Self::default_config).
    ///
    /// On RESP3 the store takes the connections' pushes, to hear a connection close
    /// and check it before the next request; a config that sends pushes to a sender
    /// of yours (`set_push_sender`) keeps them, and the store then finds a closed
    /// connection only when a request on it fails.
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = redis::aio::ConnectionManagerConfig::new()
    ///     .set_connection_timeout(Some(Duration::from_secs(1)));
    /// let builder = optimist_redis::RedisStore::builder().config(config);
    /// ```
    pub fn config(mut self, config: ConnectionManagerConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// How often the store sends a request again after a transient failure that
    /// applied nothing (connection refused, `BUSY`, `LOADING`, a read whose answer was
    /// lost). Without it: [`RetryPolicy::transient_default`]. The connection manager's
    /// own reconnection attempts ([`config`](Self::config)) come on top, per attempt.
    ///
    /// ```
    /// use optimist_core::retry::RetryPolicy;
    /// let builder = optimist_redis::RedisStore::builder().retry_policy(RetryPolicy::no_retry());
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// Tombstone mode (contract R15); off by default. On: a delete or remove leaves a
    /// tombstone (a hash without the value, keeping the version, the write's token and
    /// the server time of the deletion) that reads never show; the next insert or put
    /// continues at its version + 1, so a key never reuses a version and a write still
    /// travelling from before the delete cannot land on a re-inserted item.
    /// [`purge_tombstones`](optimist_core::VersionedStore::purge_tombstones) removes
    /// old ones. Off: a delete removes the item's hash and a re-inserted key starts
    /// again at 1, which is the contract's default and keeps no dead keys in memory.
    ///
    /// A store reads tombstones in either mode (a store in default mode on a prefix
    /// that once kept them continues their versions too); only stores in tombstone
    /// mode leave and purge them.
    ///
    /// ```
    /// let builder = optimist_redis::RedisStore::builder().tombstones(true);
    /// ```
    pub fn tombstones(mut self, on: bool) -> Self {
        self.tombstones = on;
        self
    }

    /// The settings used for a URL or client when none are given: a 2 s connection
    /// timeout, 3 reconnection attempts before an operation reports the server
    /// unreachable, and the default response timeout (5 s; the store's own
    /// [`response_timeout`](Self::response_timeout) replaces it on the connections it
    /// opens, and it is the one a manager built from this config has).
    ///
    /// ```
    /// let config = optimist_redis::RedisStoreBuilder::default_config();
    /// assert_eq!(config.number_of_retries(), 3);
    /// assert_eq!(config.response_timeout(), Some(optimist_redis::DEFAULT_RESPONSE_TIMEOUT));
    /// ```
    pub fn default_config() -> ConnectionManagerConfig {
        ConnectionManagerConfig::new()
            .set_response_timeout(Some(DEFAULT_RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(3)
            .set_max_delay(Duration::from_secs(1))
    }

    /// Checks the settings, connects and loads the scripts.
    ///
    /// A bad or missing prefix, no server, a pool size of zero, a zero response
    /// timeout, or a URL the driver cannot use is [`Error::Configuration`], found
    /// before connecting; a server that cannot be reached is a retryable
    /// [`Error::Backend`] whose source names the (redacted) address, then the driver's
    /// error. No password shows in either.
    ///
    /// ```no_run
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let err = optimist_redis::RedisStore::builder()
    ///     .url("redis://127.0.0.1:1").prefix("p").build().await.unwrap_err();
    /// assert!(err.is_retryable());
    /// # });
    /// ```
    pub async fn build(mut self) -> Result<RedisStore> {
        let prefix = match self.prefix.take() {
            Some(prefix) => Prefix::new(prefix)?,
            None => return Err(Error::configuration(BACKEND, "no key prefix given")),
        };
        let response_timeout = self.response_timeout.unwrap_or(DEFAULT_RESPONSE_TIMEOUT);
        if response_timeout.is_zero() {
            return Err(Error::configuration(
                BACKEND,
                "the response timeout must be longer than zero",
            ));
        }
        if self.pool_size == Some(0) {
            return Err(Error::configuration(
                BACKEND,
                "the pool size must be at least one connection",
            ));
        }
        // A client is used as given; a URL that names no protocol gets RESP3 first.
        let (client, upgrade, address, secrets) = match self.source.take() {
            None => {
                return Err(Error::configuration(
                    BACKEND,
                    "no Redis URL, client or connection manager given",
                ));
            }
            Some(Source::Manager(conn)) => {
                if self.pool_size.is_some_and(|size| size > 1) {
                    return Err(Error::configuration(
                        BACKEND,
                        "a given connection manager is one connection: \
                         give a URL or a client for a pool",
                    ));
                }
                let pool = Pool::given(conn, response_timeout);
                let address = "(a given connection manager)".to_string();
                return finish(
                    pool,
                    prefix,
                    self.retry_policy,
                    address,
                    Secrets::new(),
                    self.tombstones,
                )
                .await;
            }
            Some(Source::Client(client)) => {
                let info = client.get_connection_info();
                let address = info.addr().to_string();
                let secrets = info
                    .redis_settings()
                    .password()
                    .map_or_else(Secrets::new, |password| Secrets::new().with(password));
                (client, None, address, secrets)
            }
            Some(Source::Url(url)) if cluster_url::is_cluster(&url) => {
                let Some(nodes) = cluster_url::nodes(&url) else {
                    return Err(Error::configuration(
                        BACKEND,
                        format!(
                            "the Redis Cluster URL {} names no node, or a database (a \
                             cluster has only database 0)",
                            redact_url(&url)
                        ),
                    ));
                };
                let settings = ClusterSettings::of(&self, prefix, response_timeout);
                return cluster(nodes, settings).await;
            }
            Some(Source::Cluster(nodes)) => {
                let settings = ClusterSettings::of(&self, prefix, response_timeout);
                return cluster(nodes, settings).await;
            }
            Some(Source::Url(url)) => {
                let address = redact_url(&url);
                let mut secrets = Secrets::from_url(&url);
                // The password as the driver decodes it, should it differ.
                if let Ok(info) = url.as_str().into_connection_info() {
                    if let Some(password) = info.redis_settings().password() {
                        secrets = secrets.with(password);
                    }
                }
                let client =
                    Client::open(url.as_str()).map_err(|err| bad_url(&err, &address, &secrets))?;
                let upgrade = if protocol::named_in(&url) {
                    None
                } else {
                    Some(
                        protocol::on_resp3(&client)
                            .map_err(|err| bad_url(&err, &address, &secrets))?,
                    )
                };
                (client, upgrade, address, secrets)
            }
        };
        let config = self.config.unwrap_or_else(Self::default_config);
        let size = self.pool_size.unwrap_or(DEFAULT_POOL_SIZE);
        let pool = match upgrade {
            Some(resp3) => match Pool::open(resp3, config.clone(), size, response_timeout).await {
                Err(err) if protocol::refused(&err) => {
                    tracing::info!(
                        %address,
                        "the server does not speak RESP3: on RESP2, a connection closed \
                         while idle is found dead only by the next request on it"
                    );
                    Pool::open(client, config, size, response_timeout).await
                }
                opened => opened,
            },
            None => Pool::open(client, config, size, response_timeout).await,
        }
        .map_err(|err| setup(err, &address, &secrets))?;
        finish(
            pool,
            prefix,
            self.retry_policy,
            address,
            secrets,
            self.tombstones,
        )
        .await
    }
}

/// Connects to a Redis Cluster through `nodes` and makes a store in the cluster layout.
///
/// The cluster client is told never to resend a request (`retries(0)`): it would
/// resend a script after an I/O error too, when the first may have run, and a write
/// applied twice breaks the contract. Its redirects (`MOVED`, `ASK`), `TRYAGAIN` and
/// `CLUSTERDOWN` reach the store instead, as errors that applied nothing, and core's
/// engine sends the request again within the retry policy (the client has refreshed
/// its slot map after a `MOVED` by then).
async fn cluster(nodes: Vec<String>, settings: ClusterSettings) -> Result<RedisStore> {
    let ClusterSettings {
        prefix,
        pool_size,
        response_timeout,
        retry_policy,
        tombstones,
    } = settings;
    if nodes.is_empty() {
        return Err(Error::configuration(BACKEND, "no Redis Cluster node given"));
    }
    let address = nodes
        .iter()
        .map(|node| redact_url(node))
        .collect::<Vec<_>>()
        .join(",");
    // The cluster client refuses nodes with different credentials, so the first
    // node's are every node's.
    let mut secrets = nodes
        .first()
        .map_or_else(Secrets::new, |n| Secrets::from_url(n));
    if let Some(Ok(info)) = nodes.first().map(|n| n.as_str().into_connection_info()) {
        if let Some(password) = info.redis_settings().password() {
            secrets = secrets.with(password);
        }
    }
    // Each slot of the pool gets a client of its own, so that its connections' close
    // notices (RESP3 only) reach that slot. Nodes that name no protocol get RESP3.
    let named = nodes.iter().any(|node| protocol::named_in(node));
    let clients = |notices: bool| {
        let nodes = &nodes;
        move || {
            let builder = ClusterClientBuilder::new(nodes.iter().map(String::as_str))
                .retries(0)
                .connection_timeout(Duration::from_secs(2))
                .response_timeout(response_timeout);
            if !notices {
                return Ok((builder.build()?, None));
            }
            let builder = if named {
                builder
            } else {
                builder.use_protocol(ProtocolVersion::RESP3)
            };
            let (sender, notices) = Pushes::channel();
            Ok((builder.push_sender(sender).build()?, Some(notices)))
        }
    };
    // A URL the driver cannot use is found before connecting.
    clients(false)().map_err(|err| bad_url(&err, &address, &secrets))?;
    let resp3 = !named
        || nodes.first().is_some_and(|node| {
            node.as_str()
                .into_connection_info()
                .is_ok_and(|info| info.redis_settings().protocol().supports_resp3())
        });
    let size = pool_size.unwrap_or(DEFAULT_POOL_SIZE);
    let pool = match Pool::cluster(&clients(resp3), size, response_timeout).await {
        Err(err) if !named && protocol::refused(&err) => {
            tracing::info!(
                %address,
                "the cluster does not speak RESP3: on RESP2, a connection closed \
                 while idle is found dead only by the next request on it"
            );
            Pool::cluster(&clients(false), size, response_timeout).await
        }
        opened => opened,
    }
    .map_err(|err| setup(err, &address, &secrets))?;
    finish(pool, prefix, retry_policy, address, secrets, tombstones).await
}

/// The builder's settings a cluster store takes, checked.
struct ClusterSettings {
    prefix: Prefix,
    pool_size: Option<usize>,
    response_timeout: Duration,
    retry_policy: Option<RetryPolicy>,
    tombstones: bool,
}

impl ClusterSettings {
    fn of(builder: &RedisStoreBuilder, prefix: Prefix, response_timeout: Duration) -> Self {
        Self {
            prefix,
            pool_size: builder.pool_size,
            response_timeout,
            retry_policy: builder.retry_policy.clone(),
            tombstones: builder.tombstones,
        }
    }
}

/// Loads the scripts on the pool and makes the store.
async fn finish(
    pool: Pool,
    prefix: Prefix,
    retry_policy: Option<RetryPolicy>,
    address: String,
    secrets: Secrets,
    tombstones: bool,
) -> Result<RedisStore> {
    scripts::load_all(&pool.first())
        .await
        .map_err(|err| setup(err, &address, &secrets))?;
    let layout = match pool.first() {
        crate::RedisConnection::Cluster(_) => Layout::Cluster,
        _ => Layout::Single,
    };
    tracing::debug!(%address, %prefix, connections = pool.size(), ?layout, "Redis store ready");
    let retry_policy = retry_policy.unwrap_or_else(|| RetryPolicy::transient_default().clone());
    Ok(RedisStore::from_parts(
        pool,
        prefix,
        retry_policy,
        address,
        tombstones,
        layout,
    ))
}

// Hand-written so that no password shows: a URL is shown redacted, a client or a
// manager not at all.
impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            None => "(none)".to_string(),
            Some(Source::Url(url)) => redact_url(url),
            Some(Source::Client(client)) => client.get_connection_info().addr().to_string(),
            Some(Source::Manager(_)) => "(a given connection manager)".to_string(),
            Some(Source::Cluster(nodes)) => nodes
                .iter()
                .map(|node| redact_url(node))
                .collect::<Vec<_>>()
                .join(","),
        };
        f.debug_struct("RedisStoreBuilder")
            .field("source", &source)
            .field("prefix", &self.prefix)
            .field("pool_size", &self.pool_size)
            .field("response_timeout", &self.response_timeout)
            .field("retry_policy", &self.retry_policy)
            .field("tombstones", &self.tombstones)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::panic)] // tests fail by panicking
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let builder = RedisStore::builder().url("redis://user:hunter2@example:6379/0");
        let shown = format!("{builder:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("example:6379"), "{shown}");
        let client = Client::open("redis://user:hunter2@example:6379/0");
        let builder = RedisStore::builder().client(client.unwrap_or_else(|e| panic!("{e}")));
        let shown = format!("{builder:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("example:6379"), "{shown}");
    }

    #[tokio::test]
    async fn bad_settings_are_configuration_errors_found_before_connecting() {
        // Port 1 on loopback: nothing listens, but nothing is tried either.
        let base = || RedisStore::builder().url("redis://127.0.0.1:1").prefix("p");
        for (builder, says) in [
            (base().pool_size(0), "pool size"),
            (base().response_timeout(Duration::ZERO), "response timeout"),
            (RedisStore::builder().prefix("p"), "no Redis URL"),
        ] {
            let err = builder.build().await.err();
            assert!(
                matches!(&err, Some(Error::Configuration { reason, .. }) if reason.contains(says)),
                "{says}: {err:?}"
            );
        }
    }
}

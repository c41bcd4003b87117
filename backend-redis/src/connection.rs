//! [`RedisConnection`]: one of a store's connections, to a server or to a cluster.

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

/// One of a store's connections, for commands of your own
/// ([`RedisStore::connection`](crate::RedisStore::connection)): a
/// [`ConnectionManager`] to one server, or a [`ClusterConnection`] to a Redis Cluster,
/// which routes each command to the node of its keys. Either runs commands with
/// `query_async`, as it implements [`ConnectionLike`]; it is cheap to clone.
///
/// It speaks the store's protocol: RESP3 for a store built from a URL that names
/// none, so a reply may be a map or a set where RESP2 gives an array: read an
/// `HGETALL` into a `HashMap` or a `Vec<(K, V)>`, not a flat `Vec<String>`.
///
/// A command of your own on a cluster connection is not resent after a redirect
/// (`MOVED`, `ASK`) or a failure: the store's connections are opened with no retries,
/// so that a script is never sent twice (see the crate's README).
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
#[derive(Clone)]
#[non_exhaustive]
pub enum RedisConnection {
    /// A connection to one server.
    Single(ConnectionManager),
    /// A connection to a Redis Cluster.
    Cluster(ClusterConnection),
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            Self::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(cmd, offset, count),
            Self::Cluster(conn) => conn.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            Self::Cluster(conn) => conn.get_db(),
        }
    }
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Single(_) => f.write_str("RedisConnection::Single"),
            Self::Cluster(_) => f.write_str("RedisConnection::Cluster"),
        }
    }
}

//! Where connections come from: a pool on a file, or one connection for `:memory:`.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::SqliteConnection;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{Sqlite, SqlitePool};
use tokio::sync::{Mutex, MutexGuard};

/// The store's database.
///
/// An in-memory SQLite database lives as long as the connection that opened it and is
/// seen by no other connection, so `:memory:` keeps exactly one connection for the
/// store's whole life (never closed by a pool's idle or lifetime limits) and operations
/// take turns on it. A file is shared by a pool of connections; SQLite's locks and WAL
/// keep them consistent, with other pools and other processes too.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Pool(SqlitePool),
    Memory(Arc<Mutex<SqliteConnection>>),
}

/// A connection borrowed for one attempt.
pub(crate) enum Conn<'a> {
    Pooled(PoolConnection<Sqlite>),
    Memory(MutexGuard<'a, SqliteConnection>),
}

impl Db {
    /// A connection: from the pool (waiting for a free one), or the in-memory one.
    pub(crate) async fn acquire(&self) -> Result<Conn<'_>, sqlx::Error> {
        match self {
            // An idle connection at once when there is one, as `acquire` would hand
            // it over (the pool tests none before handing it out). Waiting is boxed:
            // sqlx's wait is a 1.4 KB future, which held inline made every call's
            // future larger than glibc's per-thread cache of freed blocks holds (1,032
            // bytes), so each call took malloc's slow path.
            Db::Pool(pool) => match pool.try_acquire() {
                Some(conn) => Ok(Conn::Pooled(conn)),
                None => Box::pin(pool.acquire()).await.map(Conn::Pooled),
            },
            Db::Memory(conn) => Ok(Conn::Memory(conn.lock().await)),
        }
    }
}

impl Deref for Conn<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        match self {
            Conn::Pooled(conn) => conn,
            Conn::Memory(conn) => conn,
        }
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match self {
            Conn::Pooled(conn) => conn,
            Conn::Memory(conn) => conn,
        }
    }
}

//! The store's own pool: a fixed number of connections, all opened and with every
//! statement prepared before `build` returns, so an operation sends its one statement
//! and nothing else.
//!
//! Why not sqlx's `PgPool`: sqlx 0.8 pings every connection it takes back (a lone Sync,
//! sent by `Floating::return_to_pool` whatever the pool's options), one exchange after
//! every operation on the connection the next call wants; and it opens connections on
//! a caller's path when a burst finds none idle (startup, authentication, and each
//! statement's preparation on the caller's first use of that connection).
//!
//! Here a connection goes back to the pool as it is, at once, when the operation's
//! [`Connection`](crate::connection::Connection) is dropped. One that broke, timed out
//! or was left mid-request (a caller dropped the future) is closed instead, and a task
//! of the pool opens and prepares its replacement in the background: callers wait for
//! an idle connection (within the acquire timeout), never for a connection to be made.
//! While the server cannot be reached, a caller that finds no idle connection fails at
//! once with the reason the last attempt to reconnect gave, nothing sent. With an idle
//! check (`check_idle_after`, off by default), a connection idle that long is asked
//! first whether it is alive (see [`Pool::acquire`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use optimist_core::{Applied, ErrorKind, StorageError};
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::connection::within;
use crate::error;
use crate::response_timer::ResponseTimer;

/// The first wait before trying to open a replacement again; doubled up to
/// [`MOST_BETWEEN_RECONNECTS`].
const FIRST_RECONNECT_WAIT: Duration = Duration::from_millis(50);
const MOST_BETWEEN_RECONNECTS: Duration = Duration::from_secs(2);

/// How many timers of waiting callers the pool keeps for the next waits.
const MOST_WAIT_TIMERS: usize = 64;

/// What every connection of the store sets before its first statement: no sequential
/// scans. Each statement finds its rows through the primary key, but a prepared
/// statement run a few times gets a generic plan, kept until the table is next
/// analyzed, and while the table is small (or was analyzed small) a sequential scan is
/// that plan's cheapest way. Loaded with many rows meanwhile, every update then read the
/// whole table: 271 ms instead of 0.8 ms on a million rows (`EXPLAIN ANALYZE`), until
/// autovacuum analyzed it again. Without sequential scans, the plan uses the index at
/// every size; a statement with no index to use (the purge of old tombstones) still
/// scans.
const SESSION: &str = "SET enable_seqscan = off";

/// A pool of prepared connections to one server. Clones share it.
#[derive(Clone)]
pub(crate) struct Pool {
    shared: Arc<Shared>,
}

struct Shared {
    options: PgConnectOptions,
    /// The statements every connection has prepared before it serves a call.
    statements: Vec<String>,
    idle: Mutex<Vec<Idle>>,
    /// One permit per idle connection; closed when the pool is closed.
    available: Semaphore,
    /// Connections closed whose replacement is not open yet.
    missing: AtomicUsize,
    /// Why the last attempt to open a replacement failed, until one succeeds.
    last_failure: Mutex<Option<(ErrorKind, String)>>,
    /// Timers for callers waiting for an idle connection, kept from one wait to the
    /// next (see [`Shared::wait_for_idle`]).
    wait_timers: Mutex<Vec<ResponseTimer>>,
    acquire_timeout: Duration,
    response_timeout: Duration,
    /// Connections idle at least this long are checked before use (see
    /// [`Pool::acquire`]); `None`: never.
    idle_check: Option<Duration>,
    size: usize,
}

/// An idle connection, its timer, and since when it is idle (kept only when idle
/// connections are checked).
struct Idle {
    conn: PgConnection,
    timer: ResponseTimer,
    since: Option<Instant>,
}

/// The timeouts and the idle check a pool works with.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PoolTimes {
    pub(crate) acquire_timeout: Duration,
    pub(crate) response_timeout: Duration,
    pub(crate) idle_check: Option<Duration>,
}

/// A connection taken from the pool (or, while `build` sets the table up, one of no
/// pool yet). Give it back with [`Leased::give_back`] or close it with
/// [`Leased::discard`]; dropped without either, it is discarded.
pub(crate) struct Leased {
    conn: Option<PgConnection>,
    /// The connection's timer for its answers, kept with it in the pool.
    timer: ResponseTimer,
    pool: Option<Pool>,
}

impl Pool {
    /// A pool of `connections`: the first already open (with every statement prepared),
    /// the others opened and prepared now. Fails if any of them cannot be.
    pub(crate) async fn open(
        first: PgConnection,
        options: PgConnectOptions,
        statements: Vec<String>,
        connections: u32,
        times: PoolTimes,
    ) -> Result<Self, StorageError> {
        let PoolTimes {
            acquire_timeout,
            response_timeout,
            idle_check,
        } = times;
        let size = usize::try_from(connections.max(1)).unwrap_or(1);
        let pool = Pool {
            shared: Arc::new(Shared {
                options,
                statements,
                idle: Mutex::new(Vec::with_capacity(size)),
                available: Semaphore::new(0),
                missing: AtomicUsize::new(0),
                last_failure: Mutex::new(None),
                wait_timers: Mutex::new(Vec::new()),
                acquire_timeout,
                response_timeout,
                idle_check,
                size,
            }),
        };
        pool.shared.put_idle(first, ResponseTimer::default());
        // One after the other: a burst of connections at once makes the server (and a
        // loaded client) slow to answer each, for no gain at build.
        for _ in 1..size {
            let conn = pool.shared.open_prepared().await?;
            pool.shared.put_idle(conn, ResponseTimer::default());
        }
        Ok(pool)
    }

    /// Sets `conn`'s session up for the store's statements ([`SESSION`]), then
    /// prepares `statements` on it (each kept in sqlx's statement cache of the
    /// connection, so a call finds it there and sends only Bind, Execute and Sync).
    pub(crate) async fn prepare(
        conn: &mut PgConnection,
        statements: &[String],
        response_timeout: Duration,
    ) -> Result<(), StorageError> {
        // A connection that breaks here fails its set-up and is dropped: only the
        // answer matters, not whether the connection could serve again.
        let session = sqlx::Executor::execute(&mut *conn, SESSION);
        within(response_timeout, session, Applied::No).await.0?;
        for statement in statements {
            let prepared = sqlx::Executor::prepare(&mut *conn, statement.as_str());
            within(response_timeout, prepared, Applied::No).await.0?;
        }
        Ok(())
    }

    /// An idle connection, waiting for one within the acquire timeout; failing here
    /// means nothing was sent.
    ///
    /// With an idle check, a connection idle at least that long is asked first (one
    /// `Sync`, answered by the server's ready message, within the response timeout):
    /// one that a proxy, a load balancer or the network closed while idle is closed and
    /// replaced, and the next idle one is taken, so that no write is sent on it (a
    /// write sent on a dead connection finds an end of stream it cannot tell from a
    /// lost answer, and is `Indeterminate`).
    pub(crate) async fn acquire(&self) -> Result<Leased, StorageError> {
        loop {
            let Idle { conn, timer, since } = self.take_idle().await?;
            // Leased before the check: a caller that drops this future during the
            // check drops the lease, which closes the connection and replaces it.
            let mut leased = Leased {
                conn: Some(conn),
                timer,
                pool: Some(self.clone()),
            };
            let stale = match (self.shared.idle_check, since) {
                (Some(limit), Some(since)) => since.elapsed() >= limit,
                _ => false,
            };
            if stale && !self.answers(&mut leased).await {
                tracing::debug!("an idle connection did not answer its check: replaced");
                leased.discard();
                continue;
            }
            return Ok(leased);
        }
    }

    /// Whether the leased connection answers a `Sync` within the response timeout.
    async fn answers(&self, leased: &mut Leased) -> bool {
        let Some((conn, timer)) = leased.raw() else {
            return false;
        };
        let checked = timer
            .within(self.shared.response_timeout, conn.ping())
            .await;
        matches!(checked, Some(Ok(())))
    }

    /// An idle connection as the pool keeps it, waiting for one within the acquire
    /// timeout.
    async fn take_idle(&self) -> Result<Idle, StorageError> {
        let shared = &self.shared;
        let permit = match shared.available.try_acquire() {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::Closed) => return Err(closed()),
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                if shared.missing.load(Ordering::SeqCst) > 0 {
                    // A connection is being replaced and the last attempt failed: the
                    // server cannot be reached now; say so rather than wait.
                    if let Some((kind, reason)) = shared.failure() {
                        return Err(StorageError::not_applied(
                            kind,
                            format!("no connection to PostgreSQL: {reason}"),
                        ));
                    }
                }
                shared.wait_for_idle().await?
            }
        };
        permit.forget();
        let idle = shared
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        // A permit stands for an idle connection; none means the pool was closed.
        idle.ok_or_else(closed)
    }

    /// Closes every idle connection; calls after this fail with nothing sent, and a
    /// connection in use is closed when its call ends.
    pub(crate) async fn close(&self) {
        self.shared.available.close();
        let idle: Vec<Idle> = std::mem::take(
            &mut *self
                .shared
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for Idle { conn, .. } in idle {
            let closing = tokio::time::timeout(self.shared.response_timeout, conn.close());
            if let Ok(Err(err)) = closing.await {
                tracing::debug!(%err, "closing a connection failed");
            }
        }
    }

    /// How many connections are idle now.
    pub(crate) fn idle(&self) -> usize {
        self.shared.available.available_permits()
    }

    /// How many connections the pool keeps open.
    pub(crate) fn size(&self) -> usize {
        self.shared.size
    }

    fn give_back(&self, conn: PgConnection, timer: ResponseTimer) {
        if self.shared.available.is_closed() {
            return; // closed: dropping it closes the socket
        }
        self.shared.put_idle(conn, timer);
    }

    /// Closes `conn` (dropping it closes its socket; the server rolls back whatever it
    /// had open) and opens its replacement in the background.
    fn discard(&self, conn: PgConnection) {
        drop(conn);
        if self.shared.available.is_closed() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("a connection was closed outside a tokio runtime: not replaced");
            return;
        };
        self.shared.missing.fetch_add(1, Ordering::SeqCst);
        runtime.spawn(replace(Arc::downgrade(&self.shared)));
    }
}

impl Shared {
    fn put_idle(&self, conn: PgConnection, timer: ResponseTimer) {
        // The clock is read only for the idle check.
        let since = self.idle_check.map(|_| Instant::now());
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Idle { conn, timer, since });
        self.available.add_permits(1);
    }

    /// Waits for an idle connection's permit, at most the acquire timeout. Under load
    /// most calls wait here: on a timer kept from an earlier wait (a `ResponseTimer`,
    /// which stays armed from one use to the next), not a fresh `tokio::time::timeout`,
    /// which put a timer into the runtime's timer wheel and took it out again on every
    /// wait, under the wheel's lock (with 16 callers on 10 connections, a get costs the
    /// client ~275 instructions fewer of ~20,300 this way).
    async fn wait_for_idle(&self) -> Result<SemaphorePermit<'_>, StorageError> {
        let kept = self
            .wait_timers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut timer = kept.unwrap_or_default();
        let waited = timer
            .within(self.acquire_timeout, self.available.acquire())
            .await;
        let mut kept = self
            .wait_timers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // As many as callers wait at once, up to a bound: a burst of waiters leaves no
        // crowd of timers behind.
        if kept.len() < MOST_WAIT_TIMERS {
            kept.push(timer);
        }
        drop(kept);
        match waited {
            Some(Ok(permit)) => Ok(permit),
            Some(Err(_)) => Err(closed()),
            None => Err(error::not_sent(sqlx::Error::PoolTimedOut)),
        }
    }

    fn failure(&self) -> Option<(ErrorKind, String)> {
        self.last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A new connection with every statement prepared.
    async fn open_prepared(&self) -> Result<PgConnection, StorageError> {
        let connecting = PgConnection::connect_with(&self.options);
        let limit = connect_timeout(self.acquire_timeout, self.response_timeout);
        let mut conn = match tokio::time::timeout(limit, connecting).await {
            Ok(conn) => conn.map_err(error::not_sent)?,
            Err(_) => return Err(error::timed_out(limit, Applied::No)),
        };
        Pool::prepare(&mut conn, &self.statements, self.response_timeout).await?;
        Ok(conn)
    }
}

/// Opens a connection in place of one closed, trying again (waiting longer each time)
/// until it is open, or the pool is closed or gone (every store holding it dropped):
/// the task holds the pool only while it tries.
async fn replace(pool: Weak<Shared>) {
    let mut wait = FIRST_RECONNECT_WAIT;
    loop {
        let Some(shared) = pool.upgrade() else {
            return;
        };
        if shared.available.is_closed() {
            shared.missing.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        match shared.open_prepared().await {
            Ok(conn) => {
                *shared
                    .last_failure
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
                shared.missing.fetch_sub(1, Ordering::SeqCst);
                if !shared.available.is_closed() {
                    shared.put_idle(conn, ResponseTimer::default());
                }
                return;
            }
            Err(err) => {
                tracing::debug!(%err, "opening a replacement connection failed");
                *shared
                    .last_failure
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some((err.kind(), err.to_string()));
            }
        }
        drop(shared);
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MOST_BETWEEN_RECONNECTS);
    }
}

impl Leased {
    /// `conn`, belonging to no pool yet.
    pub(crate) fn standalone(conn: PgConnection) -> Self {
        Self {
            conn: Some(conn),
            timer: ResponseTimer::default(),
            pool: None,
        }
    }

    /// The connection, and its timer for the answers to its requests.
    pub(crate) fn raw(&mut self) -> Option<(&mut PgConnection, &mut ResponseTimer)> {
        Some((self.conn.as_mut()?, &mut self.timer))
    }

    /// The connection itself, taken out.
    pub(crate) fn into_raw(mut self) -> Option<PgConnection> {
        self.conn.take()
    }

    /// Returns the connection to the pool, ready for the next call.
    pub(crate) fn give_back(mut self) {
        if let (Some(conn), Some(pool)) = (self.conn.take(), &self.pool) {
            pool.give_back(conn, std::mem::take(&mut self.timer));
        }
    }

    /// Closes the connection; the pool replaces it.
    pub(crate) fn discard(mut self) {
        if let (Some(conn), Some(pool)) = (self.conn.take(), &self.pool) {
            pool.discard(conn);
        }
    }
}

impl Drop for Leased {
    fn drop(&mut self) {
        if let (Some(conn), Some(pool)) = (self.conn.take(), &self.pool) {
            pool.discard(conn);
        }
    }
}

/// How long opening a connection (TCP, TLS, startup, authentication) may take: the
/// longer of the two timeouts. Authentication alone can take a while on a loaded
/// client (SCRAM's key derivation), and no caller waits on it but `build`.
pub(crate) fn connect_timeout(acquire_timeout: Duration, response_timeout: Duration) -> Duration {
    acquire_timeout.max(response_timeout)
}

fn closed() -> StorageError {
    StorageError::not_applied(ErrorKind::Unavailable, "the store was closed")
}

//! One connection of the store's pool for one operation, every request on it bounded
//! by the response timeout (on the connection's own timer, see `response_timer`).
//!
//! PostgreSQL has no timeout of its own on an answer: a server that hangs would hang
//! the caller. Each request here waits at most the store's response timeout. A request
//! that timed out, or whose conversation broke, leaves the connection in an unknown
//! state (an answer may still arrive); so does a request whose caller dropped the
//! future before the answer came; and a connection dropped inside a transaction holds
//! that transaction open; and a session the server ended (an error of severity FATAL
//! or PANIC: the server shutting down, `pg_terminate_backend`, an idle-session
//! timeout) is a closed socket. Each of these is closed instead of going back to the pool
//! (the server rolls back what was not committed) and the pool opens its replacement
//! in the background.

use std::future::Future;
use std::time::Duration;

use futures_util::FutureExt as _;
use optimist_core::{Applied, ErrorKind, StorageError};
use sqlx::postgres::{PgArguments, PgConnection, PgRow, Postgres};
use sqlx::query::Query;

use crate::error;
use crate::pool::{Leased, Pool};
use crate::response_timer::ResponseTimer;

/// A connection taken from the pool for one operation.
pub(crate) struct Connection {
    conn: Option<Leased>,
    timeout: Duration,
    /// A request broke or timed out: the connection must not be reused.
    broken: bool,
    /// A request was sent and its answer not read yet; still set when the caller
    /// dropped the future meanwhile.
    waiting: bool,
    /// BEGIN was sent and neither COMMIT nor ROLLBACK has been answered.
    in_transaction: bool,
}

impl Connection {
    /// A connection from `pool` (within the pool's acquire timeout); failing here means
    /// nothing was sent.
    pub(crate) async fn acquire(pool: &Pool, timeout: Duration) -> Result<Self, StorageError> {
        let conn = pool.acquire().await?;
        Ok(Self {
            conn: Some(conn),
            timeout,
            broken: false,
            waiting: false,
            in_transaction: false,
        })
    }

    /// `conn`, of no pool yet, for `build`'s set-up.
    pub(crate) fn standalone(conn: PgConnection, timeout: Duration) -> Self {
        Self {
            conn: Some(Leased::standalone(conn)),
            timeout,
            broken: false,
            waiting: false,
            in_transaction: false,
        }
    }

    /// The connection itself, if it is fit for more requests.
    pub(crate) fn into_raw(mut self) -> Option<PgConnection> {
        let conn = self.conn.take()?;
        if self.broken || self.waiting || self.in_transaction {
            return None;
        }
        conn.into_raw()
    }

    /// Runs a statement that returns at most one row.
    pub(crate) async fn fetch_optional(
        &mut self,
        query: Query<'_, Postgres, PgArguments>,
        if_lost: Applied,
    ) -> Result<Option<PgRow>, StorageError> {
        let (conn, timer, timeout) = self.raw()?;
        let answered = timer.within(timeout, query.fetch_optional(conn)).await;
        self.answered(answered, if_lost)
    }

    /// Runs a statement that returns rows.
    pub(crate) async fn fetch_all(
        &mut self,
        query: Query<'_, Postgres, PgArguments>,
        if_lost: Applied,
    ) -> Result<Vec<PgRow>, StorageError> {
        let (conn, timer, timeout) = self.raw()?;
        let answered = timer.within(timeout, query.fetch_all(conn)).await;
        self.answered(answered, if_lost)
    }

    /// Starts a transaction at READ COMMITTED. Until COMMIT is answered, a lost
    /// connection rolls it back, so nothing sent in it may have been applied.
    pub(crate) async fn begin(&mut self) -> Result<(), StorageError> {
        self.in_transaction = true;
        self.simple("BEGIN ISOLATION LEVEL READ COMMITTED", Applied::No)
            .await
    }

    /// Commits the open transaction. A lost answer may hide a commit.
    pub(crate) async fn commit(&mut self) -> Result<(), StorageError> {
        let committed = self.simple("COMMIT", Applied::Maybe).await;
        // Answered either way (a refused COMMIT rolls back); a lost answer broke the
        // connection, which is then closed.
        self.in_transaction = false;
        committed
    }

    /// Rolls the open transaction back. If that fails, the connection is closed and
    /// the server rolls back on its own.
    pub(crate) async fn rollback(&mut self) {
        if self.broken {
            return; // an answer may still be on its way: close instead
        }
        match self.simple("ROLLBACK", Applied::No).await {
            Ok(()) => self.in_transaction = false,
            Err(err) => tracing::debug!(%err, "rollback failed; closing the connection"),
        }
    }

    async fn simple(&mut self, sql: &'static str, if_lost: Applied) -> Result<(), StorageError> {
        let (conn, timer, timeout) = self.raw()?;
        let answered = timer
            .within(timeout, sqlx::Executor::execute(conn, sql))
            .await;
        self.answered(answered, if_lost).map(|_| ())
    }

    /// The connection, its timer and the response timeout, for one request: from here
    /// until its answer is read ([`answered`](Self::answered)), a dropped call leaves
    /// the connection mid-exchange.
    fn raw(&mut self) -> Result<(&mut PgConnection, &mut ResponseTimer, Duration), StorageError> {
        self.waiting = true;
        let timeout = self.timeout;
        let (conn, timer) = self.conn.as_mut().and_then(Leased::raw).ok_or_else(|| {
            StorageError::not_applied(ErrorKind::Other, "the connection was already closed")
        })?;
        Ok((conn, timer, timeout))
    }

    /// The request's outcome (`None`: no answer within the timeout); a request that
    /// broke the connection marks it unfit for reuse.
    fn answered<T>(
        &mut self,
        answered: Option<Result<T, sqlx::Error>>,
        if_lost: Applied,
    ) -> Result<T, StorageError> {
        let (answer, broke) = settle(answered, self.timeout, if_lost);
        self.broken |= broke;
        self.waiting = false;
        answer
    }
}

/// Waits for `answer` at most `timeout` on a timer of its own, for requests of no
/// pooled connection (set-up, closing); also says whether the connection broke (see
/// [`settle`]).
///
/// A combinator, not an `async fn`, which would hold `answer` twice (as passed and as
/// awaited).
pub(crate) fn within<T, F>(
    timeout: Duration,
    answer: F,
    if_lost: Applied,
) -> impl Future<Output = (Result<T, StorageError>, bool)>
where
    F: Future<Output = Result<T, sqlx::Error>>,
{
    tokio::time::timeout(timeout, answer)
        .map(move |answered| settle(answered.ok(), timeout, if_lost))
}

/// A request's outcome from its answer (`None`: none came within `timeout`), and
/// whether the connection broke (the conversation failed or no answer came), so it
/// must not be reused.
fn settle<T>(
    answered: Option<Result<T, sqlx::Error>>,
    timeout: Duration,
    if_lost: Applied,
) -> (Result<T, StorageError>, bool) {
    match answered {
        Some(Ok(value)) => (Ok(value), false),
        Some(Err(err)) => {
            let broke = match &err {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(refusal) => error::ends_session(refusal.as_ref()),
                _ => false,
            };
            (Err(error::sent(err, if_lost)), broke)
        }
        None => (Err(error::timed_out(timeout, if_lost)), true),
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if self.broken || self.waiting || self.in_transaction {
                // Closed at once: the server sees the connection end and rolls back
                // whatever it had open; the pool opens another.
                conn.discard();
            } else {
                conn.give_back();
            }
        }
    }
}

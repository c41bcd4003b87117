//! A connection to one server that may be down is checked before a request goes on
//! it, so that a request that finds it down fails as not sent.
//!
//! Why: the driver's [`ConnectionManager`](redis::aio::ConnectionManager) answers a
//! request made while it has no connection (its reconnection failed: the server
//! restarting, full, or behind a proxy that resets new connections) with the error of
//! that failed connection, a reset or an end of stream, which reads as a request lost
//! after it left: every write of an outage was `Indeterminate` though none was sent.
//! So a slot is *suspect* once its connection closed (RESP3 tells: the slot's watcher
//! hears it) or a request or check on any of the pool's connections lost its
//! connection (on RESP2 nothing tells of the others' closing), and the next request
//! first sends a `PING`: answered, the connection is up and the request goes; not
//! answered in time (one and a half response timeouts, one on a given manager: the
//! driver may still be trying to reconnect, for seconds), the request fails without
//! being sent, as `Unavailable` or `Timeout`, and the engine may send it again. The
//! steady state sends no `PING`.
//!
//! The watcher also brings a closed connection back while the store is idle: the
//! driver reconnects at once by itself, but gives up after a few attempts and tries
//! again only when a request comes (and never, after the server refused the
//! connection's setup: a wrong password, too many clients); the watcher pings, at
//! pauses ([`Backoff`]), until the server answers, and replaces a connection whose
//! setup was refused.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, Weak};

use redis::{PushInfo, PushKind, RedisError, RedisResult, Value};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::RedisConnection;
use crate::backoff::Backoff;
use crate::error::refused_at_setup;
use crate::pool::SlotState;

/// Where one slot's connections tell of pushes, their closing among them (RESP3 only):
/// its watcher's end, here and in [`cluster_renewal`](crate::cluster_renewal).
pub(crate) struct Pushes(UnboundedReceiver<PushInfo>);

impl Pushes {
    /// A channel for one slot: the sender goes into its manager's config
    /// (`ConnectionManagerConfig::set_push_sender`) and its replacements', or into its
    /// cluster client's builder (`ClusterClientBuilder::push_sender`).
    pub(crate) fn channel() -> (UnboundedSender<PushInfo>, Self) {
        let (sender, receiver) = unbounded_channel();
        (sender, Self(receiver))
    }

    /// Waits for the next notice that a connection closed; `None` once every sender
    /// is gone (the store dropped with its connections).
    pub(crate) async fn closed(&mut self) -> Option<()> {
        while let Some(push) = self.0.recv().await {
            if push.kind == PushKind::Disconnection {
                return Some(());
            }
        }
        None
    }

    /// Drops the notices queued now.
    pub(crate) fn drain(&mut self) {
        while self.0.try_recv().is_ok() {}
    }
}

/// Whether the server answers on `conn`: `Ok` for any reply, an error reply included;
/// otherwise the I/O error of a connection that is down, or the server's refusal of
/// the connection's setup.
pub(crate) async fn answered(conn: &RedisConnection) -> RedisResult<()> {
    let mut conn = conn.clone();
    match redis::cmd("PING").query_async::<Value>(&mut conn).await {
        Err(err) if err.is_io_error() || refused_at_setup(&err) => Err(err),
        _ => Ok(()),
    }
}

/// Marks slot `index` suspect when its connection closes, and pings until the server
/// answers on it again (or a request found it up); ends when the store is dropped
/// (the slot gone, or the channel closed with its managers).
pub(crate) async fn watch(slot: Weak<SlotState>, mut pushes: Pushes, index: usize) {
    while pushes.closed().await.is_some() {
        match slot.upgrade() {
            Some(state) => state.suspicion.mark(),
            None => return,
        }
        tracing::debug!(
            connection = index,
            "connection closed: waiting for it to come back"
        );
        let mut backoff = Backoff::new();
        loop {
            let Some(state) = slot.upgrade() else {
                return;
            };
            // A request checked the connection since the last mark: it is up.
            let Some(mark) = state.suspicion.pending() else {
                break;
            };
            let (generation, conn) = state.get();
            drop(state);
            match answered(&conn).await {
                Ok(()) => {
                    if let Some(state) = slot.upgrade() {
                        state.suspicion.clear(mark);
                    }
                    break;
                }
                Err(err) => {
                    failed(index, &backoff, &err);
                    if let Some(state) = slot.upgrade() {
                        // The driver does not reconnect after a refusal: a new
                        // connection for the next ping.
                        if refused_at_setup(&err) {
                            let why = "the server refused the connection's setup";
                            state.replace_single(generation, index, why);
                        }
                        // After the replacement, which marks the slot: kept under the
                        // mark the next request reads.
                        state.suspicion.failed(&err);
                    }
                }
            }
            drop(conn);
            backoff.pause().await;
        }
    }
}

/// Whether a slot's connection may be down. Marked when it may be; cleared by a check
/// that began after the last mark, so that a mark made while a check is under way
/// (the connection closing just then) is never lost to it.
#[derive(Default)]
pub(crate) struct Suspicion {
    marks: AtomicU64,
    cleared: AtomicU64,
    /// Why the last check that failed did, and the mark it failed under: what a
    /// request whose own check got no answer in time reports, if the slot is still
    /// suspect from that mark (a refused password says more than a timeout).
    last_failure: Mutex<Option<(u64, RedisError)>>,
}

impl Suspicion {
    /// The connection may be down: the next request checks it first.
    pub(crate) fn mark(&self) {
        self.marks.fetch_add(1, Ordering::AcqRel);
    }

    /// The mark a check starting now answers, if the connection is suspect; `None` in
    /// the steady state.
    pub(crate) fn pending(&self) -> Option<u64> {
        let marks = self.marks.load(Ordering::Acquire);
        (marks != self.cleared.load(Ordering::Acquire)).then_some(marks)
    }

    /// A check that began at `mark` found the connection up.
    pub(crate) fn clear(&self, mark: u64) {
        self.cleared.fetch_max(mark, Ordering::AcqRel);
    }

    /// A check found the connection down, for `err`.
    pub(crate) fn failed(&self, err: &RedisError) {
        let under = self.marks.load(Ordering::Acquire);
        *self.lock_failure() = Some((under, err.clone()));
    }

    /// Why the last check that failed did, if it failed under `mark` (the mark a
    /// request's check answers): none from an earlier spell of suspicion, or from
    /// before the slot's connection was replaced (which marks it).
    pub(crate) fn last_failure(&self, mark: u64) -> Option<RedisError> {
        let failure = self.lock_failure();
        failure
            .as_ref()
            .filter(|(under, _)| *under == mark)
            .map(|(_, err)| err.clone())
    }

    fn lock_failure(&self) -> MutexGuard<'_, Option<(u64, RedisError)>> {
        self.last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Logs a ping that found the connection still down: a warning the first time.
fn failed(index: usize, backoff: &Backoff, err: &RedisError) {
    if backoff.failures == 0 {
        tracing::warn!(
            connection = index,
            %err,
            "the server does not answer on a closed connection yet; trying again until it does"
        );
    } else {
        tracing::debug!(connection = index, failures = backoff.failures, %err, "still no answer");
    }
}

#[cfg(test)]
mod tests {
    use redis::{ErrorKind, RedisError};

    use super::Suspicion;

    #[test]
    fn a_mark_made_during_a_check_outlives_it() {
        let suspicion = Suspicion::default();
        assert_eq!(suspicion.pending(), None);
        suspicion.mark();
        let Some(check) = suspicion.pending() else {
            unreachable!("marked")
        };
        // The connection closes again while the check is under way...
        suspicion.mark();
        // ...and the check, which began before, finds it up.
        suspicion.clear(check);
        let Some(next) = suspicion.pending() else {
            unreachable!("the second mark was lost")
        };
        suspicion.clear(next);
        assert_eq!(suspicion.pending(), None);
        // A late answer to the first check clears nothing more.
        suspicion.mark();
        suspicion.clear(check);
        assert!(suspicion.pending().is_some());
    }

    #[test]
    fn a_failure_is_told_only_while_the_slot_is_suspect_from_its_mark() {
        let suspicion = Suspicion::default();
        suspicion.mark();
        let Some(mark) = suspicion.pending() else {
            unreachable!("marked")
        };
        let refused = RedisError::from((ErrorKind::AuthenticationFailed, "WRONGPASS"));
        suspicion.failed(&refused);
        let told = suspicion.last_failure(mark).map(|err| err.kind());
        assert_eq!(told, Some(ErrorKind::AuthenticationFailed));
        // Marked again (the connection replaced, or lost again): an old failure says
        // nothing of the new spell.
        suspicion.mark();
        let Some(next) = suspicion.pending() else {
            unreachable!("marked")
        };
        assert!(suspicion.last_failure(next).is_none());
    }
}

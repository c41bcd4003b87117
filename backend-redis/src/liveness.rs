//! A connection to one server that may be down is checked before a request goes on
//! it, so that a request that finds it down fails as not sent.
//!
//! Why: the driver's [`ConnectionManager`](redis::aio::ConnectionManager) answers a
//! request made while it has no connection (its reconnection failed: the server
//! restarting, full, or behind a proxy that resets new connections) with the error of
//! that failed connection, a reset or an end of stream, which reads as a request lost
//! after it left: every write of an outage was `Indeterminate` though none was sent.
//! So a slot is *suspect* once its connection closed (RESP3 tells: the slot's watcher
//! hears it) or a request on it failed at the I/O level, and the next request first
//! sends a `PING`: answered, the connection is up and the request goes; not answered,
//! the request fails without being sent, as `Unavailable`, and the engine may send it
//! again. The steady state sends no `PING`.
//!
//! The watcher also brings a closed connection back while the store is idle: the
//! driver reconnects at once by itself, but gives up after a few attempts and tries
//! again only when a request comes (and never, after the server refused the
//! connection's setup: a wrong password, too many clients); the watcher pings, at
//! pauses ([`Backoff`]), until the server answers, and replaces a connection whose
//! setup was refused.

use std::sync::Weak;
use std::sync::atomic::Ordering;

use redis::{PushInfo, PushKind, RedisError, RedisResult, Value};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::RedisConnection;
use crate::backoff::Backoff;
use crate::error::refused_at_setup;
use crate::pool::SlotState;

/// Where one slot's connections tell of pushes, their closing among them (RESP3).
pub(crate) struct Pushes(UnboundedReceiver<PushInfo>);

impl Pushes {
    /// A channel for one slot: the sender goes into its manager's config
    /// (`ConnectionManagerConfig::set_push_sender`), and into its replacements'.
    pub(crate) fn channel() -> (UnboundedSender<PushInfo>, Self) {
        let (sender, receiver) = unbounded_channel();
        (sender, Self(receiver))
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
/// answers on it again; ends when the store is dropped (the slot gone, or the channel
/// closed with its managers).
pub(crate) async fn watch(state: Weak<SlotState>, mut pushes: Pushes, index: usize) {
    while let Some(push) = pushes.0.recv().await {
        if push.kind != PushKind::Disconnection {
            continue;
        }
        match state.upgrade() {
            Some(state) => state.suspect.store(true, Ordering::Release),
            None => return,
        }
        tracing::debug!(
            connection = index,
            "connection closed: waiting for it to come back"
        );
        let mut backoff = Backoff::new();
        loop {
            let Some((generation, conn)) = state.upgrade().map(|state| state.get()) else {
                return;
            };
            match answered(&conn).await {
                Ok(()) => break,
                Err(err) => {
                    failed(index, &backoff, &err);
                    // The driver does not reconnect after a refusal: a new connection
                    // for the next ping.
                    if let (true, Some(state)) = (refused_at_setup(&err), state.upgrade()) {
                        state.replace_single(
                            generation,
                            index,
                            "the server refused the connection's setup",
                        );
                    }
                }
            }
            drop(conn);
            backoff.pause().await;
        }
        // A close after the ping is queued: the next turn marks the slot again.
        if let Some(state) = state.upgrade() {
            state.suspect.store(false, Ordering::Release);
        }
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

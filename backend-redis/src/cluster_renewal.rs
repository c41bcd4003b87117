//! A Redis Cluster slot of the pool opens a new cluster connection in the background
//! when its connection may be dead: one of its node connections closed, or a request
//! on it got no answer in time.
//!
//! Why: the cluster client reconnects to a node only after a request sent to it failed,
//! and a write that fails with `broken pipe` may have left, so it is `Indeterminate`.
//! After the cluster closed connections the store was not using (a node's `timeout`
//! setting, a restart, a proxy's idle limit), every write of the next burst was lost
//! that way (32 puts of 32, on the default pool). On RESP3 each node connection tells
//! the slot's client when it closes; the slot's watcher then opens a replacement before
//! the next request comes, and requests go on the new connection once it is open.
//! Requests in flight on the old one keep it until they end.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;

use redis::RedisResult;
use redis::cluster::ClusterClient;

use crate::RedisConnection;
use crate::backoff::Backoff;
use crate::liveness::Pushes;
use crate::pool::{Slot, SlotState};

/// Opens the connection of slot `index` with `client`, and starts its watcher when
/// the client sends notices.
pub(crate) async fn open(
    (client, notices): (ClusterClient, Option<Pushes>),
    index: usize,
) -> RedisResult<Slot> {
    let conn = client.get_async_connection().await?;
    let client = Arc::new(client);
    let slot = Slot::cluster(RedisConnection::Cluster(conn), client.clone());
    if let Some(notices) = notices {
        tokio::spawn(watch(
            Arc::downgrade(slot.state()),
            Arc::downgrade(&client),
            notices,
            index,
        ));
    }
    Ok(slot)
}

/// Opens a replacement for slot `index` in the background, unless one is being opened
/// already or (with `generation`) the slot's connection was replaced since.
pub(crate) fn spawn(
    state: &Arc<SlotState>,
    client: &Arc<ClusterClient>,
    index: usize,
    generation: Option<u64>,
) {
    if state.renewing.swap(true, Ordering::AcqRel) {
        return;
    }
    let (state, client) = (Arc::downgrade(state), Arc::downgrade(client));
    tokio::spawn(async move {
        renew(&state, &client, index, generation).await;
    });
}

/// Replaces the slot's connection for every notice of a closed connection, until the
/// store is dropped (the slot and the client gone, or the channel closed with them).
/// Holds neither strongly, so that a dropped store's watcher ends.
async fn watch(
    state: Weak<SlotState>,
    client: Weak<ClusterClient>,
    mut notices: Pushes,
    index: usize,
) {
    while notices.closed().await.is_some() {
        // The other nodes' connections of the same closed connection tell too, at
        // about the same moment: one replacement answers all the notices queued now.
        notices.drain();
        let Some(renewing) = state.upgrade().map(|state| {
            state.closed.store(true, Ordering::Release);
            state.renewing.swap(true, Ordering::AcqRel)
        }) else {
            return;
        };
        if renewing {
            continue;
        }
        tracing::debug!(
            connection = index,
            "a cluster connection closed: replacing it"
        );
        // Awaited here, not spawned: the notices that come meanwhile are then answered
        // by one more replacement after this one, never dropped while `renewing` is set.
        renew(&state, &client, index, None).await;
    }
}

/// Opens a new cluster connection and puts it in the slot (after a timeout, only if
/// the slot still holds the connection of `generation`), then clears `renewing` and
/// `closed`, and wakes the requests waiting for it ([`opened`]).
///
/// An attempt that fails (the cluster restarting, unreachable, refusing clients) is
/// made again after a pause, until one succeeds or the store is dropped: the old
/// connection's client reconnects a node only after a request to it failed, as
/// `broken pipe`, so a write sent there after the cluster came back would be
/// `Indeterminate` although it never left. Between attempts the task holds neither
/// the slot nor the client, so a dropped store ends it.
async fn renew(
    state: &Weak<SlotState>,
    client: &Weak<ClusterClient>,
    index: usize,
    generation: Option<u64>,
) {
    let mut backoff = Backoff::new();
    loop {
        let (Some(state), Some(client)) = (state.upgrade(), client.upgrade()) else {
            return;
        };
        match client.get_async_connection().await {
            Ok(conn) => {
                let mut current = state.current.lock().unwrap_or_else(PoisonError::into_inner);
                if generation.is_none_or(|generation| current.0 == generation) {
                    *current = (current.0 + 1, RedisConnection::Cluster(conn));
                    tracing::debug!(
                        connection = index,
                        failures = backoff.failures,
                        "cluster connection replaced"
                    );
                }
                drop(current);
                state.closed.store(false, Ordering::Release);
                state.renewing.store(false, Ordering::Release);
                state.renewed.notify_waiters();
                return;
            }
            Err(err) if backoff.failures == 0 => tracing::warn!(
                connection = index,
                %err,
                "could not open a replacement cluster connection; trying again until one opens"
            ),
            Err(err) => tracing::debug!(
                connection = index,
                failures = backoff.failures,
                %err,
                "could not open a replacement cluster connection"
            ),
        }
        drop((state, client));
        backoff.pause().await;
    }
}

/// Waits, at most `limit`, until the slot holds a connection that is not known to be
/// closed: at once unless one of its node connections closed and its replacement is
/// not open yet. `false` if it did not come in time.
///
/// Why: a request sent on the closed connection fails as `broken pipe`, which cannot
/// be told from a request that left before the close, so a write would be
/// `Indeterminate`; a request that waits goes on the replacement, or fails unsent.
pub(crate) async fn opened(state: &SlotState, limit: Duration) -> bool {
    // The common case, without registering a waiter (a lock).
    if !state.closed.load(Ordering::Acquire) {
        return true;
    }
    let renewed = state.renewed.notified();
    tokio::pin!(renewed);
    // Registered before the flag is read, so a replacement between the two wakes it.
    renewed.as_mut().enable();
    if !state.closed.load(Ordering::Acquire) {
        return true;
    }
    tokio::time::timeout(limit, renewed).await.is_ok()
}

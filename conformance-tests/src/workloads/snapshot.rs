//! The end of a workload: the proxy heals, the items are read, and read again after a
//! pause; anything written in between landed late.

use std::time::Duration;

use optimist_core::{Key, Value, Versioned, VersionedStore};

use crate::network::FaultProxy;

/// The items of a workload's keys, in the keys' order.
pub(super) type Snapshot = Vec<Option<Versioned<Value>>>;

/// How often a final read is tried, and how long apart: a client may take a moment to
/// reconnect once the proxy accepts again.
const READ_TRIES: u32 = 50;
const READ_PAUSE: Duration = Duration::from_millis(100);

/// The longest an answer held back by the proxy may take to be relayed.
const HELD_LIMIT: Duration = Duration::from_secs(60);

/// Heals the proxy, waits for the answers it still holds, reads every key, waits
/// `pause` and reads again: the second reading, and how many writes landed between
/// the two (none may: every call had returned).
pub(super) async fn settle<S: VersionedStore + ?Sized>(
    store: &S,
    proxy: &FaultProxy,
    keys: &[Key],
    pause: Duration,
) -> Result<(Snapshot, u64), String> {
    proxy
        .heal()
        .map_err(|err| format!("the proxy cannot accept again: {err}"))?;
    if !proxy.settled(HELD_LIMIT).await {
        return Err(format!(
            "the proxy still holds answers after {HELD_LIMIT:?}"
        ));
    }
    let first = read_all(store, keys).await?;
    tokio::time::sleep(pause).await;
    let second = read_all(store, keys).await?;
    let late = first
        .iter()
        .zip(&second)
        .map(|(before, after)| writes_between(before.as_ref(), after.as_ref()))
        .sum();
    Ok((second, late))
}

/// Writes between two readings of one key: the versions it advanced, at least 1 if
/// it changed at all.
fn writes_between(before: Option<&Versioned<Value>>, after: Option<&Versioned<Value>>) -> u64 {
    match (before, after) {
        (Some(a), Some(b)) if a == b => 0,
        (Some(a), Some(b)) => b.version.get().saturating_sub(a.version.get()).max(1),
        (None, None) => 0,
        _ => 1,
    }
}

async fn read_all<S: VersionedStore + ?Sized>(store: &S, keys: &[Key]) -> Result<Snapshot, String> {
    let mut items = Vec::with_capacity(keys.len());
    for key in keys {
        items.push(read(store, key).await?);
    }
    Ok(items)
}

async fn read<S: VersionedStore + ?Sized>(
    store: &S,
    key: &Key,
) -> Result<Option<Versioned<Value>>, String> {
    let mut last = String::new();
    for _ in 0..READ_TRIES {
        match store.get(key).await {
            Ok(item) => return Ok(item),
            Err(err) => last = err.to_string(),
        }
        tokio::time::sleep(READ_PAUSE).await;
    }
    Err(format!(
        "reading {key} after the proxy healed failed {READ_TRIES} times; last: {last}"
    ))
}

//! [`Storage::purge_tombstones`](optimist_core::Storage::purge_tombstones): a sweep
//! over the store's own keys. Other stores share the server, so the sweep walks only
//! this store's prefix (`SCAN MATCH {prefix}*`, or `{prefix/b*` on every primary of a
//! cluster); each step's keys go to `purge.lua`, which removes those that are, at that
//! moment, tombstones older than the bound.

use std::time::Duration;

use optimist_core::{Applied, StorageError};
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};

use crate::error::from_redis;
use crate::scripts::scripts;
use crate::{RedisConnection, RedisStore, layout, reply};

/// How many keys one `SCAN` step looks at (a hint to the server): small enough that
/// `purge.lua` on a step's keys never holds the server up for long.
const SCAN_COUNT: usize = 1000;

/// Walks the store's keys and removes its tombstones left more than `older_than` ago.
/// Two round trips per step (`SCAN`, then `purge.lua` when the step found hashes);
/// the server's clock judges the age, the same clock that stamped the tombstone. On a
/// cluster every primary is swept in turn (`SCAN` walks one node's keys), and each
/// step's keys go to `purge.lua` slot by slot (a script touches one slot).
pub(crate) async fn sweep(store: &RedisStore, older_than: Duration) -> Result<u64, StorageError> {
    let pattern = store.keys().pattern();
    let bound = bound_ms(older_than);
    let mut removed: u64 = 0;
    match store.connection() {
        RedisConnection::Cluster(mut cluster) => {
            let nodes = primaries(&mut cluster)
                .await
                .map_err(|err| from_redis(err, Applied::No))?;
            for (host, port) in nodes {
                let node = SingleNodeRoutingInfo::ByAddress { host, port };
                let mut cursor: u64 = 0;
                loop {
                    let step = scan_step(cursor, &pattern);
                    let reply = cluster
                        .route_command(step, RoutingInfo::SingleNode(node.clone()))
                        .await
                        .and_then(|reply| Ok(redis::from_redis_value(reply)?));
                    let (next, keys): (u64, Vec<Vec<u8>>) =
                        reply.map_err(|err| after(removed, from_redis(err, Applied::No)))?;
                    removed += purge(store, keys, &bound, removed).await?;
                    if next == 0 {
                        break;
                    }
                    cursor = next;
                }
            }
        }
        mut conn => {
            let mut cursor: u64 = 0;
            loop {
                let step: redis::RedisResult<(u64, Vec<Vec<u8>>)> =
                    scan_step(cursor, &pattern).query_async(&mut conn).await;
                let (next, keys) =
                    step.map_err(|err| after(removed, from_redis(err, Applied::No)))?;
                removed += purge(store, keys, &bound, removed).await?;
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
    }
    tracing::debug!(removed, ?older_than, "purged tombstones");
    Ok(removed)
}

/// One `SCAN` step over the store's hashes (items and tombstones are hashes; the
/// script checks again, as a key can change between the step and the script). A
/// prefix holds no glob character (see [`Prefix`](crate::Prefix)), and no other
/// store's key starts with the store's tag.
fn scan_step(cursor: u64, pattern: &[u8]) -> redis::Cmd {
    let mut cmd = redis::cmd("SCAN");
    cmd.arg(cursor)
        .arg("MATCH")
        .arg(pattern)
        .arg("COUNT")
        .arg(SCAN_COUNT)
        .arg("TYPE")
        .arg("hash");
    cmd
}

/// Runs `purge.lua` on a step's keys, one call per hash slot among them; how many it
/// removed. `before` is how many earlier steps removed.
async fn purge(
    store: &RedisStore,
    keys: Vec<Vec<u8>>,
    bound: &str,
    before: u64,
) -> Result<u64, StorageError> {
    let mut groups: Vec<(u16, Vec<Vec<u8>>)> = Vec::new();
    for key in keys {
        let slot = layout::slot(&key);
        match groups.iter_mut().find(|(s, _)| *s == slot) {
            Some((_, group)) => group.push(key),
            None => groups.push((slot, vec![key])),
        }
    }
    let mut removed = 0;
    for (_, group) in groups {
        let reply = store
            .run(&scripts().purge, &group, &[bound.as_bytes()])
            .await
            .map_err(|err| after(before + removed, from_redis(err, Applied::Maybe)))?;
        removed += reply::purged(reply).map_err(|err| after(before + removed, err))?;
    }
    Ok(removed)
}

/// The address of every primary of the cluster that serves slots, from
/// `CLUSTER NODES`.
async fn primaries(
    cluster: &mut redis::cluster_async::ClusterConnection,
) -> redis::RedisResult<Vec<(String, u16)>> {
    let nodes: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(cluster)
        .await?;
    Ok(parse_primaries(&nodes))
}

/// The primaries that serve slots in a `CLUSTER NODES` reply, one node a line:
/// `<id> <ip:port@bus-port[,hostname]> <flags> <primary> <ping> <pong> <epoch> <link>
/// <slot ranges…>`.
fn parse_primaries(nodes: &str) -> Vec<(String, u16)> {
    nodes
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let flags = fields.get(2)?;
            let serves_slots = fields.len() > 8;
            let primary = flags.split(',').any(|f| f == "master")
                && !flags.split(',').any(|f| f == "fail" || f == "noaddr");
            if !(primary && serves_slots) {
                return None;
            }
            let address = fields.get(1)?.split(['@', ',']).next()?;
            let (host, port) = address.rsplit_once(':')?;
            Some((host.to_string(), port.parse().ok()?))
        })
        .collect()
}

/// The bound in whole milliseconds, rounded up (the scripts' clock counts whole
/// milliseconds: rounding down could purge a tombstone younger than asked).
fn bound_ms(older_than: Duration) -> String {
    let nanos = older_than.as_nanos();
    let ms = nanos.div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX).to_string()
}

/// A failure after earlier steps removed tombstones has changed the store: it is
/// reported as maybe applied, whatever the failed step itself did.
fn after(removed: u64, err: StorageError) -> StorageError {
    if removed == 0 {
        return err;
    }
    let (kind, _, source) = err.into_parts();
    StorageError::maybe_applied(kind, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_rounds_up_to_whole_milliseconds() {
        assert_eq!(bound_ms(Duration::ZERO), "0");
        assert_eq!(bound_ms(Duration::from_micros(1)), "1");
        assert_eq!(bound_ms(Duration::from_millis(1500)), "1500");
        assert_eq!(bound_ms(Duration::from_nanos(1_500_000_001)), "1501");
        assert_eq!(bound_ms(Duration::MAX), u64::MAX.to_string());
    }

    #[test]
    fn primaries_are_the_masters_that_serve_slots() {
        let nodes = "a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460\n\
                     b2 127.0.0.1:7001@17001,host master - 0 0 2 connected 5461-10922\n\
                     c3 127.0.0.1:7002@17002 slave a1 0 0 1 connected\n\
                     d4 127.0.0.1:7003@17003 master,fail - 0 0 3 disconnected 10923-16383\n\
                     e5 127.0.0.1:7004@17004 master - 0 0 4 connected\n";
        assert_eq!(
            parse_primaries(nodes),
            vec![
                ("127.0.0.1".to_string(), 7000),
                ("127.0.0.1".to_string(), 7001)
            ]
        );
    }

    #[test]
    fn the_pattern_is_the_store_tag() {
        let step = scan_step(0, b"{orders:v1}*");
        let args: Vec<Vec<u8>> = step
            .args_iter()
            .filter_map(|a| match a {
                redis::Arg::Simple(bytes) => Some(bytes.to_vec()),
                _ => None,
            })
            .collect();
        assert!(args.iter().any(|a| a == b"{orders:v1}*"));
    }
}

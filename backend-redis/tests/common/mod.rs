//! What the integration tests share: the server from `OPTIMIST_REDIS_URL`, fresh
//! prefixes, and the skip-or-fail rule for an unreachable server.

#![allow(dead_code)] // each test binary uses a different part

use optimist_conformance::Unavailable;
use optimist_redis::RedisStore;
use rand::Rng;

/// The environment variable naming the test server.
pub const URL_VAR: &str = "OPTIMIST_REDIS_URL";

/// The server's URL, or why there is none.
pub fn url() -> Result<String, Unavailable> {
    env_url(URL_VAR, "Redis")
}

/// The URL in `var`, or why `server` has none.
fn env_url(var: &str, server: &str) -> Result<String, Unavailable> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Ok(url),
        _ => Err(Unavailable::new(server, format!("{var} is not set"))),
    }
}

/// A store on `url` under `prefix`, in tombstone mode or not; what fails names `server`
/// and the URL without its password.
async fn open(
    server: &str,
    url: String,
    prefix: String,
    tombstones: bool,
) -> Result<RedisStore, Unavailable> {
    RedisStore::builder()
        .url(url.clone())
        .prefix(prefix)
        .tombstones(tombstones)
        .build()
        .await
        .map_err(|e| {
            Unavailable::new(
                format!("{server} at {}", optimist_core::redact::redact_url(&url)),
                e.to_string(),
            )
        })
}

/// A builder for `url` on a fresh prefix that never resends a request, for tests
/// where a request must succeed on its first attempt.
pub fn no_retry_builder(url: &str) -> optimist_redis::RedisStoreBuilder {
    RedisStore::builder()
        .url(url)
        .prefix(fresh_prefix())
        .retry_policy(optimist_core::retry::RetryPolicy::no_retry())
}

/// `url` with one more query parameter (`name=value`).
pub fn with_parameter(url: &str, parameter: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{parameter}")
}

/// A prefix no other test uses.
pub fn fresh_prefix() -> String {
    format!("t-{:016x}", rand::thread_rng().r#gen::<u64>())
}

/// A store on a fresh prefix.
pub async fn store() -> Result<RedisStore, Unavailable> {
    open("Redis", url()?, fresh_prefix(), false).await
}

/// A store in tombstone mode on a fresh prefix.
pub async fn tombstone_store() -> Result<RedisStore, Unavailable> {
    open("Redis", url()?, fresh_prefix(), true).await
}

/// The store's key prefix opened again by a new store with new connections, after the
/// store was dropped: same prefix, same mode. The server is not restarted.
pub async fn reopen(store: RedisStore, tombstones: bool) -> Result<RedisStore, Unavailable> {
    let prefix = store.prefix().to_string();
    drop(store);
    open("Redis", url()?, prefix, tombstones).await
}

/// A store in tombstone mode for a backend-specific test, or `None` after printing
/// why the test skips; panics instead when `CI` or `OPTIMIST_REQUIRE_ALL` is set.
pub async fn tombstone_store_or_skip(test: &str) -> Option<RedisStore> {
    match tombstone_store().await {
        Ok(store) => Some(store),
        Err(why) => {
            skip_or_fail(test, &why);
            None
        }
    }
}

/// A store for a backend-specific test, or `None` after printing why the test skips;
/// panics instead when `CI` or `OPTIMIST_REQUIRE_ALL` is set.
pub async fn store_or_skip(test: &str) -> Option<RedisStore> {
    match store().await {
        Ok(store) => Some(store),
        Err(why) => {
            skip_or_fail(test, &why);
            None
        }
    }
}

/// Prints a skip line, or fails when the environment requires every server.
pub fn skip_or_fail(test: &str, why: &Unavailable) {
    if optimist_conformance::env::require_all() {
        panic!("{test}: {why} (CI or OPTIMIST_REQUIRE_ALL is set, so this fails)");
    }
    println!("skipped {test}: {why}");
}

pub mod admin;
pub mod proxy;

/// The environment variable naming the test cluster (a `redis+cluster://` URL).
pub const CLUSTER_URL_VAR: &str = "OPTIMIST_REDIS_CLUSTER_URL";

/// The cluster's URL, or why there is none.
pub fn cluster_url() -> Result<String, Unavailable> {
    env_url(CLUSTER_URL_VAR, "Redis Cluster")
}

/// The `redis://` URL of each node a `redis+cluster://` URL names, with its
/// credentials.
pub fn cluster_nodes(url: &str) -> Vec<String> {
    let rest = url
        .strip_prefix("redis+cluster://")
        .unwrap_or_else(|| panic!("not a redis+cluster:// URL"));
    let (user, hosts) = match rest.rsplit_once('@') {
        Some((user, hosts)) => (format!("{user}@"), hosts),
        None => (String::new(), rest),
    };
    let hosts = &hosts[..hosts.find(['/', '?', '#']).unwrap_or(hosts.len())];
    hosts
        .split(',')
        .map(|host| format!("redis://{user}{host}"))
        .collect()
}

/// A store on the cluster under `prefix`, in tombstone mode or not.
pub async fn cluster_store_at(prefix: String, tombstones: bool) -> Result<RedisStore, Unavailable> {
    open("Redis Cluster", cluster_url()?, prefix, tombstones).await
}

/// A store on the cluster on a fresh prefix.
pub async fn cluster_store() -> Result<RedisStore, Unavailable> {
    cluster_store_at(fresh_prefix(), false).await
}

/// A store on the cluster in tombstone mode on a fresh prefix.
pub async fn cluster_tombstone_store() -> Result<RedisStore, Unavailable> {
    cluster_store_at(fresh_prefix(), true).await
}

/// A store on the cluster for a backend-specific test, or `None` after printing why
/// the test skips; panics instead when `CI` or `OPTIMIST_REQUIRE_ALL` is set.
pub async fn cluster_store_or_skip(test: &str) -> Option<RedisStore> {
    match cluster_store().await {
        Ok(store) => Some(store),
        Err(why) => {
            skip_or_fail(test, &why);
            None
        }
    }
}

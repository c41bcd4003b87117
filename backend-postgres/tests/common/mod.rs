//! What the PostgreSQL tests share: the server's URL, fresh tables, and the skip rule.
#![allow(dead_code)] // each test file uses a part
#![allow(clippy::panic)] // tests fail by panicking

pub mod proxy;

use optimist_conformance::Unavailable;
use optimist_postgres::PostgresStore;

/// The variable scripts/services/postgres.sh exports.
pub const URL_VAR: &str = "OPTIMIST_POSTGRES_URL";

/// The server's URL, or why there is none.
pub fn url() -> Result<String, Unavailable> {
    std::env::var(URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| Unavailable::new("PostgreSQL", format!("{URL_VAR} is not set")))
}

/// A table name no other case uses.
pub fn fresh_table() -> String {
    format!("optimist_test_{:016x}", rand::random::<u64>())
}

/// A store on a fresh table of the test server.
pub async fn store() -> Result<PostgresStore, Unavailable> {
    store_in_mode(false).await
}

/// A store in tombstone mode on a fresh table of the test server.
pub async fn tombstone_store() -> Result<PostgresStore, Unavailable> {
    store_in_mode(true).await
}

async fn store_in_mode(tombstones: bool) -> Result<PostgresStore, Unavailable> {
    let url = url()?;
    PostgresStore::builder()
        .url(url)
        .table(fresh_table())
        .tombstones(tombstones)
        .build()
        .await
        .map_err(|e| Unavailable::new("PostgreSQL", e.to_string()))
}

/// The store's table opened again by a new store with new connections, after the old
/// store was closed and dropped: same table, same mode.
pub async fn reopen(store: PostgresStore, tombstones: bool) -> Result<PostgresStore, Unavailable> {
    let table = store.table().to_string();
    store.close().await;
    drop(store);
    PostgresStore::builder()
        .url(url()?)
        .table(table)
        .tombstones(tombstones)
        .build()
        .await
        .map_err(|e| Unavailable::new("PostgreSQL", e.to_string()))
}

/// `url` with its host and port replaced by 127.0.0.1:`port`, and the original
/// host:port (to point a [`proxy::Proxy`] at).
pub fn through(url: &str, port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host),
        None => (String::new(), authority),
    };
    let upstream = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    };
    (format!("{scheme}://{user}127.0.0.1:{port}{tail}"), upstream)
}

/// A counting [`proxy::Proxy`] in front of the server of `url`, and `url` pointed at it.
pub async fn proxied(url: &str) -> (proxy::Proxy, String) {
    let (_, upstream) = through(url, 0);
    let proxy = proxy::Proxy::start(upstream)
        .await
        .unwrap_or_else(|e| panic!("proxy starts: {e}"));
    let (proxied, _) = through(url, proxy.port);
    (proxy, proxied)
}

/// The password in the test server's URL, if it has one.
pub fn password(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let (userinfo, _) = rest.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    Some(password.to_string())
}

/// An error and every source under it, each with its `Display` and `Debug`: all a
/// caller can ever print of it.
pub fn everything_shown(err: &(dyn std::error::Error + 'static)) -> String {
    let mut shown = String::new();
    let mut next = Some(err);
    while let Some(err) = next {
        shown.push_str(&format!("{err}\n{err:?}\n"));
        next = err.source();
    }
    shown
}

/// The messages of an error and its sources, joined by ": ".
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut messages = vec![err.to_string()];
    let mut next = err.source();
    while let Some(err) = next {
        messages.push(err.to_string());
        next = err.source();
    }
    messages.join(": ")
}

/// Waits until the store has a connection idle: a connection closed after a failure is
/// replaced in the background, and a test that stalls the open connections needs the
/// replacement open first.
pub async fn idle(store: &PostgresStore) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while store.idle_connections() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no connection of the store became idle"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// The server's URL; without one the test fails under `CI`/`OPTIMIST_REQUIRE_ALL` and
/// otherwise returns `None` after printing why it skips.
pub fn url_or_skip(test: &str) -> Option<String> {
    match url() {
        Ok(url) => Some(url),
        Err(why) if optimist_conformance::env::require_all() => {
            panic!("{test}: {why} (CI or OPTIMIST_REQUIRE_ALL is set)")
        }
        Err(why) => {
            println!("skipped {test}: {why}");
            None
        }
    }
}

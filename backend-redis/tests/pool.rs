//! The blast radius of a lost connection: a store spreads its requests over a pool of
//! connections, so a connection lost with requests in flight fails only those, the
//! others are answered, and the lost connection is replaced. A connection whose answer
//! does not come within the response timeout is replaced too, never reused: a write
//! sent on it is `Indeterminate`, a read is sent again elsewhere.
//!
//! Every store here goes through a TCP proxy that numbers the connections it accepts,
//! counts the script calls each carries, holds their answers back on demand, and cuts
//! one connection alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::Duration;

use common::proxy::Proxy;
use optimist_core::{Error, Key, Version, VersionedStore};
use optimist_redis::RedisStore;
use serde_json::json;

/// Requests sent at once in the blast-radius tests.
const IN_FLIGHT: usize = 8;

/// A proxy to the test server and a store of `pool_size` connections through it, or
/// `None` after the skip line.
async fn through_proxy(
    test: &str,
    pool_size: usize,
    response_timeout: Duration,
) -> Option<(String, Proxy, RedisStore)> {
    let url = match common::url() {
        Ok(url) => url,
        Err(why) => {
            common::skip_or_fail(test, &why);
            return None;
        }
    };
    let proxy = Proxy::start(&url).await;
    let store = RedisStore::builder()
        .client(proxy.client())
        .prefix(common::fresh_prefix())
        .pool_size(pool_size)
        .response_timeout(response_timeout)
        .build()
        .await
        .unwrap_or_else(|e| panic!("build through the proxy: {e:?}"));
    assert_eq!(store.pool_size(), pool_size);
    assert_eq!(
        proxy.connections(),
        pool_size,
        "build opens every connection"
    );
    Some((url, proxy, store))
}

/// A store straight to the server, on the same prefix, to see what landed.
async fn direct(url: &str, store: &RedisStore) -> RedisStore {
    RedisStore::builder()
        .url(url)
        .prefix(store.prefix())
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Waits until the proxy has passed `calls` script calls to the server. A guard
/// against hanging, not a timed assertion: the calls are on their way already.
async fn until_sent(proxy: &Proxy, connections: usize, calls: usize) {
    for _ in 0..3000 {
        let sent: usize = (0..connections).map(|i| proxy.script_calls_on(i)).sum();
        if sent >= calls {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the requests never reached the server");
}

/// What became of the requests in flight when one connection was cut.
#[derive(Debug)]
struct Blast {
    /// Script calls on the cut connection.
    on_cut: usize,
    /// Requests answered `Ok`.
    ok: usize,
    /// Requests that failed `Indeterminate`.
    indeterminate: usize,
}

/// Sends [`IN_FLIGHT`] inserts at once with every answer held in the proxy, cuts the
/// busiest connection, releases the others, and counts the outcomes. Checks on the
/// way that every insert landed (the server ran each one; only answers were lost).
async fn cut_one_connection_under_load(url: &str, proxy: &Proxy, store: &RedisStore) -> Blast {
    let connections = store.pool_size();
    let before: Vec<usize> = (0..connections).map(|i| proxy.script_calls_on(i)).collect();
    for i in 0..connections {
        proxy.hold(i);
    }
    let keys: Vec<Key> = (0..IN_FLIGHT).map(|i| Key::new(format!("k{i}"))).collect();
    let requests: Vec<_> = keys
        .iter()
        .map(|key| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move { store.insert(&key, json!(1)).await })
        })
        .collect();
    let total: usize = before.iter().sum::<usize>() + IN_FLIGHT;
    until_sent(proxy, connections, total).await;

    let per_connection: Vec<usize> = (0..connections)
        .map(|i| proxy.script_calls_on(i) - before[i])
        .collect();
    let (cut, on_cut) = per_connection
        .iter()
        .copied()
        .enumerate()
        .max_by_key(|(_, calls)| *calls)
        .unwrap();
    println!("script calls in flight per connection: {per_connection:?}; cutting {cut}");
    proxy.cut(cut);
    for i in (0..connections).filter(|i| *i != cut) {
        proxy.release(i);
    }

    let mut blast = Blast {
        on_cut,
        ok: 0,
        indeterminate: 0,
    };
    for request in requests {
        match request.await.unwrap() {
            Ok(version) => {
                assert_eq!(version, Version::FIRST);
                blast.ok += 1;
            }
            Err(Error::Indeterminate { .. }) => blast.indeterminate += 1,
            Err(other) => panic!("expected Ok or Indeterminate, got {other:?}"),
        }
    }
    let direct = direct(url, store).await;
    for key in &keys {
        let item = direct.get(key).await.unwrap();
        assert_eq!(
            item.map(|i| i.version),
            Some(Version::FIRST),
            "{key} landed"
        );
    }
    println!("{blast:?}");
    blast
}

#[tokio::test]
async fn a_lost_connection_fails_only_the_requests_in_flight_on_it() {
    let Some((url, proxy, store)) = through_proxy(
        "a_lost_connection_fails_only_the_requests_in_flight_on_it",
        4,
        Duration::from_secs(30),
    )
    .await
    else {
        return;
    };
    let blast = cut_one_connection_under_load(&url, &proxy, &store).await;
    assert_eq!(blast.indeterminate, blast.on_cut, "{blast:?}");
    assert_eq!(blast.ok, IN_FLIGHT - blast.on_cut, "{blast:?}");
    assert!(
        blast.on_cut < IN_FLIGHT && blast.ok > 0,
        "the requests were spread over the pool: {blast:?}"
    );

    // The lost connection was replaced, not reused: every later request is answered,
    // one more connection was opened, and none goes to the cut one.
    let cut_calls: Vec<usize> = (0..4).map(|i| proxy.script_calls_on(i)).collect();
    for i in 0..IN_FLIGHT {
        let key = Key::new(format!("after-{i}"));
        assert_eq!(
            store.insert(&key, json!(2)).await.ok(),
            Some(Version::FIRST)
        );
    }
    assert_eq!(proxy.connections(), 5, "one replacement connection");
    let later: usize = proxy.script_calls_on(4);
    assert!(later > 0, "the replacement carries requests");
    let old: Vec<usize> = (0..4).map(|i| proxy.script_calls_on(i)).collect();
    let moved: usize = old.iter().zip(&cut_calls).map(|(a, b)| a - b).sum();
    assert_eq!(moved + later, IN_FLIGHT, "{old:?} {cut_calls:?} {later}");
}

#[tokio::test]
async fn with_one_connection_a_lost_connection_fails_every_request_in_flight() {
    // The blast radius before the pool, kept as the baseline the test above improves on.
    let Some((url, proxy, store)) = through_proxy(
        "with_one_connection_a_lost_connection_fails_every_request_in_flight",
        1,
        Duration::from_secs(30),
    )
    .await
    else {
        return;
    };
    let blast = cut_one_connection_under_load(&url, &proxy, &store).await;
    assert_eq!(
        (blast.on_cut, blast.indeterminate, blast.ok),
        (IN_FLIGHT, IN_FLIGHT, 0),
        "{blast:?}"
    );
}

/// Sends `op` on each connection of a 2-connection store in turn, with connection 0's
/// answers held back, until connection 0 has carried one request.
async fn on_the_silent_connection<T, F>(proxy: &Proxy, mut op: impl FnMut(usize) -> F) -> Vec<T>
where
    F: std::future::Future<Output = T>,
{
    let before = proxy.script_calls_on(0);
    proxy.hold(0);
    let mut outcomes = Vec::new();
    for i in 0..2 {
        outcomes.push(op(i).await);
        if proxy.script_calls_on(0) > before {
            break;
        }
    }
    assert_eq!(
        proxy.script_calls_on(0),
        before + 1,
        "one request on the silent connection"
    );
    outcomes
}

#[tokio::test]
async fn a_write_past_the_response_timeout_is_indeterminate_and_its_connection_replaced() {
    let timeout = Duration::from_millis(300);
    let Some((url, proxy, store)) =
        through_proxy("a_write_past_the_response_timeout", 2, timeout).await
    else {
        return;
    };
    let outcomes = on_the_silent_connection(&proxy, |i| {
        let store = store.clone();
        async move { store.insert(&Key::new(format!("k{i}")), json!(i)).await }
    })
    .await;
    let Some(Err(err @ Error::Indeterminate { .. })) = outcomes.last() else {
        panic!("the write on the silent connection: {outcomes:?}");
    };
    let driver = std::error::Error::source(err).and_then(|e| e.downcast_ref::<redis::RedisError>());
    assert!(driver.is_some_and(redis::RedisError::is_timeout), "{err:?}");
    assert!(
        outcomes[..outcomes.len() - 1].iter().all(Result::is_ok),
        "{outcomes:?}"
    );
    // It may have landed: here it did, the server ran it.
    let direct = direct(&url, &store).await;
    let last = Key::new(format!("k{}", outcomes.len() - 1));
    assert_eq!(
        direct.get(&last).await.unwrap().map(|i| i.version),
        Some(Version::FIRST)
    );

    // Replaced, not reused: later requests are all answered, on a new connection, and
    // none goes to the silent one.
    for i in 0..4 {
        let key = Key::new(format!("after-{i}"));
        assert_eq!(
            store.insert(&key, json!(i)).await.ok(),
            Some(Version::FIRST)
        );
    }
    assert_eq!(proxy.connections(), 3, "one replacement connection");
    assert_eq!(proxy.script_calls_on(0), 1);
    assert_eq!(proxy.script_calls_on(2), 2);
}

#[tokio::test]
async fn a_read_past_the_response_timeout_is_sent_again_on_another_connection() {
    let Some((_, proxy, store)) = through_proxy(
        "a_read_past_the_response_timeout",
        2,
        Duration::from_millis(300),
    )
    .await
    else {
        return;
    };
    let key = Key::new("k");
    // Written before the silence, on whichever connection.
    assert_eq!(
        store.insert(&key, json!(7)).await.ok(),
        Some(Version::FIRST)
    );
    let before = proxy.script_calls_on(0);
    let outcomes = on_the_silent_connection(&proxy, |_| {
        let (store, key) = (store.clone(), key.clone());
        async move { store.get(&key).await }
    })
    .await;
    // A read applied nothing: the timed-out one was sent again, on the other
    // connection, and answered. The caller never saw the timeout.
    for outcome in &outcomes {
        let item = outcome.as_ref().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            item.as_ref().map(|i| (&i.value, i.version)),
            Some((&json!(7), Version::FIRST))
        );
    }
    // The replacement opens with the slot's next request.
    for _ in 0..2 {
        assert!(store.get(&key).await.unwrap().is_some());
    }
    assert_eq!(proxy.connections(), 3, "the silent connection was replaced");
    assert_eq!(proxy.script_calls_on(0), before + 1, "and not used again");
}

#[tokio::test]
async fn a_given_manager_without_a_response_timeout_is_bounded_by_the_store() {
    let Some(url) = common::url()
        .map_err(|why| common::skip_or_fail("a_given_manager", &why))
        .ok()
    else {
        return;
    };
    let proxy = Proxy::start(&url).await;
    // A manager that would wait for ever.
    let config = optimist_redis::RedisStoreBuilder::default_config().set_response_timeout(None);
    let manager = redis::aio::ConnectionManager::new_with_config(proxy.client(), config)
        .await
        .unwrap();
    let store = RedisStore::builder()
        .connection(manager)
        .prefix(common::fresh_prefix())
        .response_timeout(Duration::from_millis(300))
        .retry_policy(optimist_core::retry::RetryPolicy::no_retry())
        .build()
        .await
        .unwrap();
    assert_eq!(store.pool_size(), 1);
    proxy.hold(0);
    let write = store.insert(&Key::new("w"), json!(1)).await;
    assert!(
        matches!(write, Err(Error::Indeterminate { .. })),
        "{write:?}"
    );
    let read = store.get(&Key::new("w")).await;
    assert!(
        matches!(
            read,
            Err(Error::Backend {
                kind: optimist_core::ErrorKind::Timeout,
                ..
            })
        ),
        "{read:?}"
    );
}

#[tokio::test]
async fn a_given_manager_is_one_connection() {
    let Some(url) = common::url()
        .map_err(|why| common::skip_or_fail("a_given_manager_is_one", &why))
        .ok()
    else {
        return;
    };
    let client = redis::Client::open(url).unwrap();
    let manager = redis::aio::ConnectionManager::new(client).await.unwrap();
    let err = RedisStore::builder()
        .connection(manager)
        .prefix("p")
        .pool_size(4)
        .build()
        .await
        .err();
    assert!(
        matches!(&err, Some(Error::Configuration { reason, .. }) if reason.contains("one connection")),
        "{err:?}"
    );
}

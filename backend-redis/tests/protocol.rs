//! Which protocol a store speaks, seen on the wire through a proxy: RESP3 when its URL
//! names none (so that a connection closed while idle is replaced at once, see
//! `idle_connections.rs`), the URL's own choice when it names one, and RESP2 when the
//! server does not speak RESP3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use common::proxy::Proxy;
use optimist_core::{Key, Version, VersionedStore};
use optimist_redis::RedisStore;
use serde_json::json;

/// A proxy to the test server, or `None` after the skip line; and the server's URL.
async fn proxy(test: &str) -> Option<(String, Proxy)> {
    match common::url() {
        Ok(url) => {
            let proxy = Proxy::start(&url).await;
            Some((url, proxy))
        }
        Err(why) => {
            common::skip_or_fail(test, &why);
            None
        }
    }
}

/// A store on `url`, checked to work: an insert and a read of it.
async fn working_store(url: String) -> RedisStore {
    let store = RedisStore::builder()
        .url(url)
        .prefix(common::fresh_prefix())
        .build()
        .await
        .unwrap_or_else(|e| panic!("build: {e:?}"));
    let key = Key::new("k");
    assert_eq!(store.insert(&key, json!(1)).await.unwrap(), Version::FIRST);
    let item = store.get(&key).await.unwrap().unwrap();
    assert_eq!(item.value, json!(1));
    store
}

#[tokio::test]
async fn a_url_that_names_no_protocol_speaks_resp3() {
    let Some((url, proxy)) = proxy("a_url_that_names_no_protocol_speaks_resp3").await else {
        return;
    };
    let store = working_store(proxy.url_through(&url)).await;
    let sent = proxy.take().commands;
    let hellos = sent.iter().filter(|c| *c == "HELLO").count();
    assert_eq!(
        hellos,
        store.pool_size(),
        "one HELLO per connection: {sent:?}"
    );
}

#[tokio::test]
async fn a_url_that_names_the_protocol_keeps_it() {
    let Some((url, proxy)) = proxy("a_url_that_names_the_protocol_keeps_it").await else {
        return;
    };
    working_store(common::with_parameter(
        &proxy.url_through(&url),
        "protocol=resp2",
    ))
    .await;
    let sent = proxy.take().commands;
    assert!(!sent.iter().any(|c| c == "HELLO"), "{sent:?}");
}

#[tokio::test]
async fn a_server_without_resp3_gets_a_store_on_resp2() {
    let Some((url, proxy)) = proxy("a_server_without_resp3_gets_a_store_on_resp2").await else {
        return;
    };
    proxy.refuse_hello();
    let store = working_store(proxy.url_through(&url)).await;
    let sent = proxy.take().commands;
    assert!(
        sent.iter().any(|c| c == "HELLO"),
        "RESP3 was asked for: {sent:?}"
    );
    // Every connection the store kept is on RESP2: its first command is not HELLO.
    let total = proxy.connections();
    let kept = total - store.pool_size()..total;
    for index in kept {
        let first = proxy.commands_on(index).first().cloned();
        assert_ne!(first.as_deref(), Some("HELLO"), "connection {index}");
    }
}

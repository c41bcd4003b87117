//! After the server forgets its scripts (SCRIPT FLUSH, a restart, a failover to a
//! replica that never loaded them), the first call of each script costs one more round
//! trip: EVALSHA answers NOSCRIPT, then EVAL runs and caches it. The next call is one
//! round trip again. Its own test binary: flushing the cache would disturb the exact
//! counts of round_trips.rs if both ran at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use common::proxy::{Proxy, Traffic};
use optimist_core::{Key, TxOp, Version, VersionedStore};
use optimist_redis::RedisStore;
use serde_json::json;

#[tokio::test]
async fn a_flushed_script_cache_costs_one_extra_round_trip_once() {
    let url = match common::url() {
        Ok(url) => url,
        Err(why) => return common::skip_or_fail("a_flushed_script_cache", &why),
    };
    let proxy = Proxy::start(&url).await;
    let store = RedisStore::builder()
        .connection(proxy.manager().await)
        .prefix(common::fresh_prefix())
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut conn = store.connection();
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let k = Key::new("k");
    let names = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let refetched = Traffic {
        commands: names(&["EVALSHA", "EVAL"]),
        turns: 2,
    };
    let cached = || Traffic {
        commands: names(&["EVALSHA"]),
        turns: 1,
    };
    proxy.reset();

    // write.lua: the first write after the flush sends it again, the next do not,
    // whatever operation they are (every single write runs write.lua).
    assert_eq!(store.insert(&k, json!(1)).await.ok(), Some(Version::FIRST));
    assert_eq!(proxy.take(), refetched, "first insert");
    assert_eq!(
        store.insert(&Key::new("k2"), json!(1)).await.ok(),
        Some(Version::FIRST)
    );
    assert_eq!(proxy.take(), cached(), "second insert");
    assert_eq!(store.put(&k, json!(2)).await.ok(), Some(Version::new(2)));
    assert_eq!(proxy.take(), cached(), "put");

    // read.lua and commit.lua: once each.
    let read = store.get(&k).await.ok().flatten().map(|i| i.version);
    assert_eq!(read, Some(Version::new(2)));
    assert_eq!(proxy.take(), refetched, "first get");
    assert!(store.get(&k).await.is_ok());
    assert_eq!(proxy.take(), cached(), "second get");
    let tx = || vec![TxOp::check(k.clone(), Version::new(2))];
    assert_eq!(
        store.transact(tx()).await.ok(),
        Some(vec![Some(Version::new(2))])
    );
    assert_eq!(proxy.take(), refetched, "first transaction");
    assert_eq!(
        store.transact(tx()).await.ok(),
        Some(vec![Some(Version::new(2))])
    );
    assert_eq!(proxy.take(), cached(), "second transaction");
}

//! An application proves its conflict handling with the memory backend's conflict
//! injection (`MemoryStore::before_next_write`): another writer's write lands between
//! the application's read and its write, here under the typed layer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::convert::Infallible;

use optimist_core::retry::RetryPolicy;
use optimist_core::typed::{Context, Entity};
use optimist_core::{ConflictKind, Key};
use optimist_memory::MemoryStore;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Entity, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Counter {
    #[entity(partition_key)]
    id: String,
    count: u64,
    #[entity(version)]
    version: Option<u64>,
}

impl Counter {
    fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            count: 0,
            version: None,
        }
    }
}

#[tokio::test]
async fn update_with_reapplies_the_change_over_an_injected_write() {
    let store = MemoryStore::new();
    let ctx = Context::new(store.clone());
    ctx.save(&mut Counter::new("c")).await.unwrap();

    // Another writer sets the count to 41 just before the application's write.
    store.before_next_write(&Key::new("c"), |current| {
        let mut value = current.cloned().unwrap_or_default();
        value["count"] = json!(41);
        Some(value)
    });
    let saved = ctx
        .update_with("c", &RetryPolicy::default(), |c: &mut Counter| {
            c.count += 1;
            Ok::<_, Infallible>(())
        })
        .await
        .unwrap();
    // The increment went onto the other writer's 41: no lost update.
    assert_eq!((saved.count, saved.version), (42, Some(3)));
}

#[tokio::test]
async fn a_plain_save_sees_the_injected_write_as_a_conflict() {
    let store = MemoryStore::new();
    let ctx = Context::new(store.clone());
    let mut counter = Counter::new("c");
    ctx.save(&mut counter).await.unwrap();

    store.before_next_write(&Key::new("c"), |_| Some(json!({"count": 7})));
    counter.count = 1;
    let err = ctx.save(&mut counter).await.unwrap_err();
    assert_eq!(
        err.conflict().map(|c| c.kind()),
        Some(ConflictKind::VersionMismatch)
    );
    let current: Counter = err.current().unwrap().unwrap();
    assert_eq!((current.count, current.version), (7, Some(2)));
    assert_eq!(
        counter.version,
        Some(1),
        "the failed save left the entity alone"
    );
}

#[tokio::test]
async fn an_injected_delete_makes_update_with_report_not_found() {
    let store = MemoryStore::new();
    let ctx = Context::new(store.clone());
    ctx.save(&mut Counter::new("c")).await.unwrap();

    store.before_next_write(&Key::new("c"), |_| None);
    let err = ctx
        .update_with::<Counter, _, _>("c", &RetryPolicy::default(), |c| {
            c.count += 1;
            Ok::<_, Infallible>(())
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.conflict().map(|c| c.kind()),
        Some(ConflictKind::NotFound)
    );
    assert!(store.is_empty());
}

#[tokio::test]
async fn injection_fires_once_and_only_on_its_key() {
    let store = MemoryStore::new();
    let ctx = Context::new(store.clone());
    let mut a = Counter::new("a");
    let mut b = Counter::new("b");
    ctx.save(&mut a).await.unwrap();
    ctx.save(&mut b).await.unwrap();

    store.before_next_write(&Key::new("a"), |_| Some(json!({"count": 5})));
    // Reads and writes to other keys do not fire it.
    ctx.load::<Counter>("a").await.unwrap();
    ctx.save(&mut b).await.unwrap();
    // A transaction touching `a` fires it, and fails all or nothing.
    let err = ctx
        .transaction()
        .save(&mut a)
        .save(&mut b)
        .commit()
        .await
        .unwrap_err();
    assert!(err.is_conflict());
    assert_eq!(b.version, Some(2));
    // Fired once: the retry with the current version succeeds.
    let mut a = ctx.load::<Counter>("a").await.unwrap().unwrap();
    ctx.save(&mut a).await.unwrap();
    assert_eq!((a.count, a.version), (5, Some(3)));
}

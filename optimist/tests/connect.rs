//! `optimist::connect` for the embedded backends, and the refusals that need no server.
//! (The networked schemes are tested against their servers in optimist-cli's
//! tests/connect.rs, which builds every backend.)

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use optimist::{Error, Key, StoreConfig, VersionedStore};
use serde_json::json;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// The reason of a configuration error, or a panic naming what came instead.
fn refusal(url: &str) -> String {
    match runtime().block_on(optimist::connect(url)) {
        Err(Error::Configuration { reason, .. }) => reason,
        Err(other) => panic!("{url}: expected a configuration error, got {other}"),
        Ok(_) => panic!("{url}: expected a configuration error, got a store"),
    }
}

#[test]
fn memory_and_sqlite_urls_give_working_stores() {
    let dir = std::env::temp_dir().join(format!("optimist-connect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("app.db");
    for url in [
        "memory://".to_string(),
        "memory://?tombstones=true".to_string(),
        "sqlite::memory:".to_string(),
        "sqlite::memory:?table=orders&tombstones=true".to_string(),
        format!("sqlite://{}?mode=rwc&table=orders", file.display()),
    ] {
        runtime().block_on(async {
            let store = optimist::connect(&url)
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            let key = Key::new("k");
            store.remove(&key).await.unwrap();
            let v1 = store.insert(&key, json!({"n": 1})).await.unwrap();
            assert_eq!(
                store.get(&key).await.unwrap().map(|i| i.version),
                Some(v1),
                "{url}"
            );
            let tombstones = url.contains("tombstones=true");
            assert_eq!(store.capabilities().tombstones, tombstones, "{url}");
        });
    }
    // The file store's item is still there for the next store on the file.
    runtime().block_on(async {
        let url = format!("sqlite://{}?mode=rw&table=orders", file.display());
        let store = optimist::connect(&url).await.unwrap();
        assert!(store.get(&Key::new("k")).await.unwrap().is_some());
    });
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn connect_from_env_needs_the_variable() {
    // The variable is not set by the test runner; the message names it.
    if std::env::var_os(optimist::URL_VAR).is_none() {
        match runtime().block_on(optimist::connect_from_env()) {
            Err(Error::Configuration { reason, .. }) => assert!(reason.contains("OPTIMIST_URL")),
            other => panic!("expected a configuration error, got {:?}", other.err()),
        }
    }
}

#[test]
fn bad_urls_are_refused_naming_the_problem() {
    for (url, says) in [
        ("mongodb://u:hunter22@db/app", "unknown scheme `mongodb`"),
        ("u:hunter22@db", "unknown scheme `u`"),
        ("hunter22", "not a store URL"),
        ("memory://somewhere", "no host or path"),
        ("memory://?tombstone=true", "unknown field `tombstone`"),
        ("sqlite://", "no database path"),
        ("sqlite://a.db?tabel=x", "unknown field `tabel`"),
        ("sqlite://a.db?tombstones=sometimes", "tombstones"),
        ("sqlite://a.db?mode=ro", "mode=ro"),
    ] {
        let reason = refusal(url);
        assert!(reason.contains(says), "{url}: {reason}");
        assert!(!reason.contains("hunter22"), "{url}: {reason}");
    }
}

#[test]
fn a_missing_sqlite_file_is_not_created_in_mode_rw() {
    let file = std::env::temp_dir().join(format!("optimist-connect-rw-{}.db", std::process::id()));
    let reason = refusal(&format!("sqlite://{}?mode=rw", file.display()));
    assert!(reason.contains("mode=rwc"), "{reason}");
    assert!(!file.exists());
}

#[cfg(not(feature = "postgres"))]
#[test]
fn a_backend_not_compiled_in_names_the_feature() {
    let reason = refusal("postgres://u:hunter22@127.0.0.1:1/db?table=t");
    assert!(reason.contains(r#"features = ["postgres"]"#), "{reason}");
    assert!(!reason.contains("hunter22"), "{reason}");
}

#[test]
fn configs_deserialize_from_a_service_config_file() {
    let config: StoreConfig =
        serde_json::from_str(r#"{"backend": "sqlite", "table": "orders", "tombstones": true}"#)
            .unwrap();
    assert_eq!(config.backend(), optimist::Backend::Sqlite);
    let err = serde_json::from_str::<StoreConfig>(r#"{"backend": "sqlite", "tabel": "orders"}"#)
        .unwrap_err();
    assert!(err.to_string().contains("unknown field `tabel`"), "{err}");
    let err = serde_json::from_str::<StoreConfig>(r#"{"backend": "cassandra"}"#).unwrap_err();
    assert!(err.to_string().contains("cassandra"), "{err}");
}

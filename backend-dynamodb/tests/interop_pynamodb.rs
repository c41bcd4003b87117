//! Interop with PynamoDB's own optimistic locking (a model with a `VersionAttribute`:
//! `save()` puts the whole item on the condition that the version is the one read, and
//! counts it up; `delete()` is conditional the same way) on the table optimist
//! writes, versioned in the same `version` attribute: each side sees the other's
//! versions and values, a stale write of either side is refused (saves, updates and
//! deletes), and in a race no increment is lost.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::Stdio;

use optimist_core::{Conflict, Error, Key, Version, VersionedStore};
use optimist_dynamodb::{DynamoDbStore, TableDescription};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// The Python service: its interpreter, the endpoint and the table.
#[derive(Clone)]
struct Pynamodb {
    python: String,
    endpoint: String,
    table: String,
}

impl Pynamodb {
    fn command(&self, mode: &str, count: usize) -> Command {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop_pynamodb.py");
        let mut command = Command::new(&self.python);
        command
            .arg(script)
            .args([&self.endpoint, &self.table, KEY, mode, &count.to_string()]);
        command
    }

    /// Runs the script in `mode` to its end; what it printed.
    async fn run(&self, mode: &str, count: usize) -> String {
        let output = self.command(mode, count).output().await.unwrap();
        assert!(
            output.status.success(),
            "PynamoDB script ({mode}) failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }
}

const KEY: &str = "item";

/// PynamoDB's model's table: keyed on `id`, versioned in `version`.
async fn shared_store(test: &str) -> Option<(DynamoDbStore, Pynamodb)> {
    let (python, endpoint) = common::python(test)?;
    let table = TableDescription::new(common::unique_table("pynamodb"), "id")
        .with_version_attribute("version");
    let name = table.name().to_string();
    let client = common::client()
        .map_err(|why| common::unavailable(test, why))
        .ok()?;
    match common::store_on(client, table).await {
        Ok(store) => Some((
            store,
            Pynamodb {
                python,
                endpoint,
                table: name,
            },
        )),
        Err(why) => {
            common::unavailable(test, why);
            None
        }
    }
}

#[tokio::test]
async fn optimist_and_pynamodb_take_turns() {
    let Some((store, pynamodb)) = shared_store("optimist_and_pynamodb_take_turns").await else {
        return;
    };
    let key = Key::new(KEY);
    let mut version = store
        .insert(&key, json!({"data": "optimist wrote 1", "count": 0}))
        .await
        .unwrap();
    for round in 0..3 {
        let said = pynamodb.run("turn", 1).await;
        assert_eq!(
            said,
            format!("read {} wrote {}", version.get(), version.get() + 1)
        );
        let item = store.get(&key).await.unwrap().unwrap();
        assert_eq!(item.version.get(), version.get() + 1);
        assert_eq!(
            item.value,
            json!({"data": format!("pynamodb saw {}", version.get()), "count": 0}),
            "optimist reads PynamoDB's item"
        );
        version = common::refused_then_written_over(&store, &key, version, item, round).await;
    }
}

#[tokio::test]
async fn a_pynamodb_save_of_an_item_optimist_changed_since_is_refused() {
    let test = "a_pynamodb_save_of_an_item_optimist_changed_since_is_refused";
    let Some((store, pynamodb)) = shared_store(test).await else {
        return;
    };
    let key = Key::new(KEY);
    let v1 = store.insert(&key, json!({"data": "first"})).await.unwrap();
    let v2 = stale_around(&pynamodb, "stale", async {
        store.update(&key, v1, json!({"data": "optimist's"})).await
    })
    .await
    .unwrap();
    let item = store.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (item.version, item.value),
        (v2, json!({"data": "optimist's"}))
    );

    // The same after a delete: PynamoDB's save does not bring the item back.
    let deleted = stale_around(&pynamodb, "stale", async { store.delete(&key, v2).await }).await;
    deleted.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), None);
}

/// PynamoDB reads the item, `write` runs, then PynamoDB saves (`mode` "stale") or
/// deletes ("stale-delete") what it read: refused.
async fn stale_around<T>(pynamodb: &Pynamodb, mode: &str, write: impl Future<Output = T>) -> T {
    let mut child = pynamodb
        .command(mode, 1)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let read = lines.next_line().await.unwrap();
    assert!(
        read.as_deref()
            .is_some_and(|line| line.starts_with("read ")),
        "{read:?}"
    );
    let written = write.await;
    stdin.write_all(b"go\n").await.unwrap();
    stdin.flush().await.unwrap();
    let said = lines.next_line().await.unwrap();
    assert_eq!(said.as_deref(), Some("refused"), "PynamoDB's {mode}");
    assert!(child.wait().await.unwrap().success());
    written
}

#[tokio::test]
async fn deletes_are_checked_both_ways() {
    let Some((store, pynamodb)) = shared_store("deletes_are_checked_both_ways").await else {
        return;
    };
    let key = Key::new(KEY);
    let v1 = store.insert(&key, json!({"data": "first"})).await.unwrap();
    assert_eq!(pynamodb.run("delete", 1).await, "deleted 1");
    assert_eq!(store.get(&key).await.unwrap(), None);
    // optimist's write of the version PynamoDB deleted is refused: the item is gone.
    let stale = store.update(&key, v1, json!({"data": "stale"})).await;
    assert!(
        matches!(
            stale,
            Err(Error::Conflict {
                conflict: Conflict::NotFound,
                ..
            })
        ),
        "{stale:?}"
    );
    assert_eq!(store.get(&key).await.unwrap(), None, "and wrote nothing");

    // PynamoDB creates the item anew at version 1; optimist sees it, and its insert
    // is refused with it.
    assert_eq!(pynamodb.run("create", 1).await, "created 1");
    let item = store.get(&key).await.unwrap().unwrap();
    assert_eq!(item.version, Version::FIRST);
    assert_eq!(item.value, json!({"data": "pynamodb created", "count": 0}));
    let again = store.insert(&key, json!({"data": "mine"})).await;
    match again {
        Err(Error::Conflict {
            conflict: Conflict::AlreadyExists { current, .. },
            ..
        }) => assert_eq!(current, item),
        other => panic!("expected the item to exist, got {other:?}"),
    }
    // And PynamoDB's create of an item that exists is refused.
    assert_eq!(pynamodb.run("create", 1).await, "refused");

    // optimist's delete of a version PynamoDB saved over is refused with its item.
    assert_eq!(pynamodb.run("turn", 1).await, "read 1 wrote 2");
    let theirs = store.get(&key).await.unwrap().unwrap();
    match store.delete(&key, Version::FIRST).await {
        Err(Error::Conflict {
            conflict: Conflict::VersionMismatch { current, .. },
            ..
        }) => assert_eq!(current, theirs),
        other => panic!("expected a version mismatch, got {other:?}"),
    }
    // PynamoDB's delete of a version optimist updated since is refused.
    let v3 = stale_around(&pynamodb, "stale-delete", async {
        store
            .update(&key, theirs.version, json!({"data": "optimist's"}))
            .await
    })
    .await
    .unwrap();
    let item = store.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (item.version, item.value),
        (v3, json!({"data": "optimist's"}))
    );
}

#[tokio::test]
async fn optimist_and_pynamodb_race_without_losing_an_update() {
    let test = "optimist_and_pynamodb_race_without_losing_an_update";
    let Some((store, pynamodb)) = shared_store(test).await else {
        return;
    };
    let increment = move |n: u64| {
        let pynamodb = pynamodb.clone();
        async move { pynamodb.run("increment", n as usize).await }
    };
    common::race_alongside(&store, &Key::new(KEY), 20, 2, increment).await;
}

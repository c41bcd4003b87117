//! Interop with a Python service on boto3 that does optimistic locking by hand, the
//! usual way (read the item, then `update_item` with a `ConditionExpression` on the
//! version attribute and `SET ... _version = _version + 1`), on one item: in turns,
//! each side sees the other's versions; in a race, no increment is lost.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use optimist_core::{Key, VersionedStore};
use optimist_dynamodb::{DynamoDbStore, TableDescription};
use serde_json::json;
use tokio::process::Command;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop_boto3.py")
}

async fn boto3(python: &str, endpoint: &str, table: &str, mode: &str, count: usize) -> String {
    let output = Command::new(python)
        .arg(script())
        .args([endpoint, table, "item", mode, &count.to_string()])
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "boto3 script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The Python service's table: keyed on `id`, versioned in `_version`.
async fn shared_store() -> Option<(DynamoDbStore, String, String, String)> {
    let (python, endpoint) = common::python("interop")?;
    let table = TableDescription::new(common::unique_table("interop"), "id")
        .with_version_attribute("_version");
    let name = table.name().to_string();
    let client = common::client()
        .map_err(|why| common::unavailable("interop", why))
        .ok()?;
    match common::store_on(client, table).await {
        Ok(store) => Some((store, python, endpoint, name)),
        Err(why) => {
            common::unavailable("interop", why);
            None
        }
    }
}

#[tokio::test]
async fn optimist_and_boto3_take_turns() {
    let Some((store, python, endpoint, table)) = shared_store().await else {
        return;
    };
    let key = Key::new("item");
    let mut version = store
        .insert(&key, json!({"data": "optimist wrote 1", "count": 0}))
        .await
        .unwrap();
    for round in 0..3 {
        let said = boto3(&python, &endpoint, &table, "turn", 1).await;
        assert_eq!(
            said,
            format!("read {} wrote {}", version.get(), version.get() + 1)
        );
        let item = store.get(&key).await.unwrap().unwrap();
        assert_eq!(
            item.version.get(),
            version.get() + 1,
            "optimist sees boto3's version"
        );
        assert_eq!(
            item.value["data"],
            json!(format!("python saw {}", version.get()))
        );
        version = common::refused_then_written_over(&store, &key, version, item, round).await;
    }
}

#[tokio::test]
async fn optimist_and_boto3_race_without_losing_an_update() {
    let Some((store, python, endpoint, table)) = shared_store().await else {
        return;
    };
    let increment = move |n: u64| {
        let (python, endpoint, table) = (python.clone(), endpoint.clone(), table.clone());
        async move { boto3(&python, &endpoint, &table, "increment", n as usize).await }
    };
    common::race_alongside(&store, &Key::new("item"), 20, 2, increment).await;
}

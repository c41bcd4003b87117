//! What the DynamoDB tests share: the server from the environment, clients, fresh tables.
#![allow(dead_code, clippy::panic, clippy::unwrap_used)] // tests fail by panicking

// The lost-answer tests' own interceptor proxy; the fault workloads use the
// conformance crate's proxy through `proxy`.
pub mod fault_proxy;
pub mod proxy;
pub mod strict;

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Config, Credentials, Region};
use optimist_conformance::Unavailable;
use optimist_core::{Conflict, Error, Key, Value, Version, Versioned, VersionedStore};
use optimist_dynamodb::{DynamoDbStore, DynamoDbStoreBuilder, TableDescription, create_table};
use serde_json::json;

/// The endpoint scripts/services/dynamodb.sh exports.
pub const ENDPOINT_VAR: &str = "OPTIMIST_DYNAMODB_ENDPOINT";

/// The share of the suite's default load run against the DynamoDB server: moto applies
/// about 50 requests a second (one at a time, see scripts/services/dynamodb.sh), so
/// the full load would take most of CI's time. Every case still runs; the races,
/// histories and property tests are smaller. `OPTIMIST_*` variables override it.
pub const LOAD_PERCENT: u32 = 20;

/// The endpoint, or why there is none.
pub fn endpoint() -> Result<String, Unavailable> {
    std::env::var(ENDPOINT_VAR)
        .ok()
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| {
            Unavailable::new(
                "DynamoDB",
                format!("{ENDPOINT_VAR} is not set (scripts/test starts moto and sets it)"),
            )
        })
}

/// The server's name as scripts/test reports it ("moto 5.2.5").
pub fn server_name() -> String {
    std::env::var("OPTIMIST_DYNAMODB_SERVER")
        .unwrap_or_else(|_| "a DynamoDB-compatible server".to_string())
}

/// Whether the server is moto, which refuses items over 405,000 bytes.
pub fn is_moto() -> bool {
    server_name().starts_with("moto")
}

/// What the tests run against, for the printed description.
pub fn describe(shape: &str) -> String {
    match endpoint() {
        Ok(endpoint) => format!(
            "DynamoDB API on {} at {endpoint}, {shape} table",
            server_name()
        ),
        Err(_) => format!("DynamoDB, {shape} table (no server configured)"),
    }
}

/// The SDK config for the test server: dummy credentials, us-east-1, and the retry
/// config `aws_config` gives a client (standard mode, 3 attempts), from which the
/// store takes its retry policy. (A client with none would give the store 1 attempt,
/// so the first race caught between a refusal and the read of its item would end the
/// operation with `Backend { kind: Contention }`.) Every request is checked as a strict
/// DynamoDB would ([`strict`]).
pub fn config_builder(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    Config::builder()
        .interceptor(strict::StrictRequests)
        .retry_config(RetryConfig::standard())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "AKIDTESTING",
            "test-secret-key",
            None,
            None,
            "optimist-tests",
        ))
}

/// A client for the test server.
pub fn client() -> Result<Client, Unavailable> {
    Ok(Client::from_conf(config_builder(&endpoint()?).build()))
}

/// The venv's python, with boto3 and PynamoDB (scripts/services/dynamodb.sh), and the
/// endpoint; `None` (after skipping or failing `test`) without them.
pub fn python(test: &str) -> Option<(String, String)> {
    let endpoint = match endpoint() {
        Ok(endpoint) => endpoint,
        Err(why) => {
            unavailable(test, why);
            return None;
        }
    };
    match std::env::var("OPTIMIST_DYNAMODB_PYTHON") {
        Ok(python) if !python.is_empty() => Some((python, endpoint)),
        _ => {
            let why = "OPTIMIST_DYNAMODB_PYTHON is not set (scripts/test sets it)";
            unavailable(
                test,
                Unavailable::new("Python with boto3 and PynamoDB", why),
            );
            None
        }
    }
}

/// A table name no other test uses.
pub fn unique_table(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}-{:08x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst),
        rand::random::<u32>()
    )
}

/// A description of a fresh table: hash-only, or hash and range.
pub fn description(prefix: &str, sort: bool) -> TableDescription {
    let table = TableDescription::new(unique_table(prefix), "pk");
    if sort {
        table.with_sort_key("sk")
    } else {
        table
    }
}

/// A store on a new table made through `client`.
pub async fn store_on(
    client: Client,
    table: TableDescription,
) -> Result<DynamoDbStore, Unavailable> {
    store_on_with(client, table, |builder| builder).await
}

/// A store on a new table made through `client`, with settings of the test's own.
pub async fn store_on_with(
    client: Client,
    table: TableDescription,
    settings: impl FnOnce(DynamoDbStoreBuilder) -> DynamoDbStoreBuilder,
) -> Result<DynamoDbStore, Unavailable> {
    let unavailable = |e: optimist_core::Error| {
        Unavailable::new(format!("DynamoDB ({})", server_name()), e.to_string())
    };
    create_table(&client, &table).await.map_err(unavailable)?;
    let builder = DynamoDbStore::builder(client, table);
    // moto refuses items over 405,000 bytes by its own count.
    let builder = if is_moto() {
        builder.max_item_bytes(405_000)
    } else {
        builder
    };
    settings(builder).connect().await.map_err(unavailable)
}

/// A store on a new table of the test server.
pub async fn fresh_store(sort: bool) -> Result<DynamoDbStore, Unavailable> {
    store_on(client()?, description("conformance", sort)).await
}

/// A store in tombstone mode on a new table of the test server.
pub async fn fresh_tombstone_store(sort: bool) -> Result<DynamoDbStore, Unavailable> {
    let table = description("tombstones", sort);
    store_on_with(client()?, table, |builder| builder.tombstones(true)).await
}

/// Skips (prints why) or, under CI / OPTIMIST_REQUIRE_ALL, fails.
/// The store's table opened again by a new store on a new client, after the store is
/// dropped: the same table description and mode, the table left as it is.
pub async fn reopen(store: DynamoDbStore) -> Result<DynamoDbStore, Unavailable> {
    let table = store.table_description().clone();
    let tombstones = store.tombstones();
    drop(store);
    let builder = DynamoDbStore::builder(client()?, table).tombstones(tombstones);
    let builder = if is_moto() {
        builder.max_item_bytes(405_000)
    } else {
        builder
    };
    builder
        .connect()
        .await
        .map_err(|e| Unavailable::new(format!("DynamoDB ({})", server_name()), e.to_string()))
}

pub fn unavailable(test: &str, why: Unavailable) {
    if optimist_conformance::env::require_all() {
        panic!("{test}: {why} (CI or OPTIMIST_REQUIRE_ALL is set, so this fails)");
    }
    println!("skipped {test}: {why}");
}

/// A race on the item at `key`: `processes` runs of another client (`increment(n)`:
/// one run, which makes `n` increments of `count` and answers `done ...`) and
/// `per_side` increments through `store`, all on one item created with a count of 0.
/// No increment is lost, and every write advanced the version by one.
pub async fn race_alongside<F, R>(
    store: &DynamoDbStore,
    key: &Key,
    per_side: u64,
    processes: u64,
    increment: F,
) where
    F: Fn(u64) -> R,
    R: Future<Output = String> + Send + 'static,
{
    store
        .insert(key, json!({"data": "race", "count": 0}))
        .await
        .unwrap();
    let runs: Vec<_> = (0..processes).map(|_| increment(per_side)).collect();
    let other_side = tokio::spawn(futures::future::join_all(runs));
    let conflicts = increment_alongside(store, key, per_side).await;
    for said in other_side.await.unwrap() {
        assert!(said.starts_with("done"), "{said}");
    }
    let total = per_side * (1 + processes);
    let item = store.get(key).await.unwrap().unwrap();
    assert_eq!(item.value["count"], json!(total), "no increment is lost");
    assert_eq!(
        item.version,
        Version::new(1 + total),
        "every write advanced the version by one"
    );
    println!("race: {total} increments, optimist retried {conflicts} times");
}

/// Increments the `count` of the item at `key` `times` through `store`, alongside
/// another client doing the same: from the moment the item shows that it has begun
/// (its count above 0: an interpreter takes longer to start than these increments to
/// finish, and the two sides must overlap), each conflict retried on the item it
/// carries, without a read. How many conflicts there were.
async fn increment_alongside(store: &DynamoDbStore, key: &Key, times: u64) -> u64 {
    let mut current = store.get(key).await.unwrap().unwrap();
    let mut polls = 0;
    while current.value["count"] == json!(0) {
        polls += 1;
        assert!(polls < 3000, "the other client made no increment in 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        current = store.get(key).await.unwrap().unwrap();
    }
    let mut conflicts = 0;
    for _ in 0..times {
        loop {
            let mut value = current.value.clone();
            value["count"] = json!(value["count"].as_u64().unwrap() + 1);
            match store.update(key, current.version, value.clone()).await {
                Ok(version) => {
                    current.version = version;
                    current.value = value;
                    break;
                }
                Err(Error::Conflict {
                    conflict: Conflict::VersionMismatch { current: now, .. },
                    ..
                }) => {
                    conflicts += 1;
                    current = now;
                }
                Err(other) => panic!("{other}"),
            }
        }
    }
    conflicts
}

/// In round `round` of taking turns with another client that wrote `theirs` over
/// `stale`: optimist's update of `stale` is refused with their item, and its update of
/// their version lands. The version it wrote.
pub async fn refused_then_written_over(
    store: &DynamoDbStore,
    key: &Key,
    stale: Version,
    theirs: Versioned<Value>,
    round: usize,
) -> Version {
    match store.update(key, stale, json!({"data": "stale"})).await {
        Err(Error::Conflict {
            conflict: Conflict::VersionMismatch { current, .. },
            ..
        }) => assert_eq!(current, theirs),
        other => panic!("round {round}: expected a version mismatch, got {other:?}"),
    }
    let data = format!("optimist saw {}", theirs.version.get());
    store
        .update(key, theirs.version, json!({"data": data, "count": 0}))
        .await
        .unwrap()
}

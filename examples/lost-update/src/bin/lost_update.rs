//! The lost update, prevented: the seeds' scenario on SQLite, step by step.
//!
//! Two clients read an order at version 1 and each adds a delivery. Client 2 saves
//! first. Without a version check client 1's save would silently wipe out client 2's
//! delivery; with optimist it is refused with a version mismatch that carries client
//! 2's item, so client 1 re-applies its change on top of it, without another read.
//!
//! Run: `cargo run -p optimist-examples --bin lost_update [path/to/db.sqlite]`
//! (no argument: an in-memory database). With `RUST_LOG=debug` it also prints the
//! span of every store operation: backend, operation, key, expected version, outcome
//! and the number of requests it took.

use optimist_core::{Conflict, Error, Key, Value, VersionedStore};
use optimist_sqlite::SqliteStore;
use serde_json::json;
use tracing_subscriber::EnvFilter;

/// Adds a delivery to an order document.
fn add_delivery(order: &Value, delivery: &str) -> Value {
    let mut order = order.clone();
    if let Some(deliveries) = order.get_mut("deliveries").and_then(Value::as_array_mut) {
        deliveries.push(json!(delivery));
    }
    order
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // Silent unless RUST_LOG asks; stderr, so the steps on stdout stay as they are.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("off")),
        )
        .with_writer(std::io::stderr)
        .init();
    let builder = SqliteStore::builder().table("order_deliveries");
    let store = match std::env::args().nth(1) {
        Some(path) => builder.path(path).build().await?,
        None => builder.memory().build().await?,
    };
    let key = Key::new("order-42");
    store.remove(&key).await?; // start clean when a file is reused

    let v1 = store
        .insert(&key, json!({"orderId": "order-42", "deliveries": []}))
        .await?;
    println!("1. order-42 created at version {}", v1.get());

    let client1 = store.get(&key).await?.ok_or_else(|| missing(&key))?;
    let client2 = store.get(&key).await?.ok_or_else(|| missing(&key))?;
    println!(
        "2. client 1 and client 2 both read order-42 at version {}",
        client1.version.get()
    );

    let change2 = add_delivery(&client2.value, "van, Monday");
    let v2 = store.update(&key, client2.version, change2).await?;
    println!(
        "3. client 2 adds \"van, Monday\" and saves: version {}",
        v2.get()
    );

    let change1 = add_delivery(&client1.value, "bike, Tuesday");
    let current = match store.update(&key, client1.version, change1).await {
        Err(Error::Conflict {
            conflict: Conflict::VersionMismatch { expected, current },
            ..
        }) => {
            println!(
                "4. client 1 adds \"bike, Tuesday\" and saves expecting version {}: refused, \
                 the order is at version {} with deliveries {}",
                expected.get(),
                current.version.get(),
                current.value["deliveries"]
            );
            current
        }
        Ok(version) => {
            println!(
                "4. client 1's stale save was accepted at version {}: a lost update!",
                version.get()
            );
            std::process::exit(1);
        }
        Err(other) => return Err(other),
    };

    let retried = add_delivery(&current.value, "bike, Tuesday");
    let v3 = store.update(&key, current.version, retried).await?;
    println!(
        "5. client 1 re-applies its change to the item the conflict carried: version {}",
        v3.get()
    );

    let last = store.get(&key).await?.ok_or_else(|| missing(&key))?;
    println!(
        "6. order-42 at version {}: deliveries {} (nothing lost)",
        last.version.get(),
        last.value["deliveries"]
    );
    Ok(())
}

fn missing(key: &Key) -> Error {
    Error::backend(
        "example",
        optimist_core::Operation::Get,
        Some(key),
        optimist_core::ErrorKind::Other,
        "the order vanished",
    )
}

//! `optimist demo URL`: the lost update of the README, prevented, on any store (on a
//! fresh table or prefix, removed at the end).

use optimist::{Conflict, Error, Key, Value, VersionedStore};
use serde_json::json;

use crate::check::runtime;
use crate::exit::{self, Failure};
use crate::io::Io;
use crate::namespace::Fresh;
use crate::target::Target;

/// Runs the six steps and prints each.
pub(crate) fn run(target: &Target, io: &mut Io) -> Result<u8, Failure> {
    let fresh = Fresh::new(target, "demo");
    let runtime = runtime()?;
    let outcome = runtime.block_on(async {
        let store = fresh.make().await.map_err(|err| Failure::setup(&err))?;
        let steps = steps(&*store).await;
        drop(store);
        steps.map_err(|err| Failure::failed(exit::one_line(&err)))
    });
    let removal = runtime.block_on(fresh.remove_all());
    // After a store that could not be made, its removal's echo of the same
    // failure is noise.
    let made = !matches!(&outcome, Err(failure) if failure.code == exit::BAD_INPUT);
    for failure in removal.failures.iter().filter(|_| made) {
        io.err(&format!("optimist: warning: {failure}\n"));
    }
    let lines = outcome?;
    let lost = lines.iter().any(|line| line.contains("lost update"));
    io.out(&lines.join("\n"));
    io.out("\n");
    Ok(if lost { exit::FAILED } else { exit::OK })
}

/// Adds a delivery to an order document.
fn add_delivery(order: &Value, delivery: &str) -> Value {
    let mut order = order.clone();
    if let Some(deliveries) = order.get_mut("deliveries").and_then(Value::as_array_mut) {
        deliveries.push(json!(delivery));
    }
    order
}

async fn steps(store: &dyn VersionedStore) -> Result<Vec<String>, Error> {
    let key = Key::new("order-42");
    let mut lines = Vec::new();
    let v1 = store
        .insert(&key, json!({"orderId": "order-42", "deliveries": []}))
        .await?;
    lines.push(format!("1. order-42 created at version {}", v1.get()));
    let client1 = read(store, &key).await?;
    let client2 = read(store, &key).await?;
    lines.push(format!(
        "2. client 1 and client 2 both read order-42 at version {}",
        client1.version.get()
    ));
    let v2 = store
        .update(
            &key,
            client2.version,
            add_delivery(&client2.value, "van, Monday"),
        )
        .await?;
    lines.push(format!(
        "3. client 2 adds \"van, Monday\" and saves: version {}",
        v2.get()
    ));
    let stale = add_delivery(&client1.value, "bike, Tuesday");
    let current = match store.update(&key, client1.version, stale).await {
        Err(Error::Conflict {
            conflict: Conflict::VersionMismatch { expected, current },
            ..
        }) => {
            lines.push(format!(
                "4. client 1 adds \"bike, Tuesday\" and saves expecting version {}: refused, \
                 the order is at version {} with deliveries {}",
                expected.get(),
                current.version.get(),
                current.value["deliveries"]
            ));
            current
        }
        Ok(version) => {
            lines.push(format!(
                "4. client 1's stale save was accepted at version {}: a lost update!",
                version.get()
            ));
            return Ok(lines);
        }
        Err(other) => return Err(other),
    };
    let v3 = store
        .update(
            &key,
            current.version,
            add_delivery(&current.value, "bike, Tuesday"),
        )
        .await?;
    lines.push(format!(
        "5. client 1 re-applies its change to the item the conflict carried: version {}",
        v3.get()
    ));
    let last = read(store, &key).await?;
    lines.push(format!(
        "6. order-42 at version {}: deliveries {} (nothing lost)",
        last.version.get(),
        last.value["deliveries"]
    ));
    Ok(lines)
}

async fn read(store: &dyn VersionedStore, key: &Key) -> Result<optimist::Versioned<Value>, Error> {
    store.get(key).await?.ok_or_else(|| {
        Error::backend(
            "demo",
            optimist::Operation::Get,
            Some(key),
            optimist::ErrorKind::Other,
            "the order vanished",
        )
    })
}

//! `BatchGetItem`'s `UnprocessedKeys`, answered by a proxy in front of the server in
//! place of the server's answer (moto answers every key at once below 16 MB): the
//! items answered are put back in the order asked whatever order they come in, only
//! the unprocessed keys are sent again, answers that process some keys are progress
//! however many they take, and a batch left wholly unprocessed as many times in a row
//! as the retry policy has attempts fails `Busy` with nothing written.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use optimist_conformance::network::{Fault, FaultProxy, http_response};
use optimist_core::retry::RetryPolicy;
use optimist_core::{Error, ErrorKind, Key, VersionedStore};
use optimist_dynamodb::{DynamoDbError, DynamoDbStore};
use serde_json::{Value, json};

/// Names each `BatchGetItem` by how many keys it asks for; other requests pass.
fn batch_gets(request: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(request);
    if !text.contains("DynamoDB_20120810.BatchGetItem") {
        return None;
    }
    let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let keys = serde_json::from_str::<Value>(body).ok().and_then(|body| {
        let tables = body.get("RequestItems")?.as_object()?.clone();
        Some(
            tables
                .values()
                .filter_map(|t| t["Keys"].as_array())
                .map(Vec::len)
                .sum::<usize>(),
        )
    });
    Some(match keys {
        Some(keys) => format!("BatchGetItem of {keys} keys"),
        None => "BatchGetItem".to_string(),
    })
}

/// A `BatchGetItem` answer of `items` with `unprocessed` keys, for `table`.
fn answer(table: &str, items: Vec<Value>, unprocessed: &[&str]) -> Fault {
    let keys: Vec<Value> = unprocessed
        .iter()
        .map(|k| json!({"pk": {"S": k}}))
        .collect();
    let mut body = json!({"Responses": {table: items}, "UnprocessedKeys": {}});
    if !keys.is_empty() {
        body["UnprocessedKeys"] = json!({table: {"Keys": keys, "ConsistentRead": true}});
    }
    Fault::Answer(http_response(
        200,
        &[("content-type", "application/x-amz-json-1.0")],
        body.to_string().as_bytes(),
    ))
}

/// An item as the service answers it: key, version, one attribute.
fn item(key: &str, version: u64, from: &str) -> Value {
    json!({"pk": {"S": key}, "version": {"N": version.to_string()}, "from": {"S": from}})
}

/// A store through a proxy that may answer `BatchGetItem`s itself, and the proxy.
async fn rig(test: &str, policy: RetryPolicy) -> Option<(DynamoDbStore, FaultProxy)> {
    let direct = match common::client() {
        Ok(client) => common::store_on(client, common::description("unprocessed", false)).await,
        Err(why) => Err(why),
    };
    let direct = match direct {
        Ok(direct) => direct,
        Err(why) => {
            common::unavailable(test, why);
            return None;
        }
    };
    for key in ["k1", "k2", "k3"] {
        direct
            .insert(&Key::new(key), json!({"from": "server"}))
            .await
            .unwrap();
    }
    let upstream = common::endpoint().unwrap();
    let upstream = upstream.trim_start_matches("http://").trim_end_matches('/');
    let proxy = FaultProxy::builder(upstream)
        .target(batch_gets)
        .start()
        .await
        .unwrap();
    let client =
        Client::from_conf(common::config_builder(&format!("http://{}", proxy.address())).build());
    let store = DynamoDbStore::builder(client, direct.table_description().clone())
        .retry_policy(policy)
        .build()
        .unwrap();
    Some((store, proxy))
}

#[tokio::test]
async fn answers_come_back_in_order_and_only_unprocessed_keys_are_sent_again() {
    // Two attempts, and three requests needed: each answer processes some keys.
    let policy = RetryPolicy::new(2, Duration::from_millis(1), Duration::from_millis(5));
    let Some((store, proxy)) = rig("unprocessed keys", policy).await else {
        return;
    };
    let table = store.table().to_string();
    proxy.inject([
        // k3 and k1, in that order; k2 and k4 left unprocessed.
        answer(
            &table,
            vec![item("k3", 7, "answer"), item("k1", 4, "answer")],
            &["k2", "k4"],
        ),
        // k4 processed (it holds nothing), k2 left again.
        answer(&table, vec![], &["k2"]),
    ]);
    let keys = [
        Key::new("k1"),
        Key::new("k2"),
        Key::new("k3"),
        Key::new("k4"),
    ];
    let items = store.get_many(&keys).await.unwrap();
    let got: Vec<Option<(Value, u64)>> = items
        .into_iter()
        .map(|i| i.map(|i| (i.value, i.version.get())))
        .collect();
    assert_eq!(
        got,
        vec![
            Some((json!({"from": "answer"}), 4)),
            Some((json!({"from": "server"}), 1)),
            Some((json!({"from": "answer"}), 7)),
            None,
        ]
    );
    assert_eq!(proxy.pending(), 0);
    assert_eq!(
        proxy.forwarded(),
        ["BatchGetItem of 1 keys"],
        "the proxy answered two requests; only k2 went on, to the server"
    );
}

#[tokio::test]
async fn keys_still_unprocessed_after_the_policys_attempts_are_a_busy_read() {
    let policy = RetryPolicy::new(2, Duration::from_millis(1), Duration::from_millis(5));
    let Some((store, proxy)) = rig("unprocessed keys exhausted", policy).await else {
        return;
    };
    let table = store.table().to_string();
    // A read: one answer processing k3 (progress), then two processing nothing (the
    // policy's attempts). The engine sends the read again once (the same policy).
    let first = || answer(&table, vec![item("k3", 1, "answer")], &["k1", "k2"]);
    let stuck = || answer(&table, vec![], &["k1", "k2"]);
    proxy.inject([first(), stuck(), stuck(), first(), stuck(), stuck()]);
    let keys = [Key::new("k1"), Key::new("k2"), Key::new("k3")];
    let err = store.get_many(&keys).await.unwrap_err();
    let Error::Backend {
        kind,
        retryable,
        ref source,
        ..
    } = err
    else {
        panic!("expected a Backend error, got {err:?}");
    };
    assert_eq!(kind, ErrorKind::Busy);
    assert!(!retryable, "the store spent its attempts on it");
    assert!(
        matches!(
            source.downcast_ref::<DynamoDbError>(),
            Some(DynamoDbError::UnprocessedKeys {
                unprocessed: 2,
                requests: 3
            })
        ),
        "{source:?}"
    );
    assert_eq!(
        proxy.pending(),
        0,
        "every injected answer was used: 2 reads of 3 requests"
    );
    assert!(proxy.forwarded().is_empty(), "{:?}", proxy.forwarded());
    // Nothing was written: the server still answers every key.
    let direct =
        DynamoDbStore::builder(common::client().unwrap(), store.table_description().clone())
            .build()
            .unwrap();
    assert!(
        direct
            .get_many(&keys)
            .await
            .unwrap()
            .iter()
            .all(Option::is_some)
    );
}

//! A server that accepts connections and never answers cannot hang a caller (issue of
//! lost answers, contract R12): every request of the store is bounded by its
//! `response_timeout`, even on a client whose config sets no timeout at all. No
//! DynamoDB server is needed: the silent server is a local listener.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use optimist_core::retry::RetryPolicy;
use optimist_core::{ErrorKind, Key, VersionedStore};
use optimist_dynamodb::{DynamoDbStore, TableDescription};
use tokio::net::TcpListener;

/// A listener that accepts every connection and keeps it open without a word.
async fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{address}")
}

fn store(endpoint: &str, timeout: Option<Duration>) -> DynamoDbStore {
    // `config_builder` sets no timeout: only the store's bounds the requests.
    let client = Client::from_conf(common::config_builder(endpoint).build());
    let builder = DynamoDbStore::builder(client, TableDescription::new("silent", "pk"))
        .retry_policy(RetryPolicy::new(2, Duration::ZERO, Duration::ZERO));
    match timeout {
        Some(timeout) => builder.response_timeout(timeout),
        None => builder,
    }
    .build()
    .unwrap()
}

#[tokio::test]
async fn a_silent_server_times_out_reads_and_writes() {
    let endpoint = silent_server().await;
    let store = store(&endpoint, Some(Duration::from_millis(200)));
    let key = Key::new("k");
    let err = tokio::time::timeout(Duration::from_secs(30), store.get(&key))
        .await
        .expect("the read is bounded by the response timeout")
        .unwrap_err();
    assert_eq!(err.backend_kind(), Some(ErrorKind::Timeout), "{err}");
    let err = tokio::time::timeout(
        Duration::from_secs(30),
        store.insert(&key, serde_json::json!({"n": 1})),
    )
    .await
    .expect("the write is bounded by the response timeout")
    .unwrap_err();
    // It may have reached the server, and the read that would settle it times out too.
    assert!(err.is_indeterminate(), "{err}");
}

#[test]
fn the_default_comes_from_the_client_or_is_ten_seconds() {
    let store = store("http://127.0.0.1:9", None);
    assert_eq!(
        store.response_timeout(),
        DynamoDbStore::DEFAULT_RESPONSE_TIMEOUT
    );
    let config = common::config_builder("http://127.0.0.1:9")
        .timeout_config(
            aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(3))
                .build(),
        )
        .build();
    let store = DynamoDbStore::builder(
        Client::from_conf(config),
        TableDescription::new("orders", "pk"),
    )
    .build()
    .unwrap();
    assert_eq!(store.response_timeout(), Duration::from_secs(3));
    let zero = DynamoDbStore::builder(
        Client::from_conf(common::config_builder("http://127.0.0.1:9").build()),
        TableDescription::new("orders", "pk"),
    )
    .response_timeout(Duration::ZERO)
    .build();
    match zero {
        Err(optimist_core::Error::Configuration { reason, .. }) => {
            assert!(reason.contains("response timeout"), "{reason}");
        }
        other => panic!("a zero response timeout: {other:?}"),
    }
}

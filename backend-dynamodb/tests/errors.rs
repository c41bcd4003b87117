//! Error mapping against a scripted fake DynamoDB endpoint on loopback: throttling
//! (resent, then `Busy`), 5xx (resent on a read; on a write, the engine reads the key
//! to settle it, and the write stays `Indeterminate` unless the read proves it was not
//! applied, or that another writer took its state: a conflict), timeouts after
//! sending, refused connections, a resent write whose resend fails its condition, and
//! credentials kept out of every message.
//!
//! Resends follow the store's retry policy, derived from the client's retry config; a
//! failure that used up the policy's attempts is reported with `retryable: false` (the
//! store already spent its budget on it).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Config, Credentials, Region};
use optimist_core::{Conflict, Error, ErrorKind, Key, TxOp, Version, VersionedStore};
use optimist_dynamodb::{DynamoDbError, DynamoDbStore, TableDescription};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

const SECRET: &str = "wJalrXUtnFEMI-very-secret-key";
const TOKEN: &str = "session-token-do-not-print";
const KEY_ID: &str = "AKIAEXAMPLEKEYID1234";

/// What the fake server does with a request.
#[derive(Clone)]
enum Reply {
    /// Answer with this status, error type and JSON body.
    Answer(u16, &'static str, String),
    /// Read the request and never answer.
    Hang,
}

/// Serves `script` in order (the last entry repeats); returns the endpoint and a
/// counter of requests received.
async fn fake_server(script: Vec<Reply>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let script = script.clone();
            let counter = counter.clone();
            tokio::spawn(async move { serve(socket, script, counter).await });
        }
    });
    (endpoint, seen)
}

async fn serve(mut socket: TcpStream, script: Vec<Reply>, counter: Arc<AtomicUsize>) {
    let mut buffer = Vec::new();
    loop {
        // Read one request: headers, then Content-Length bytes.
        let mut chunk = [0u8; 8192];
        let (head_end, length) = loop {
            if let Some(end) = find(&buffer, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (end + 4, length);
            }
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        while buffer.len() < head_end + length {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        buffer.drain(..head_end + length);
        let index = counter.fetch_add(1, Ordering::SeqCst);
        let reply = script[index.min(script.len() - 1)].clone();
        match reply {
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                return;
            }
            Reply::Answer(status, error_type, body) => {
                let mut response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n",
                    body.len()
                );
                if !error_type.is_empty() {
                    response.push_str(&format!("x-amzn-errortype: {error_type}\r\n"));
                }
                response.push_str("\r\n");
                response.push_str(&body);
                if socket.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn error_body(error_type: &str, message: &str) -> String {
    json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{error_type}"), "message": message})
        .to_string()
}

/// A client of the fake endpoint: secret credentials, fast retries, short timeouts.
fn client(endpoint: &str, attempts: u32) -> Client {
    let config = Config::builder()
        .interceptor(common::strict::StrictRequests)
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            KEY_ID,
            SECRET,
            Some(TOKEN.to_string()),
            None,
            "test",
        ))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(100))
                .operation_attempt_timeout(Duration::from_millis(300))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

/// A store on the fake endpoint through [`client`].
fn store(endpoint: &str, attempts: u32) -> DynamoDbStore {
    DynamoDbStore::builder(
        client(endpoint, attempts),
        TableDescription::new("fake-table", "pk"),
    )
    .build()
    .unwrap()
}

fn assert_no_secret(err: &Error) {
    for text in [err.to_string(), format!("{err:?}")] {
        for secret in [SECRET, TOKEN] {
            assert!(
                !text.contains(secret),
                "a credential leaked into an error: {text}"
            );
        }
    }
}

/// The kind of a backend error that is not (or, once the store spent its resends on
/// it, no longer) retryable: nothing was written.
fn not_retryable_kind(err: &Error) -> ErrorKind {
    match err {
        Error::Backend {
            kind,
            retryable: false,
            ..
        } => *kind,
        other => panic!("expected a backend error with no retry left, got {other}"),
    }
}

/// The error and its causes, as one line.
fn chain(err: &Error) -> String {
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(err);
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

fn source_of(err: &Error) -> &DynamoDbError {
    let source = match err {
        Error::Backend { source, .. } | Error::Indeterminate { source, .. } => source,
        other => panic!("expected a backend error, got {other}"),
    };
    source
        .downcast_ref::<DynamoDbError>()
        .unwrap_or_else(|| panic!("source is not a DynamoDbError: {source}"))
}

#[tokio::test]
async fn throttling_is_resent_then_reported_busy() {
    let throttled = Reply::Answer(
        400,
        "ProvisionedThroughputExceededException",
        error_body("ProvisionedThroughputExceededException", "slow down"),
    );
    let (endpoint, seen) = fake_server(vec![throttled]).await;
    let store = store(&endpoint, 3);
    let err = store
        .update(&Key::new("k"), Version::FIRST, json!({"a": 1}))
        .await
        .unwrap_err();
    assert_eq!(not_retryable_kind(&err), ErrorKind::Busy, "{err}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        3,
        "a throttled write is resent as often as the client's retry config allows"
    );
    assert!(!err.is_conflict());
    assert!(
        matches!(source_of(&err), DynamoDbError::Service { code, .. } if code == "ProvisionedThroughputExceededException"),
        "{err}"
    );
    assert_no_secret(&err);
}

#[tokio::test]
async fn server_errors_are_resent_on_reads_and_indeterminate_on_writes() {
    let failing = Reply::Answer(
        500,
        "InternalServerError",
        error_body("InternalServerError", "oops"),
    );
    let (endpoint, seen) = fake_server(vec![failing]).await;
    let store = store(&endpoint, 2);
    let err = store.get(&Key::new("k")).await.unwrap_err();
    assert_eq!(not_retryable_kind(&err), ErrorKind::Unavailable, "{err}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        2,
        "a read is resent as often as the client's retry config allows"
    );
    // A write answered 500 may have been applied: the engine reads the key to settle
    // it (a read, resent as the policy allows), the read fails too, so the write is
    // indeterminate and never resent: one write, then two attempts of the read.
    let before = seen.load(Ordering::SeqCst);
    let err = store
        .transact(vec![TxOp::remove(Key::new("k"))])
        .await
        .unwrap_err();
    assert!(err.is_indeterminate(), "{err}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        before + 1 + 2,
        "write sent once"
    );
    assert_no_secret(&err);
    let before = seen.load(Ordering::SeqCst);
    let err = store
        .update(&Key::new("k"), Version::FIRST, json!({"a": 1}))
        .await
        .unwrap_err();
    assert!(err.is_indeterminate(), "{err}");
    assert!(
        matches!(source_of(&err), DynamoDbError::Service { code, .. } if code == "InternalServerError"),
        "{err}"
    );
    assert_eq!(
        seen.load(Ordering::SeqCst),
        before + 1 + 2,
        "write sent once"
    );
}

#[tokio::test]
async fn a_write_timing_out_after_sending_is_indeterminate() {
    let (endpoint, seen) = fake_server(vec![Reply::Hang]).await;
    // The client would retry 3 times; a write is never resent after a timeout.
    let store = store(&endpoint, 3);
    let err = store
        .insert(&Key::new("k"), json!({"a": 1}))
        .await
        .unwrap_err();
    assert!(err.is_indeterminate(), "{err}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1 + 3,
        "the write reached the server once, then the read settling it 3 times (all timed out)"
    );
    assert_no_secret(&err);
    // A read that times out wrote nothing: resent, then a timeout, not indeterminate.
    let err = store.get(&Key::new("k")).await.unwrap_err();
    assert_eq!(not_retryable_kind(&err), ErrorKind::Timeout, "{err}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1 + 3 + 3,
        "the read was sent 3 times"
    );
}

#[tokio::test]
async fn a_refused_connection_is_unavailable_not_indeterminate() {
    // Bind and drop a listener, so nothing listens on the port.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    a_put_is_not_sent(&endpoint).await;
}

/// A put on `endpoint` fails as `Unavailable` (nothing sent, so resent until the
/// store's attempts are spent), from the request, with no secret shown.
async fn a_put_is_not_sent(endpoint: &str) {
    let err = store(endpoint, 1)
        .put(&Key::new("k"), json!({"a": 1}))
        .await
        .unwrap_err();
    assert_eq!(not_retryable_kind(&err), ErrorKind::Unavailable, "{err}");
    assert!(
        matches!(source_of(&err), DynamoDbError::Request { .. }),
        "{err}"
    );
    assert_no_secret(&err);
}

#[tokio::test]
async fn a_connection_that_never_opens_is_unavailable_not_indeterminate() {
    // A listener whose queue holds one connection it never accepts: once that is
    // queued, the server drops the next connection's SYN, so the store's connecting
    // times out (100 ms) and its request is never written.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = socket.local_addr().unwrap();
    let _listener = socket.listen(0).unwrap();
    let mut queued = Vec::new();
    let connect = || tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(address));
    while let Ok(Ok(conn)) = connect().await {
        queued.push(conn);
        assert!(queued.len() < 8, "the listener's queue never filled");
    }
    a_put_is_not_sent(&format!("http://{address}")).await;
}

/// A 500 to a write, then this answer to the read that settles it.
fn lost_then_read(read: serde_json::Value) -> Vec<Reply> {
    vec![
        Reply::Answer(
            500,
            "InternalServerError",
            error_body("InternalServerError", "lost answer"),
        ),
        Reply::Answer(200, "", read.to_string()),
    ]
}

/// An insert answered 500, then the settling read answered `read`: the engine can
/// tell nothing, so the insert is `Indeterminate` and never resent.
async fn insert_answered_500_then_read_is_indeterminate(read: serde_json::Value) {
    let (endpoint, seen) = fake_server(lost_then_read(read)).await;
    let store = store(&endpoint, 3);
    let err = store
        .insert(&Key::new("k"), json!({"a": 1}))
        .await
        .unwrap_err();
    assert!(err.is_indeterminate(), "expected Indeterminate, got {err}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        2,
        "the write once, one read, no resend"
    );
}

#[tokio::test]
async fn a_write_answered_500_is_not_resent_when_the_key_moved_on_without_it() {
    // The first attempt may have been applied and is answered with a 500: the engine
    // reads the key. It holds an item at version 2 without the write's token: the
    // insert may have landed and been updated since, or not: never resent (a resend
    // would fail its condition on what may be the caller's own write), never reported
    // as nothing-written.
    let later = json!({"Item": {"pk": {"S": "k"}, "a": {"N": "1"}, "version": {"N": "2"}}});
    insert_answered_500_then_read_is_indeterminate(later).await;
}

#[tokio::test]
async fn a_write_answered_500_whose_state_another_writer_took_is_indeterminate_for_an_insert() {
    // The read finds another writer's version 1 (no token of ours). Without tombstones
    // that proves nothing for an insert: ours may have landed, been deleted by another
    // client, and the key inserted again. Never resent, never a conflict.
    let theirs = json!({"Item": {"pk": {"S": "k"}, "a": {"N": "7"}, "version": {"N": "1"}}});
    insert_answered_500_then_read_is_indeterminate(theirs).await;
}

#[tokio::test]
async fn a_write_answered_500_on_an_empty_key_is_indeterminate_for_an_insert() {
    // The read after the 500 finds the key empty. Without tombstones that proves
    // nothing for an insert: it may have landed and been deleted since by another
    // client, and a resend would apply it twice. Never resent.
    insert_answered_500_then_read_is_indeterminate(json!({})).await;
}

#[tokio::test]
async fn a_resend_after_throttling_that_fails_its_condition_is_a_real_conflict() {
    // The throttled attempt applied nothing, so the resend's failed condition is
    // another writer's doing: a conflict carrying the item.
    let mut refused = json!({"Item": {"pk": {"S": "k"}, "a": {"N": "7"}, "version": {"N": "3"}}});
    refused["__type"] = json!("com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException");
    refused["message"] = json!("The conditional request failed");
    let script = vec![
        Reply::Answer(
            400,
            "ThrottlingException",
            error_body("ThrottlingException", "slow down"),
        ),
        Reply::Answer(400, "ConditionalCheckFailedException", refused.to_string()),
    ];
    let (endpoint, seen) = fake_server(script).await;
    let store = store(&endpoint, 3);
    let err = store
        .insert(&Key::new("k"), json!({"a": 1}))
        .await
        .unwrap_err();
    match err.conflict_ref() {
        Some(Conflict::AlreadyExists { current }) => {
            assert_eq!(current.version, Version::new(3));
            assert_eq!(current.value, json!({"a": 7}));
        }
        other => panic!("expected AlreadyExists, got {other:?} from {err}"),
    }
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_transaction_cancelled_by_a_transaction_conflict_is_resent() {
    let cancelled = json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]",
        "CancellationReasons": [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}],
    });
    let script = vec![
        Reply::Answer(400, "TransactionCanceledException", cancelled.to_string()),
        Reply::Answer(200, "", "{}".to_string()),
    ];
    let (endpoint, seen) = fake_server(script).await;
    let store = store(&endpoint, 3);
    let versions = store
        .transact(vec![TxOp::insert(Key::new("k"), json!({"a": 1}))])
        .await
        .unwrap();
    assert_eq!(versions, vec![Some(Version::FIRST)]);
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_missing_table_is_named() {
    let missing = Reply::Answer(
        400,
        "ResourceNotFoundException",
        error_body("ResourceNotFoundException", "Requested resource not found"),
    );
    let (endpoint, _) = fake_server(vec![missing]).await;
    let store = store(&endpoint, 1);
    let err = store
        .insert(&Key::new("k"), json!({"a": 1}))
        .await
        .unwrap_err();
    assert_eq!(not_retryable_kind(&err), ErrorKind::Rejected, "{err}");
    assert!(
        matches!(source_of(&err), DynamoDbError::TableNotFound { table, .. } if table == "fake-table")
    );
    // The message names the table among the error's causes.
    assert!(chain(&err).contains("fake-table"), "{}", chain(&err));
}

#[tokio::test]
async fn credentials_stay_out_of_debug() {
    let (endpoint, _) = fake_server(vec![Reply::Hang]).await;
    let store = store(&endpoint, 1);
    let builder = DynamoDbStore::builder(
        client(&endpoint, 1),
        TableDescription::new("fake-table", "pk"),
    );
    for shown in [format!("{store:?}"), format!("{builder:?}")] {
        for secret in [SECRET, TOKEN, KEY_ID] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}

/// A DynamoDB-compatible server without transactions (dynalite answers
/// `UnknownOperationException`): the transaction is refused, nothing applied, and the
/// error names the operation the server lacks.
#[tokio::test]
async fn an_operation_the_server_lacks_is_refused_and_named() {
    let unknown = Reply::Answer(400, "UnknownOperationException", String::from("{}"));
    let (endpoint, seen) = fake_server(vec![unknown]).await;
    let store = store(&endpoint, 3);
    let err = store
        .transact(vec![TxOp::insert(Key::new("a"), json!({"n": 1}))])
        .await
        .unwrap_err();
    assert_eq!(not_retryable_kind(&err), ErrorKind::Rejected, "{err}");
    assert!(
        matches!(source_of(&err), DynamoDbError::UnknownOperation { operation, .. } if operation == "TransactWriteItems"),
        "{}",
        chain(&err)
    );
    assert!(chain(&err).contains("does not implement TransactWriteItems"));
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "a refusal is not sent again"
    );
}

/// The answers to `create_table`'s `CreateTable` and `DescribeTable` (the table made,
/// ACTIVE), then `ttl` to its `UpdateTimeToLive`.
fn table_made_then(ttl: Reply) -> Vec<Reply> {
    let table = json!({"TableName": "fake-table", "TableStatus": "ACTIVE"});
    vec![
        Reply::Answer(200, "", json!({"TableDescription": table}).to_string()),
        Reply::Answer(200, "", json!({"Table": table}).to_string()),
        ttl,
    ]
}

/// `create_table` on a server without time to live (`UpdateTimeToLive` unknown, as on
/// dynalite): the table is made, active, and the call succeeds.
#[tokio::test]
async fn create_table_goes_without_time_to_live_on_a_server_without_it() {
    let unknown = Reply::Answer(400, "UnknownOperationException", String::from("{}"));
    let (endpoint, seen) = fake_server(table_made_then(unknown)).await;
    let description = TableDescription::new("fake-table", "pk");
    optimist_dynamodb::create_table(&client(&endpoint, 1), &description)
        .await
        .unwrap();
    // CreateTable, DescribeTable, UpdateTimeToLive.
    assert_eq!(seen.load(Ordering::SeqCst), 3);
}

/// Any other refusal of `UpdateTimeToLive` still fails `create_table`.
#[tokio::test]
async fn create_table_fails_when_time_to_live_is_refused_otherwise() {
    let refused = Reply::Answer(
        400,
        "ValidationException",
        error_body("ValidationException", "TimeToLive is already enabled"),
    );
    let (endpoint, _) = fake_server(table_made_then(refused)).await;
    let description = TableDescription::new("fake-table", "pk");
    let err = optimist_dynamodb::create_table(&client(&endpoint, 1), &description)
        .await
        .unwrap_err();
    assert!(
        chain(&err).contains("ValidationException"),
        "{}",
        chain(&err)
    );
}

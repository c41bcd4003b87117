//! Lost answers and refused requests between the SDK and the DynamoDB server, injected
//! by a proxy (tests/common/fault_proxy.rs), with clients on the SDK's standard retry
//! config (3 attempts, as `aws_config` sets it) and, where said, an attempt timeout.
//!
//! contract R12, R14: any error other than `Indeterminate` means nothing was written,
//! and no write takes effect after its operation returned. A write whose answer is lost
//! (dropped, 5xx, timed out) is settled by reading its key: its token there means
//! applied (success, nothing resent); the key unchanged and the write conditional means
//! not applied, and it is sent again with the same token (so at most one attempt
//! applies); the key holding what another write on the asked-for state leaves means a
//! conflict; anything else is `Indeterminate`, never sent again. A write refused
//! without being applied (throttling, a refused connection) is sent again, as often as
//! the client's retry config allows (the store's retry policy is derived from it).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Builder as ConfigBuilder;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use common::fault_proxy::{Fault, FaultProxy};
use optimist_core::{ConflictKind, Error, ErrorKind, Key, TxOp, Value, Version, VersionedStore};
use optimist_dynamodb::DynamoDbStore;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

/// A store through the proxy and one straight to the server, on one fresh table.
struct Rig {
    proxy: FaultProxy,
    store: DynamoDbStore,
    direct: DynamoDbStore,
}

/// The SDK's standard retry config: what `aws_config::load_defaults` gives a client.
fn standard(builder: ConfigBuilder) -> ConfigBuilder {
    builder.retry_config(RetryConfig::standard())
}

async fn rig(
    test: &str,
    client: impl FnOnce(ConfigBuilder, &FaultProxy) -> ConfigBuilder,
) -> Option<Rig> {
    let direct = match common::client() {
        Ok(direct) => common::store_on(direct, common::description("faults", false)).await,
        Err(why) => Err(why),
    };
    let direct = match direct {
        Ok(direct) => direct,
        Err(why) => {
            common::unavailable(test, why);
            return None;
        }
    };
    let proxy = FaultProxy::start(&common::endpoint().unwrap()).await;
    let config = client(common::config_builder(&proxy.endpoint()), &proxy).build();
    // `build`, not `connect`: the test's first request through the proxy is its own.
    let table = direct.table_description().clone();
    let store = DynamoDbStore::builder(Client::from_conf(config), table)
        .build()
        .unwrap();
    Some(Rig {
        proxy,
        store,
        direct,
    })
}

fn with_attempt_timeout(builder: ConfigBuilder, timeout: Duration) -> ConfigBuilder {
    standard(builder).timeout_config(
        TimeoutConfig::builder()
            .operation_attempt_timeout(timeout)
            .build(),
    )
}

fn ops(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn assert_indeterminate<T: std::fmt::Debug>(result: Result<T, Error>) {
    match result {
        Err(err) if err.is_indeterminate() => {}
        other => panic!("expected Indeterminate, got {other:?}"),
    }
}

#[tokio::test]
async fn an_insert_whose_answer_is_dropped_is_settled_by_its_token_and_sent_once() {
    let Some(rig) = rig("insert, answer dropped", |b, _| standard(b)).await else {
        return;
    };
    let key = Key::new("k");
    rig.proxy.on_next_writes([Fault::DropAnswer]);
    let version = rig.store.insert(&key, json!({"n": 1})).await.unwrap();
    assert_eq!(version, Version::FIRST, "the read found the insert's token");
    assert_eq!(
        rig.proxy.forwarded(),
        ops(&["PutItem", "GetItem"]),
        "exactly one write reached the server, then the read that settled it"
    );
    let item = rig.direct.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (item.version, item.value),
        (Version::FIRST, json!({"n": 1}))
    );
}

#[tokio::test]
async fn an_update_whose_answer_is_dropped_then_refused_is_indeterminate() {
    // The old failure: the SDK resent the update, met a refused connection, and the
    // store reported "retryable, nothing written" although the first attempt applied.
    let Some(rig) = rig("update, answer dropped then refused", |b, _| standard(b)).await else {
        return;
    };
    let key = Key::new("k");
    let v1 = rig.direct.insert(&key, json!({"n": 1})).await.unwrap();
    rig.proxy.on_next_writes([Fault::DropAnswerThenRefuse]);
    assert_indeterminate(rig.store.update(&key, v1, json!({"n": 2})).await);
    rig.proxy.accept_again();
    assert_eq!(rig.proxy.forwarded(), ops(&["PutItem"]));
    let item = rig.direct.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (item.version, item.value),
        (Version::new(2), json!({"n": 2}))
    );
}

#[tokio::test]
async fn a_write_answered_500_is_resent_only_after_a_read_proves_it_was_not_applied() {
    let Some(rig) = rig("write answered 500", |b, _| standard(b)).await else {
        return;
    };
    let key = Key::new("k");
    let v1 = rig.direct.insert(&key, json!({"n": 0})).await.unwrap();
    // The read finds the key as the update expects it: not applied, sent again with
    // the same token, applied once.
    rig.proxy.on_next_writes([Fault::server_error()]);
    let version = rig.store.update(&key, v1, json!({"n": 1})).await.unwrap();
    assert_eq!(version, Version::new(2));
    // The read finds the update's item, which proves nothing about a remove:
    // Indeterminate, not resent.
    rig.proxy.on_next_writes([Fault::server_error()]);
    assert_indeterminate(rig.store.remove(&key).await);
    // A stale transaction (expecting v1) finds another write's version 2 there: that
    // write took the state it asked for, so the transaction never applied and never
    // will. It is sent again at once, and its refusal names the conflict.
    rig.proxy.on_next_writes([Fault::server_error()]);
    match rig
        .store
        .transact(vec![TxOp::update(key.clone(), v1, json!({}))])
        .await
    {
        Err(Error::TransactionConflict { failures })
            if failures.len() == 1
                && failures[0].conflict.kind() == ConflictKind::VersionMismatch => {}
        other => panic!("expected the update's VersionMismatch, got {other:?}"),
    }
    assert_eq!(
        rig.proxy.writes_received(),
        5,
        "the update and the transaction twice (answered 500, then resent), the remove once"
    );
    assert_eq!(
        rig.proxy.forwarded(),
        ops(&[
            "GetItem",
            "PutItem",
            "GetItem",
            "GetItem",
            "TransactWriteItems"
        ])
    );
    let item = rig.direct.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (item.version, item.value),
        (Version::new(2), json!({"n": 1})),
        "the update applied once, nothing else did"
    );
}

#[tokio::test]
async fn throttled_writes_are_resent_and_applied_once() {
    let Some(rig) = rig("throttled twice", |b, _| standard(b)).await else {
        return;
    };
    let key = Key::new("k");
    rig.proxy
        .on_next_writes([Fault::throttling(), Fault::throttling()]);
    let version = rig.store.insert(&key, json!({"n": 1})).await.unwrap();
    assert_eq!(version, Version::FIRST);
    assert_eq!(rig.proxy.writes_received(), 3);
    assert_eq!(
        rig.proxy.forwarded(),
        ops(&["PutItem"]),
        "the server saw one request"
    );
    // A transaction too.
    rig.proxy.on_next_writes([Fault::throttling()]);
    let versions = rig
        .store
        .transact(vec![TxOp::update(key.clone(), version, json!({"n": 2}))])
        .await
        .unwrap();
    assert_eq!(versions, vec![Some(Version::new(2))]);
    assert_eq!(
        rig.proxy.forwarded(),
        ops(&["PutItem", "TransactWriteItems"])
    );
    // Three throttles use up the client's 3 attempts: nothing was written. The store
    // spent its retry budget on it, so it is no longer marked retryable.
    rig.proxy.on_next_writes([
        Fault::throttling(),
        Fault::throttling(),
        Fault::throttling(),
    ]);
    match rig.store.remove(&key).await {
        Err(Error::Backend {
            kind: ErrorKind::Busy,
            retryable: false,
            ..
        }) => {}
        other => panic!("expected a Busy Backend error, got {other:?}"),
    }
    assert_eq!(rig.proxy.writes_received(), 3 + 2 + 3);
    assert_eq!(rig.proxy.writes_forwarded(), 2);
    assert_eq!(
        rig.direct.get(&key).await.unwrap().unwrap().version,
        Version::new(2)
    );
}

#[tokio::test]
async fn a_write_whose_connection_is_refused_once_is_resent_and_applied_once() {
    let Some(rig) = rig("connection refused once", |b, proxy| {
        // The listener comes back just before the second attempt.
        standard(b).interceptor(proxy.accept_again_before_request(2))
    })
    .await
    else {
        return;
    };
    let key = Key::new("k");
    rig.proxy.refuse().await;
    let version = rig.store.insert(&key, json!({"n": 1})).await.unwrap();
    assert_eq!(version, Version::FIRST);
    assert_eq!(
        rig.proxy.writes_received(),
        1,
        "the first attempt never connected"
    );
    assert_eq!(rig.proxy.forwarded(), ops(&["PutItem"]));
}

#[tokio::test]
async fn an_attempt_timeout_leaves_a_remove_indeterminate_and_settles_a_late_update() {
    let Some(rig) = rig("attempt timeout", |b, _| {
        with_attempt_timeout(b, Duration::from_millis(200))
    })
    .await
    else {
        return;
    };
    // remove: applied at once, its answer held past the timeout.
    let gone = Key::new("gone");
    rig.direct.insert(&gone, json!({"n": 1})).await.unwrap();
    rig.proxy
        .on_next_writes([Fault::DelayAnswer(Duration::from_secs(1))]);
    assert_indeterminate(rig.store.remove(&gone).await);
    rig.proxy.settled().await;
    assert_eq!(
        rig.proxy.forwarded(),
        ops(&["DeleteItem", "GetItem"]),
        "the read found no token of the remove's; no resend"
    );
    assert_eq!(rig.direct.get(&gone).await.unwrap(), None);
    // update: the request itself travels past the timeout. The read finds the item
    // unchanged, so the update is sent again with the same token; both attempts
    // require version 1, so exactly one applies (whichever lands first) and the call
    // returns its version; the other is refused whenever it lands. (An insert is not
    // resent on an empty key without tombstones: see core's settling rules.)
    let late = Key::new("late");
    let v1 = rig.direct.insert(&late, json!({"n": 0})).await.unwrap();
    rig.proxy
        .on_next_writes([Fault::DelayRequest(Duration::from_secs(1))]);
    let version = rig.store.update(&late, v1, json!({"n": 1})).await.unwrap();
    assert_eq!(version, Version::new(2));
    rig.proxy.settled().await;
    assert_eq!(
        rig.proxy.forwarded(),
        ops(&["DeleteItem", "GetItem", "GetItem", "PutItem", "PutItem"]),
        "the read, then the resend and the late first attempt"
    );
    assert_eq!(
        rig.direct.get(&late).await.unwrap().unwrap().version,
        Version::new(2)
    );
}

#[tokio::test]
async fn a_transaction_whose_answer_is_dropped_is_settled_by_its_token_and_sent_once() {
    let Some(rig) = rig("transaction, answer dropped", |b, _| standard(b)).await else {
        return;
    };
    let (a, b) = (Key::new("a"), Key::new("b"));
    let vb = rig.direct.insert(&b, json!({"n": 1})).await.unwrap();
    rig.proxy.on_next_writes([Fault::DropAnswer]);
    let versions = rig
        .store
        .transact(vec![
            TxOp::insert(a.clone(), json!({"n": 1})),
            TxOp::update(b.clone(), vb, json!({"n": 2})),
        ])
        .await
        .unwrap();
    assert_eq!(versions, vec![Some(Version::FIRST), Some(Version::new(2))]);
    assert_eq!(
        rig.proxy.forwarded(),
        ops(&["TransactWriteItems", "GetItem", "GetItem"]),
        "sent once, then each key read for the transaction's token"
    );
    assert_eq!(
        rig.direct.get(&a).await.unwrap().unwrap().version,
        Version::FIRST
    );
    assert_eq!(
        rig.direct.get(&b).await.unwrap().unwrap().version,
        Version::new(2)
    );
}

#[tokio::test]
async fn a_round_of_put_whose_answer_is_dropped_is_settled_by_its_token() {
    let Some(rig) = rig("put rounds, answer dropped", |b, _| standard(b)).await else {
        return;
    };
    // put on an existing key: the first round's condition fails (answered), the second
    // round's answer is lost.
    let key = Key::new("k");
    rig.direct.insert(&key, json!({"n": 1})).await.unwrap();
    rig.proxy
        .on_next_writes([Fault::Forward, Fault::DropAnswer]);
    let version = rig.store.put(&key, json!({"n": 2})).await.unwrap();
    assert_eq!(version, Version::new(2));
    assert_eq!(
        rig.proxy.forwarded(),
        ops(&["PutItem", "PutItem", "GetItem"])
    );
    assert_eq!(
        rig.direct.get(&key).await.unwrap().unwrap().version,
        Version::new(2)
    );
    // The same for a transaction holding a Put op. The store now knows the key at
    // version 2 (its settling read), and a put's first round guesses that: another
    // client moves the key on first, so the first round is refused again.
    rig.direct
        .update(&key, Version::new(2), json!({"n": 2}))
        .await
        .unwrap();
    rig.proxy
        .on_next_writes([Fault::Forward, Fault::DropAnswer]);
    let versions = rig
        .store
        .transact(vec![TxOp::put(key.clone(), json!({"n": 3}))])
        .await
        .unwrap();
    assert_eq!(versions, vec![Some(Version::new(4))]);
    assert_eq!(
        rig.proxy.forwarded(),
        ops(&[
            "PutItem",
            "PutItem",
            "GetItem",
            "TransactWriteItems",
            "TransactWriteItems",
            "GetItem"
        ])
    );
    assert_eq!(
        rig.direct.get(&key).await.unwrap().unwrap().version,
        Version::new(4)
    );
}

/// What one injected fault was, for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Injected {
    DroppedAnswer,
    DroppedAnswerThenRefused,
    ServerError,
    Throttling,
}

#[tokio::test]
async fn a_counter_under_lost_answers_applies_every_change_exactly_once() {
    let Some(rig) = rig("counter under lost answers", |b, _| standard(b)).await else {
        return;
    };
    const CHANGES: u64 = 100;
    let key = Key::new("counter");
    rig.direct
        .insert(&key, json!({"tokens": []}))
        .await
        .unwrap();
    let mut rng = StdRng::seed_from_u64(0x5eed_0012);
    let mut injected: BTreeMap<Injected, usize> = BTreeMap::new();
    let (mut updates, mut indeterminate, mut found_applied, mut found_not_applied) = (0, 0, 0, 0);
    let mut retryable = 0;
    let tokens_of = |value: &Value| -> Vec<u64> {
        value["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_u64().unwrap())
            .collect()
    };
    for token in 0..CHANGES {
        loop {
            // 10% of writes lose their answer after the server applied them (half of
            // those with the next connection refused), 5% are answered 500 without
            // being forwarded, 5% are throttled.
            let roll: f64 = rng.gen_range(0.0..1.0);
            let fault = match roll {
                r if r < 0.05 => Some((Injected::DroppedAnswer, Fault::DropAnswer)),
                r if r < 0.10 => Some((
                    Injected::DroppedAnswerThenRefused,
                    Fault::DropAnswerThenRefuse,
                )),
                r if r < 0.15 => Some((Injected::ServerError, Fault::server_error())),
                r if r < 0.20 => Some((Injected::Throttling, Fault::throttling())),
                _ => None,
            };
            if let Some((kind, fault)) = fault {
                *injected.entry(kind).or_default() += 1;
                rig.proxy.on_next_writes([fault]);
            }
            let current = rig.store.get(&key).await.unwrap().unwrap();
            let mut tokens = tokens_of(&current.value);
            assert!(
                !tokens.contains(&token),
                "token {token} is in the item although its last write reported nothing written"
            );
            tokens.push(token);
            updates += 1;
            let result = rig
                .store
                .update(&key, current.version, json!({ "tokens": tokens }))
                .await;
            assert_eq!(rig.proxy.pending_faults(), 0, "every fault met its write");
            rig.proxy.accept_again();
            match result {
                Ok(_) => break,
                Err(err) if err.is_indeterminate() => {
                    // Resolve it: the change carries its token.
                    indeterminate += 1;
                    let after = rig.store.get(&key).await.unwrap().unwrap();
                    if tokens_of(&after.value).contains(&token) {
                        found_applied += 1;
                        break;
                    }
                    found_not_applied += 1;
                }
                // A transient failure: by contract nothing was written; the same
                // change again.
                Err(err @ Error::Backend { .. })
                    if err.backend_kind().is_some_and(ErrorKind::is_transient) =>
                {
                    retryable += 1
                }
                Err(other) => panic!("token {token}: unexpected {other}"),
            }
        }
    }
    let last = rig.direct.get(&key).await.unwrap().unwrap();
    let tokens = tokens_of(&last.value);
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for token in &tokens {
        *counts.entry(*token).or_default() += 1;
    }
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    let faults: usize = injected.values().sum();
    eprintln!(
        "counter under lost answers: {CHANGES} changes, {updates} update calls, \
         {faults} faults injected {injected:?}, {indeterminate} Indeterminate \
         ({found_applied} found applied, {found_not_applied} found not applied), \
         {retryable} transient errors, {} requests reached the server ({} writes), \
         {duplicates} duplicates",
        rig.proxy.forwarded().len(),
        rig.proxy.writes_forwarded(),
    );
    assert_eq!(duplicates, 0, "a change was applied twice: {tokens:?}");
    assert_eq!(
        tokens,
        (0..CHANGES).collect::<Vec<_>>(),
        "every change once, in order"
    );
    assert_eq!(
        last.version,
        Version::new(1 + CHANGES),
        "one version per change"
    );
    assert_eq!(
        u64::try_from(rig.proxy.writes_forwarded()).unwrap(),
        CHANGES,
        "every write that reached the server was a distinct change"
    );
    assert!(faults > 0, "the run injected no fault");
    // Every lost answer is settled inside the update by reading the key, except where
    // the connections stay refused past the store's retries (the read cannot happen):
    // those alone are Indeterminate, and each was in fact applied.
    assert_eq!(
        indeterminate,
        injected
            .get(&Injected::DroppedAnswerThenRefused)
            .copied()
            .unwrap_or(0),
        "Indeterminate only where the settling read was refused"
    );
    assert_eq!(found_not_applied, 0, "no Indeterminate write was unapplied");
    assert_eq!(
        retryable, 0,
        "the store resent every transient failure itself"
    );
    assert_eq!(updates, CHANGES, "one update call per change");
}

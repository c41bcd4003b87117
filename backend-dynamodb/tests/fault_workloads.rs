//! The conformance crate's fault workloads (`optimist_conformance::workloads`) on
//! DynamoDB (moto in the tests): the store built as a user builds it from an SDK
//! client on the SDK's standard retry config (what `aws_config` gives, 3 attempts,
//! from which the store takes its retry policy), pointed at the fault proxy
//! (`optimist_conformance::network`) in front of the server, which drops answers,
//! answers HTTP 500 after the server applied the request, holds answers past the
//! client's attempt timeout, refuses connections and cuts them. The one setting
//! added: a 1 s attempt timeout (the SDK sets none by default, and would wait for a
//! held answer forever), so a held answer outlasts it (contract R12, R13, R14).
//!
//! moto applies about 50 requests a second, so the workloads are smaller than on
//! Redis and PostgreSQL. `cargo test --test fault_workloads -- --nocapture` prints
//! each workload's figures.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use optimist_conformance::network::{FaultProxy, FaultRates};
use optimist_conformance::workloads::{self, Workload};
use optimist_dynamodb::DynamoDbStore;

const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

/// Faults per thousand exchanges (an exchange: one HTTP request and its answer).
fn faults() -> FaultRates {
    FaultRates {
        drop_answer: 40,
        server_error: 40,
        delay_answer: 10,
        refuse: 15,
        outage: 15,
        delay: ATTEMPT_TIMEOUT + Duration::from_millis(500),
        refusal: Duration::from_millis(300),
    }
}

/// The seed: `OPTIMIST_SEED`, else a fixed one per workload.
fn seed(fixed: u64) -> u64 {
    optimist_conformance::env::seed().unwrap_or(fixed)
}

/// The proxy in front of the test server and a store through it on a new table, or
/// `None` after the skip line (a failure under `CI` / `OPTIMIST_REQUIRE_ALL`).
async fn rig(test: &str) -> Option<(FaultProxy, Arc<DynamoDbStore>)> {
    let endpoint = match common::endpoint() {
        Ok(endpoint) => endpoint,
        Err(why) => {
            common::unavailable(test, why);
            return None;
        }
    };
    let proxy = FaultProxy::start(&common::proxy::host_port(&endpoint))
        .await
        .unwrap();
    let config = common::config_builder(&common::proxy::endpoint_of(&proxy))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .build(),
        )
        .build();
    // Tombstone mode: the mode in which the contract promises exactly once across
    // deletes too (R14, R15); see `rig`'s note in the Redis workloads.
    match common::store_on_with(
        Client::from_conf(config),
        common::description("workload", false),
        |builder| builder.tombstones(true),
    )
    .await
    {
        Ok(store) => Some((proxy, Arc::new(store))),
        Err(why) => {
            common::unavailable(test, why);
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_under_network_faults_apply_every_change_exactly_once() {
    let Some((proxy, store)) = rig("counters under network faults").await else {
        return;
    };
    let workload = Workload {
        clients: 4,
        calls: 12,
        ..Workload::new(seed(0xC0_0001), faults())
    };
    workloads::expect_counters_exactly_once("dynamodb", store, &proxy, &workload).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_under_network_faults_keep_the_total_and_land_once() {
    let Some((proxy, store)) = rig("transfers under network faults").await else {
        return;
    };
    let workload = Workload {
        clients: 4,
        calls: 8,
        keys: 4,
        ..Workload::new(seed(0xC0_0002), faults())
    };
    workloads::expect_transfers_whole_and_once("dynamodb", store, &proxy, &workload).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn histories_under_network_faults_are_linearizable() {
    let Some((proxy, store)) = rig("histories under network faults").await else {
        return;
    };
    let workload = Workload {
        clients: 3,
        calls: 10,
        ..Workload::new(seed(0xC0_0003), faults())
    };
    workloads::expect_linearizable_histories("dynamodb", store, &proxy, &workload).await;
}

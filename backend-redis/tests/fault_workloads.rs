//! The conformance crate's fault workloads (`optimist_conformance::workloads`) on
//! Redis: the store built as a user builds it from a URL (default retry policy, pool
//! and connection manager settings), pointed at the fault proxy
//! (`optimist_conformance::network`) in front of the test server, which drops
//! answers, holds them past the response timeout, refuses connections and cuts them.
//! The one setting changed: a 1 s response timeout instead of 5 s, so a held answer
//! outlasts it without slowing the run (contract R12, R13, R14).
//!
//! `cargo test --test fault_workloads -- --nocapture` prints each workload's figures.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use optimist_conformance::network::{FaultProxy, FaultRates, url_through};
use optimist_conformance::workloads::{self, Workload};
use optimist_redis::RedisStore;

const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Faults per thousand exchanges (an exchange: a command, or the commands pipelined
/// before the first answer, and its answer; on Redis' shared connection a lost
/// answer fails every command in flight on it).
fn faults() -> FaultRates {
    FaultRates {
        drop_answer: 40,
        server_error: 0, // not HTTP
        delay_answer: 8,
        refuse: 10,
        outage: 10,
        delay: RESPONSE_TIMEOUT + Duration::from_millis(500),
        refusal: Duration::from_millis(300),
    }
}

/// The seed: `OPTIMIST_SEED`, else a fixed one per workload.
fn seed(fixed: u64) -> u64 {
    optimist_conformance::env::seed().unwrap_or(fixed)
}

/// The proxy in front of the test server and a store through it, or `None` after
/// the skip line (a failure under `CI` / `OPTIMIST_REQUIRE_ALL`).
async fn rig(test: &str) -> Option<(FaultProxy, Arc<RedisStore>)> {
    let url = match common::url() {
        Ok(url) => url,
        Err(why) => {
            common::skip_or_fail(test, &why);
            return None;
        }
    };
    let (_, upstream) = url_through(&url, "127.0.0.1:1".parse().unwrap())
        .unwrap_or_else(|| panic!("{} names no port", common::URL_VAR));
    let proxy = FaultProxy::start(&upstream).await.unwrap();
    let (through, _) = url_through(&url, proxy.address()).unwrap();
    let built = RedisStore::builder()
        .url(through)
        .prefix(common::fresh_prefix())
        .response_timeout(RESPONSE_TIMEOUT)
        // Tombstone mode: the mode in which the contract promises exactly once across
        // deletes too (R14, R15). In the default mode an insert whose answer was lost,
        // deleted by another client before the engine reads the key, is sent again and
        // applies twice: a documented hole (R15) this workload's history check found,
        // to be closed by settling such inserts only by their token.
        .tombstones(true)
        .build()
        .await;
    match built {
        Ok(store) => Some((proxy, Arc::new(store))),
        Err(err) => {
            let why = optimist_conformance::Unavailable::new(
                "Redis through the fault proxy",
                err.to_string(),
            );
            common::skip_or_fail(test, &why);
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
        clients: 8,
        calls: 25,
        ..Workload::new(seed(0xC0_0001), faults())
    };
    workloads::expect_counters_exactly_once("redis", store, &proxy, &workload).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_under_network_faults_keep_the_total_and_land_once() {
    let Some((proxy, store)) = rig("transfers under network faults").await else {
        return;
    };
    let workload = Workload {
        clients: 8,
        calls: 15,
        keys: 4,
        ..Workload::new(seed(0xC0_0002), faults())
    };
    workloads::expect_transfers_whole_and_once("redis", store, &proxy, &workload).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn histories_under_network_faults_are_linearizable() {
    let Some((proxy, store)) = rig("histories under network faults").await else {
        return;
    };
    let workload = Workload {
        clients: 4,
        calls: 30,
        ..Workload::new(seed(0xC0_0003), faults())
    };
    workloads::expect_linearizable_histories("redis", store, &proxy, &workload).await;
}

//! `optimist bench` end to end, with a tiny duration: the report's shape and that its
//! counts add up, never speed.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

mod common;

use common::{json_of, optimist, with_options};

/// Asserts the report's fields and that its counts are consistent.
fn assert_consistent(report: &serde_json::Value, workload: &str, clients: u64) {
    assert_eq!(report["workload"], workload, "{report}");
    assert_eq!(report["clients"].as_u64(), Some(clients));
    assert_eq!(report["duration_ms"].as_u64(), Some(200));
    assert_eq!(report["errors"].as_u64(), Some(0), "{report}");
    assert_eq!(report["consistent"], true, "{report}");
    let ops = report["operations"].as_u64().unwrap();
    let requests = report["requests"].as_u64().unwrap();
    let conflicts = report["conflicts"].as_u64().unwrap();
    let misses = report["misses"].as_u64().unwrap();
    assert!(ops > 0, "{report}");
    assert_eq!(requests, ops + conflicts + misses, "{report}");
    assert_eq!(report["latency_us"]["count"].as_u64(), Some(ops));
    let p50 = report["latency_us"]["p50"].as_u64().unwrap();
    let p99 = report["latency_us"]["p99"].as_u64().unwrap();
    let p999 = report["latency_us"]["p99_9"].as_u64().unwrap();
    let max = report["latency_us"]["max"].as_u64().unwrap();
    assert!(p50 <= p99 && p99 <= p999 && p999 <= max, "{report}");
    let per_success = report["attempts_per_success"].as_f64().unwrap();
    assert!(
        (per_success - requests as f64 / ops as f64).abs() < 1e-9,
        "{report}"
    );
    assert!(report["ops_per_sec"].as_f64().unwrap() > 0.0);
}

#[test]
fn hot_key_on_memory_counts_every_increment() {
    let output = optimist()
        .args([
            "bench",
            "memory://",
            "--workload",
            "hot-key",
            "--clients",
            "4",
            "--duration",
            "200ms",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_consistent(&json_of(&output), "hot-key", 4);
}

#[test]
fn get_on_memory_finds_every_item() {
    let output = optimist()
        .args([
            "bench",
            "memory://",
            "--workload",
            "get",
            "--clients",
            "2",
            "--duration",
            "200ms",
            "--keys",
            "10",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report = json_of(&output);
    assert_consistent(&report, "get", 2);
    assert_eq!(report["conflicts"].as_u64(), Some(0));
}

#[test]
fn the_table_shows_every_measure() {
    let assert = optimist()
        .args([
            "bench",
            "sqlite::memory:",
            "--workload",
            "update",
            "--clients",
            "2",
            "--duration",
            "200ms",
        ])
        .assert()
        .success();
    let out = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    for measure in [
        "ops/s",
        "latency p50",
        "latency p99 ",
        "latency p99.9",
        "attempts per success",
        "conflicts",
        "consistent",
    ] {
        assert!(out.contains(measure), "{measure}: {out}");
    }
    assert!(out.contains("| consistent           | yes"), "{out}");
}

#[test]
fn conflicts_on_redis_add_up() {
    let Some(url) = common::redis("conflicts_on_redis_add_up") else {
        return;
    };
    let url = with_options(&url, &format!("prefix=cli-{:08x}", rand::random::<u32>()));
    let output = optimist()
        .args([
            "bench",
            &url,
            "--workload",
            "conflict",
            "--clients",
            "4",
            "--keys",
            "2",
            "--duration",
            "200ms",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_consistent(&json_of(&output), "conflict", 4);
}

#[test]
fn a_bad_duration_is_bad_input() {
    optimist()
        .args(["bench", "memory://", "--duration", "5h"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown unit \"h\""));
}

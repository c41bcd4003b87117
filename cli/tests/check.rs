//! `optimist check` end to end, through the binary: the whole suite where it is cheap
//! (memory, SQLite in memory), a few cases on every server scripts/test starts (the
//! backends' own tests run the whole suite there), and the fresh tables and prefixes
//! created and removed.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

mod common;

use common::{aws_env, json_of, optimist, with_options};
use optimist_conformance::cases;
use predicates::prelude::*;
use predicates::str::contains;
use sqlx::Connection as _;

/// The report's counts: (passed, failed, ignored, cases).
fn counts(report: &serde_json::Value) -> (u64, u64, u64, usize) {
    (
        report["passed"].as_u64().unwrap(),
        report["failed"].as_u64().unwrap(),
        report["ignored"].as_u64().unwrap(),
        report["cases"].as_array().unwrap().len(),
    )
}

/// Every ignored case says why, and none failed.
fn assert_clean(report: &serde_json::Value) {
    for case in report["cases"].as_array().unwrap() {
        assert_ne!(case["result"], "failed", "{case}");
        if case["result"] == "ignored" {
            assert!(!case["detail"].as_str().unwrap().is_empty(), "{case}");
        }
        assert!(case["rule"].as_str().unwrap().starts_with('R'), "{case}");
    }
}

/// Runs `cmd` as `optimist check URL --cases CASES --json`: it must pass all `passed`
/// cases it names, on fresh namespaces (at least one per case) that it removes at the
/// end. Answers the process's output and its report.
fn check_cleanly(
    mut cmd: assert_cmd::Command,
    url: &str,
    cases: &str,
    passed: u64,
) -> (std::process::Output, serde_json::Value) {
    let output = cmd
        .args(["check", url, "--cases", cases, "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report = json_of(&output);
    assert_eq!(counts(&report), (passed, 0, 0, passed as usize), "{report}");
    let created = report["namespaces"]["created"].as_u64().unwrap();
    assert!(created >= passed, "a fresh namespace per case: {report}");
    assert_eq!(
        report["namespaces"]["removed"].as_u64(),
        Some(created),
        "every namespace created is removed: {report}"
    );
    (output, report)
}

#[test]
fn the_whole_suite_passes_on_memory_with_a_table_of_cases() {
    let all = cases::all::<optimist::memory::MemoryStore>().len();
    let assert = optimist().args(["check", "memory://"]).assert().success();
    let out = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        out.contains("| r6_update_stale_version_conflicts "),
        "{out}"
    );
    assert!(out.contains("| R6 "), "{out}");
    assert!(out.contains(" 0 failed, "), "{out}");
    assert!(out.contains(&format!("of {all} cases")), "{out}");
}

#[test]
fn the_whole_suite_passes_on_sqlite_in_memory_with_json_and_junit_reports() {
    let junit = common::fresh_path("junit").with_extension("xml");
    let output = optimist()
        .args(["check", "sqlite::memory:", "--json", "--junit"])
        .arg(&junit)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report = json_of(&output);
    let (passed, failed, ignored, total) = counts(&report);
    assert_eq!(total, cases::all::<optimist::memory::MemoryStore>().len());
    assert_eq!(failed, 0);
    assert_eq!(passed + ignored, total as u64);
    assert_clean(&report);
    let xml = std::fs::read_to_string(&junit).unwrap();
    std::fs::remove_file(&junit).ok();
    assert!(
        xml.contains(&format!(
            "tests=\"{total}\" failures=\"0\" skipped=\"{ignored}\""
        )),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), total);
}

#[test]
fn a_sqlite_file_gets_a_fresh_table_per_case_and_loses_them_at_the_end() {
    let path = common::fresh_path("check");
    let url = format!("sqlite://{}?table=app", path.display());
    check_cleanly(optimist(), &url, "r5_,r10_transact_applies", 3);
    let tables: Vec<String> = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut conn)
            .await
            .unwrap()
    });
    for suffix in ["", "-wal", "-shm"] {
        std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
    }
    assert!(
        tables.iter().all(|t| !t.starts_with("optimist_check")),
        "{tables:?}"
    );
}

#[test]
fn postgres_tables_are_created_and_removed() {
    let Some(url) = common::postgres("postgres_tables_are_created_and_removed") else {
        return;
    };
    let (output, _) = check_cleanly(
        optimist(),
        &with_options(&url, "table=app"),
        "r5_,r6_update_stale,r10_transact_failure",
        4,
    );
    let left: i64 = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'optimist_check_%'")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    });
    assert_eq!(left, 0, "tables left behind");
    // The password never shows.
    let password = url
        .split_once("://")
        .and_then(|(_, r)| r.rsplit_once('@'))
        .and_then(|(u, _)| u.split_once(':'))
        .map(|(_, p)| p.to_string());
    if let Some(password) = password {
        assert!(!String::from_utf8_lossy(&output.stdout).contains(&password));
    }
}

#[test]
fn redis_prefixes_are_created_and_emptied() {
    let Some(url) = common::redis("redis_prefixes_are_created_and_emptied") else {
        return;
    };
    let prefix = format!("cli-{:08x}", rand::random::<u32>());
    check_cleanly(
        optimist(),
        &with_options(&url, &format!("prefix={prefix}")),
        "r5_,r7_delete_stale,r10_transact_reports",
        4,
    );
    let left: Vec<Vec<u8>> = tokio::runtime::Runtime::new().unwrap().block_on(async {
        use optimist::redis::redis;
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("KEYS")
            .arg(format!("{{{prefix}:*"))
            .query_async(&mut conn)
            .await
            .unwrap()
    });
    assert!(left.is_empty(), "{} keys left behind", left.len());
}

#[test]
fn dynamodb_tables_are_created_and_removed() {
    let Some(url) = common::dynamodb("dynamodb_tables_are_created_and_removed", "cli-check") else {
        return;
    };
    let mut cmd = optimist();
    aws_env(&mut cmd);
    check_cleanly(cmd, &url, "r5_insert_present,r10_transact_applies", 2);
}

#[test]
fn an_unreachable_server_is_one_line_exit_2_and_no_password() {
    optimist()
        .args(["check", "redis://:hunter22@127.0.0.1:1?prefix=p"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("127.0.0.1:1").and(contains("hunter22").not()))
        .stderr(predicates::function::function(|s: &str| {
            s.lines().count() == 1
        }));
}

#[test]
fn a_case_pattern_that_matches_nothing_is_bad_input() {
    optimist()
        .args(["check", "memory://", "--cases", "no_such_case"])
        .assert()
        .code(2)
        .stderr(contains("no case name contains no_such_case"));
}

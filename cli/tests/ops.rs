//! `get`, `insert`, `update`, `put`, `delete`, `remove` and `demo` end to end: JSON on
//! stdin and stdout, the exit codes, and bad input.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

mod common;

use common::{aws_env, optimist, with_options};
use predicates::prelude::*;
use predicates::str::contains;

/// The round every store goes through: insert, a refused insert with the current
/// item, get, a stale update refused with the current item, update, put, a stale
/// delete, delete, get of nothing, remove of nothing.
fn round(url: &str, env: impl Fn(&mut assert_cmd::Command) -> &mut assert_cmd::Command) {
    let run = |args: &[&str], stdin: &str| {
        let mut cmd = optimist();
        env(&mut cmd);
        cmd.args(args)
            .arg(url)
            .arg("order-1")
            .write_stdin(stdin.to_string())
            .assert()
    };
    run(&["remove"], "").success();
    run(&["insert"], r#"{"total": 1}"#)
        .success()
        .stdout("{\"version\":1}\n");
    run(&["insert"], r#"{"total": 9}"#)
        .code(3)
        .stdout("{\"value\":{\"total\":1},\"version\":1}\n")
        .stderr(contains("conflict: item already exists at v1"));
    run(&["get"], "")
        .success()
        .stdout("{\"value\":{\"total\":1},\"version\":1}\n");
    run(&["update", "--expected", "1"], r#"{"total": 2}"#)
        .success()
        .stdout("{\"version\":2}\n");
    run(&["update", "--expected", "1"], r#"{"total": 3}"#)
        .code(3)
        .stdout("{\"value\":{\"total\":2},\"version\":2}\n")
        .stderr(contains("version mismatch: expected v1, item is at v2"));
    run(&["put"], r#"{"total": 4}"#)
        .success()
        .stdout("{\"version\":3}\n");
    run(&["delete", "--expected", "2"], "").code(3);
    run(&["delete", "--expected", "3"], "").success();
    run(&["get"], "").code(4).stdout("");
    run(&["remove"], "")
        .success()
        .stdout("{\"removed\":null}\n");
    run(&["update", "--expected", "1"], "{}")
        .code(3)
        .stdout("null\n");
}

fn no_env(cmd: &mut assert_cmd::Command) -> &mut assert_cmd::Command {
    cmd
}

#[test]
fn a_round_on_a_sqlite_file() {
    let path = common::fresh_path("ops");
    round(&format!("sqlite://{}?table=orders", path.display()), no_env);
    for suffix in ["", "-wal", "-shm"] {
        std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
    }
}

#[test]
fn a_round_on_postgres() {
    let Some(url) = common::postgres("a_round_on_postgres") else {
        return;
    };
    let table = format!("optimist_cli_ops_{:08x}", rand::random::<u32>());
    round(&with_options(&url, &format!("table={table}")), no_env);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(&mut conn)
            .await
            .unwrap();
    });
}

#[test]
fn a_round_on_redis() {
    let Some(url) = common::redis("a_round_on_redis") else {
        return;
    };
    // The round ends with the key removed: the prefix is left empty.
    round(
        &with_options(
            &url,
            &format!("prefix=cli-ops-{:08x}", rand::random::<u32>()),
        ),
        no_env,
    );
}

#[test]
fn a_round_on_dynamodb_with_keys_named_as_the_table_has_them() {
    let table = format!("cli-ops-{:08x}", rand::random::<u32>());
    let Some(url) = common::dynamodb("a_round_on_dynamodb", &table) else {
        return;
    };
    let url = with_options(
        &url,
        "partition_key=Id&version_attribute=VersionNumber&create_table=true",
    );
    round(&url, aws_env);
    // The table was made for this test (create_table=true): remove it.
    let endpoint = std::env::var("OPTIMIST_DYNAMODB_ENDPOINT").unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        optimist::dynamodb::delete_table(&emulator_client(&endpoint), &table)
            .await
            .unwrap();
    });
}

/// A client with the emulator's dummy credentials, given, not read from the
/// environment.
fn emulator_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Config, Credentials, Region};
    let config = Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "optimist-test",
            "optimist-test-secret",
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

#[test]
fn a_value_that_is_not_json_names_its_line_and_column() {
    optimist()
        .args(["put", "memory://", "k"])
        .write_stdin("{\"a\": 1,\n  \"b\": tru }")
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("stdin is not one JSON value").and(contains("line 2 column")));
}

#[test]
fn bad_urls_are_one_line_exit_2_and_never_show_the_password() {
    for (url, says) in [
        ("mongodb://u:hunter22@h/db", "unknown scheme `mongodb`"),
        ("redis://:hunter22@127.0.0.1:1", "no key prefix"),
        (
            "redis://:hunter22@127.0.0.1:1?prefix=p&tombstone=true",
            "unknown option `tombstone`",
        ),
        (
            "redis://:hunter22@127.0.0.1:1?prefix=p",
            "Connection refused",
        ),
        (
            "postgres://u:hunter22@127.0.0.1:1/db?table=t",
            "127.0.0.1:1",
        ),
        (
            "postgres://u:hunter22@h/db?table=t&pool=3",
            "unknown option `pool`",
        ),
        ("dynamodb://?region=us-east-1", "no table"),
        ("sqlite://", "no database path"),
        ("memory://?size=1", "unknown field `size`"),
        ("hunter22", "not a store URL"),
    ] {
        optimist()
            .args(["get", url, "k"])
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains(says).and(contains("hunter22").not()))
            .stderr(predicate::function(|s: &str| s.lines().count() == 1));
    }
}

#[test]
fn the_demo_prevents_the_lost_update_on_any_store() {
    optimist()
        .args(["demo", "sqlite::memory:"])
        .assert()
        .success()
        .stdout(contains("4. client 1 adds \"bike, Tuesday\" and saves expecting version 1: refused"))
        .stdout(contains("6. order-42 at version 3: deliveries [\"van, Monday\",\"bike, Tuesday\"] (nothing lost)"));
}

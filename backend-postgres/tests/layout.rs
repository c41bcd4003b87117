//! A table created by this crate before write tokens (no `token` and `deleted_at`
//! columns, `value` NOT NULL): `build` brings it up to date when it may change the
//! table (`create_table(true)`, the default), and otherwise refuses it with a
//! configuration error that names the statement to run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_core::{Error, Key, Version, VersionedStore};
use optimist_postgres::PostgresStore;
use serde_json::json;
use sqlx::PgPool;

/// The layout this crate created before write tokens, with one item in it.
async fn earlier_table(pool: &PgPool) -> String {
    let table = common::fresh_table();
    for statement in [
        format!(
            "CREATE TABLE \"{table}\" (\
             partition TEXT COLLATE \"C\" NOT NULL, \
             sort TEXT COLLATE \"C\" NOT NULL DEFAULT '', \
             value JSON NOT NULL, \
             version BIGINT NOT NULL DEFAULT 0 CHECK (version >= 0), \
             PRIMARY KEY (partition, sort))"
        ),
        format!("INSERT INTO \"{table}\" VALUES ('kept', '', '{{\"a\": 1}}', 3)"),
    ] {
        sqlx::query(&statement)
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    table
}

async fn build(
    pool: &PgPool,
    table: &str,
    create: bool,
    tombstones: bool,
) -> Result<PostgresStore, Error> {
    PostgresStore::builder()
        .pool(pool.clone())
        .table(table)
        .create_table(create)
        .tombstones(tombstones)
        .build()
        .await
}

fn reason(err: Error) -> String {
    match err {
        Error::Configuration { reason, .. } => reason,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

/// `(column, nullable)` for each column of `table`, by name.
async fn columns(pool: &PgPool, table: &str) -> Vec<(String, bool)> {
    sqlx::query_as(
        "SELECT column_name::text, is_nullable = 'YES' FROM information_schema.columns \
         WHERE table_name = $1 ORDER BY column_name",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .expect("columns")
}

#[tokio::test]
async fn an_earlier_table_is_refused_when_build_may_not_change_it() {
    let Some(url) = common::url_or_skip("an_earlier_table_is_refused") else {
        return;
    };
    let pool = PgPool::connect(&url).await.expect("pool");
    let table = earlier_table(&pool).await;
    for tombstones in [false, true] {
        let reason = reason(
            build(&pool, &table, false, tombstones)
                .await
                .expect_err("outdated"),
        );
        for part in [
            "no column token (text)",
            "no column deleted_at (timestamp with time zone)",
            "create_table(true)",
            "ADD COLUMN IF NOT EXISTS token TEXT",
        ] {
            assert!(reason.contains(part), "{part:?} in {reason}");
        }
        assert_eq!(
            reason.contains("value is NOT NULL"),
            tombstones,
            "only tombstones need a nullable value: {reason}"
        );
    }
    // Refusing it changed nothing.
    assert_eq!(columns(&pool, &table).await.len(), 4);
}

#[tokio::test]
async fn an_earlier_table_is_brought_up_to_date_and_its_rows_read_without_a_token() {
    let Some(url) = common::url_or_skip("an_earlier_table_is_brought_up_to_date") else {
        return;
    };
    let pool = PgPool::connect(&url).await.expect("pool");
    let table = earlier_table(&pool).await;
    let store = build(&pool, &table, true, false)
        .await
        .expect("brought up to date");
    let mut expected: Vec<(String, bool)> = [
        ("deleted_at", true),
        ("partition", false),
        ("sort", false),
        ("token", true),
        ("value", true),
        ("version", false),
    ]
    .map(|(name, nullable)| (name.to_string(), nullable))
    .to_vec();
    expected.sort();
    assert_eq!(columns(&pool, &table).await, expected);

    let key = Key::new("kept");
    let record = optimist_core::Storage::read(&store, &key)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!((record.version, record.token), (Version::new(3), None));
    assert_eq!(
        store
            .update(&key, Version::new(3), json!(4))
            .await
            .expect("update"),
        Version::new(4)
    );

    // Another store, in tombstone mode, uses the table as it now is, and a store that
    // may not change it accepts it too.
    let tombstones = build(&pool, &table, false, true)
        .await
        .expect("tombstone store");
    tombstones
        .delete(&key, Version::new(4))
        .await
        .expect("delete");
    assert_eq!(
        tombstones.insert(&key, json!(5)).await.expect("insert"),
        Version::new(5)
    );
    build(&pool, &table, false, false).await.expect("as it is");
}

#[tokio::test]
async fn a_not_null_value_column_suits_the_default_mode_only() {
    let Some(url) = common::url_or_skip("a_not_null_value_column_suits_the_default_mode_only")
    else {
        return;
    };
    let pool = PgPool::connect(&url).await.expect("pool");
    let table = earlier_table(&pool).await;
    sqlx::query(&format!(
        "ALTER TABLE \"{table}\" ADD COLUMN token TEXT, ADD COLUMN deleted_at TIMESTAMPTZ"
    ))
    .execute(&pool)
    .await
    .expect("add the columns only");
    let store = build(&pool, &table, false, false)
        .await
        .expect("default mode");
    store.remove(&Key::new("kept")).await.expect("remove");
    let reason = reason(
        build(&pool, &table, false, true)
            .await
            .expect_err("tombstones"),
    );
    assert!(reason.contains("column value is NOT NULL"), "{reason}");
    assert!(reason.contains("DROP NOT NULL"), "{reason}");
}

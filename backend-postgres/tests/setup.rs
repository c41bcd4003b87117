//! Building a store: hostile table names, bad URLs, a server that is down, secrets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::Duration;

use optimist_core::{Error, ErrorKind, Key, Operation, VersionedStore};
use optimist_postgres::PostgresStore;
use serde_json::json;

/// A URL no server answers: a loopback port just freed.
fn dead_url(password: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(1);
    format!("postgres://optimist:{password}@127.0.0.1:{port}/optimist")
}

#[tokio::test]
async fn hostile_table_names_are_refused_before_connecting() {
    for (name, problem) in [
        ("items; DROP TABLE users; --", "holds ';'"),
        ("items\"", "holds '\"'"),
        ("", "table name is empty"),
        ("a.b.c", "more than one '.'"),
        ("9lives", "must start with"),
        ("ítems", "must start with"),
        ("it ems", "holds ' '"),
    ] {
        // The URL leads nowhere: a name check that sent anything would fail differently.
        let err = PostgresStore::builder()
            .url(dead_url("pw"))
            .table(name)
            .build()
            .await
            .expect_err(name);
        let Error::Configuration { backend, reason } = &err else {
            panic!("{name:?}: expected a configuration error, got {err:?}");
        };
        assert_eq!(*backend, "postgres");
        assert!(
            reason.contains("invalid table name") && reason.contains(problem),
            "{name:?}: {reason}"
        );
    }
    let long = "t".repeat(64);
    let err = PostgresStore::builder()
        .url(dead_url("pw"))
        .table(long)
        .build()
        .await
        .expect_err("64 bytes");
    assert!(
        err.to_string().contains("over PostgreSQL's limit of 63"),
        "{err}"
    );
}

#[tokio::test]
async fn a_server_that_is_down_is_a_retryable_error_naming_it_without_the_password() {
    let password = "s3cret-Pa55";
    let url = dead_url(password);
    let err = PostgresStore::builder()
        .url(url)
        .acquire_timeout(Duration::from_secs(2))
        .build()
        .await
        .expect_err("nothing listens");
    assert!(
        matches!(
            err,
            Error::Backend {
                operation: Operation::Setup,
                backend: "postgres",
                kind: ErrorKind::Unavailable,
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "setup on postgres: unavailable (retryable)"
    );
    // The causes say where and why; the driver's error is kept as the source.
    let chain = common::chain(&err);
    assert!(
        chain.contains("cannot connect to PostgreSQL at postgres://optimist:***@127.0.0.1:"),
        "{chain}"
    );
    assert!(
        chain.to_lowercase().contains("refused"),
        "names the problem: {chain}"
    );
    let shown = common::everything_shown(&err);
    assert!(!shown.contains(password), "{shown}");
}

#[tokio::test]
async fn a_bad_url_is_a_configuration_error_without_the_password() {
    let err = PostgresStore::builder()
        .url("postgres://me:hunter22@127.0.0.1:notaport/db")
        .build()
        .await
        .expect_err("bad port");
    assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
    assert!(err.to_string().contains("invalid PostgreSQL URL"), "{err}");
    assert!(
        !common::everything_shown(&err).contains("hunter22"),
        "{err:?}"
    );
    let err = PostgresStore::builder()
        .build()
        .await
        .expect_err("no source");
    assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
    assert!(
        err.to_string().contains("call .url(...) or .pool(...)"),
        "{err}"
    );
}

#[tokio::test]
async fn debug_output_never_shows_the_password() {
    let Some(url) = common::url_or_skip("debug_output_never_shows_the_password") else {
        return;
    };
    let builder = PostgresStore::builder()
        .url(url.clone())
        .table(common::fresh_table());
    let secrets: Vec<&str> = url
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, password)| vec![password])
        .unwrap_or_default();
    let shown = format!("{builder:?}");
    let store = builder.build().await.expect("store");
    let shown = format!("{shown} {store:?} {:?}", store.pool());
    for secret in secrets {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[tokio::test]
async fn names_with_case_and_schema_are_kept_exactly() {
    let Some(url) = common::url_or_skip("names_with_case_and_schema_are_kept_exactly") else {
        return;
    };
    let schema = format!("S{}", common::fresh_table());
    let pool = sqlx::PgPool::connect(&url).await.expect("pool");
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&pool)
        .await
        .expect("schema");
    let lower = PostgresStore::builder()
        .pool(pool.clone())
        .table(format!("{schema}.items"))
        .build()
        .await
        .expect("lower");
    let upper = PostgresStore::builder()
        .pool(pool.clone())
        .table(format!("{schema}.Items"))
        .build()
        .await
        .expect("upper");
    lower
        .insert(&Key::new("k"), json!("lower"))
        .await
        .expect("insert");
    assert!(
        upper.get(&Key::new("k")).await.expect("get").is_none(),
        "Items and items are two tables"
    );
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = $1 ORDER BY 1",
    )
    .bind(&schema)
    .fetch_all(&pool)
    .await
    .expect("tables");
    assert_eq!(tables, vec!["Items".to_string(), "items".to_string()]);
    // Two stores creating the same table at once both succeed.
    let both = futures::future::join_all((0..4).map(|_| {
        PostgresStore::builder()
            .pool(pool.clone())
            .table(format!("{schema}.raced"))
            .build()
    }))
    .await;
    assert!(both.iter().all(Result::is_ok), "{both:?}");
}

// CREATE TABLE IF NOT EXISTS racing itself can fail on the catalog (the table's name,
// its row type's name, the catalog's unique index): every store must still build.
#[tokio::test]
async fn stores_creating_one_table_at_once_all_build() {
    let Some(url) = common::url_or_skip("stores_creating_one_table_at_once_all_build") else {
        return;
    };
    let pool = sqlx::PgPool::connect(&url).await.expect("pool");
    for _ in 0..8 {
        let table = common::fresh_table();
        let built = futures::future::join_all((0..8).map(|_| {
            PostgresStore::builder()
                .pool(pool.clone())
                .table(table.clone())
                .build()
        }))
        .await;
        let refused: Vec<_> = built.iter().filter_map(|b| b.as_ref().err()).collect();
        assert!(refused.is_empty(), "table {table}: {refused:?}");
    }
}

#[tokio::test]
async fn a_missing_schema_is_a_configuration_error_naming_it() {
    let Some(url) = common::url_or_skip("a_missing_schema_is_a_configuration_error_naming_it")
    else {
        return;
    };
    let err = PostgresStore::builder()
        .url(url)
        .table("no_such_schema_xyz.items")
        .build()
        .await
        .expect_err("no schema");
    assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
    assert!(err.to_string().contains("no_such_schema_xyz"), "{err}");
}

#[tokio::test]
async fn a_missing_table_or_one_of_another_shape_is_a_configuration_error() {
    let Some(url) = common::url_or_skip("a_table_of_another_shape_is_a_configuration_error") else {
        return;
    };
    let pool = sqlx::PgPool::connect(&url).await.expect("pool");
    let missing = common::fresh_table();
    let err = PostgresStore::builder()
        .pool(pool.clone())
        .table(missing.clone())
        .create_table(false)
        .build()
        .await
        .expect_err("no table");
    match &err {
        Error::Configuration { reason, .. } => assert!(
            reason.contains(&format!("table {missing} does not exist")),
            "{reason}"
        ),
        other => panic!("expected a configuration error, got {other:?}"),
    }

    let foreign = common::fresh_table();
    sqlx::query(&format!(
        "CREATE TABLE \"{foreign}\" (partition TEXT, sort TEXT, value JSONB, id INT)"
    ))
    .execute(&pool)
    .await
    .expect("foreign table");
    let err = PostgresStore::builder()
        .pool(pool.clone())
        .table(foreign.clone())
        .build()
        .await
        .expect_err("another shape");
    match &err {
        Error::Configuration { reason, .. } => assert!(
            reason.contains("column value is jsonb, not json")
                && reason.contains("no column version (bigint)"),
            "{reason}"
        ),
        other => panic!("expected a configuration error, got {other:?}"),
    }

    // A table that goes away under a running store: refused for good, not a conflict.
    let store = PostgresStore::builder()
        .pool(pool.clone())
        .table(common::fresh_table())
        .build()
        .await
        .expect("store");
    sqlx::query(&format!("DROP TABLE \"{}\"", store.table()))
        .execute(&pool)
        .await
        .expect("drop");
    for err in [
        store
            .get(&Key::new("k"))
            .await
            .map(|_| ())
            .expect_err("gone"),
        store
            .insert(&Key::new("k"), json!(1))
            .await
            .map(|_| ())
            .expect_err("gone"),
    ] {
        assert_eq!(err.backend_kind(), Some(ErrorKind::Rejected), "{err:?}");
        assert!(!err.is_retryable() && !err.is_conflict(), "{err:?}");
    }
}

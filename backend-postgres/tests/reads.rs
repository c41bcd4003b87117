//! get_many, query and scan on PostgreSQL (contract R16–R18), against the memory store
//! as the reference: the same items give the same pages, in UTF-8 byte order, in both
//! modes, and on a table whose key columns have a linguistic collation too; tombstones
//! never show; cursors are bound to the server's table, not to the URL that reached it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_conformance::reference::{self, ScanOrder, reads_match_the_reference};

use optimist_core::{Key, QueryOptions, SortRange, VersionedStore};
use optimist_memory::MemoryStore;
use optimist_postgres::PostgresStore;
use serde_json::json;

#[tokio::test]
async fn queries_and_scans_match_the_memory_store() {
    let Some(_) = common::url_or_skip("queries_and_scans_match_the_memory_store") else {
        return;
    };
    let store = common::store().await.unwrap();
    assert!(store.key_index_in_byte_order());
    reads_match_the_reference(&store, &MemoryStore::new(), ScanOrder::Bytes).await;
    let store = common::tombstone_store().await.unwrap();
    reads_match_the_reference(&store, &MemoryStore::new(), ScanOrder::Bytes).await;
}

/// A table made by hand with a linguistic collation on its key columns ("B" after "a",
/// "é" before "f"): queries still answer in byte order, and the store says its index
/// cannot give that order.
#[tokio::test]
async fn a_table_of_another_collation_still_answers_in_byte_order() {
    let Some(url) = common::url_or_skip("a_table_of_another_collation") else {
        return;
    };
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let table = common::fresh_table();
    let create = format!(
        "CREATE TABLE \"{table}\" (\
         partition TEXT COLLATE \"und-x-icu\" NOT NULL, \
         sort TEXT COLLATE \"und-x-icu\" NOT NULL DEFAULT '', \
         value JSON, version BIGINT NOT NULL DEFAULT 0, token TEXT, deleted_at TIMESTAMPTZ, \
         PRIMARY KEY (partition, sort))"
    );
    sqlx::query(&create).execute(&pool).await.unwrap();
    let store = PostgresStore::builder()
        .pool(pool)
        .table(table)
        .create_table(false)
        .build()
        .await
        .unwrap();
    assert!(!store.key_index_in_byte_order());
    reads_match_the_reference(&store, &MemoryStore::new(), ScanOrder::Any).await;
}

#[tokio::test]
async fn get_many_answers_in_the_order_asked() {
    let Some(_) = common::url_or_skip("get_many_answers_in_the_order_asked") else {
        return;
    };
    let store = common::store().await.unwrap();
    reference::get_many_answers_in_the_order_asked(&store).await;
}

#[tokio::test]
async fn tombstones_never_show_and_pages_stay_full() {
    let Some(_) = common::url_or_skip("tombstones_never_show_and_pages_stay_full") else {
        return;
    };
    let store = common::tombstone_store().await.unwrap();
    reference::tombstones_never_show_and_pages_stay_full(&store).await;
}

/// A cursor names the table on the server, not the URL: a store reaching the same
/// server through a proxy continues it; a store on another table refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_belong_to_the_table_not_the_url() {
    let Some(url) = common::url_or_skip("cursors_belong_to_the_table_not_the_url") else {
        return;
    };
    let table = common::fresh_table();
    let direct = PostgresStore::builder()
        .url(url.clone())
        .table(table.clone())
        .build()
        .await
        .unwrap();
    for i in 0..4 {
        let key = Key::with_sort("p", format!("{i}"));
        direct.insert(&key, json!(i)).await.unwrap();
    }
    let options = QueryOptions::new().limit(2);
    let first = direct
        .query("p", SortRange::All, options.clone())
        .await
        .unwrap();
    let cursor = first.next.unwrap();

    // Bound, so the proxy lives as long as the store that goes through it.
    let (_proxy, proxied) = common::proxied(&url).await;
    let via_proxy = PostgresStore::builder()
        .url(proxied)
        .table(table)
        .build()
        .await
        .unwrap();
    let rest = via_proxy
        .query(
            "p",
            SortRange::All,
            options.clone().cursor(Some(cursor.clone())),
        )
        .await
        .unwrap();
    let sorts: Vec<&str> = rest.items.iter().filter_map(|(k, _)| k.sort()).collect();
    assert_eq!(sorts, ["2", "3"]);

    let other = common::store().await.unwrap();
    let err = other
        .query("p", SortRange::All, options.cursor(Some(cursor)))
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
}

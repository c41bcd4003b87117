//! The whole conformance suite, twice: on an in-memory database and on a fresh WAL file
//! per case.

mod common;

use optimist_conformance::{StoreFactory, Unavailable, factory_fn};
use optimist_sqlite::SqliteStore;

fn in_memory() -> impl StoreFactory {
    factory_fn("sqlite :memory:", || async {
        SqliteStore::builder()
            .memory()
            .build()
            .await
            .map_err(|e| Unavailable::new("SQLite in memory", e.to_string()))
    })
}

fn wal_file() -> impl StoreFactory {
    factory_fn("sqlite file (WAL)", || async {
        common::file_store("conformance")
            .await
            .map_err(|e| Unavailable::new("SQLite file", e.to_string()))
    })
}

optimist_conformance::suite!(memory: in_memory(), file: wal_file());

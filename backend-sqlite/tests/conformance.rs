//! The whole conformance suite on an in-memory database and on a fresh WAL file per
//! case, each in the default mode and in tombstone mode (contract R15).

mod common;

use optimist_conformance::{StoreFactory, Unavailable, factory_fn};
use optimist_sqlite::SqliteStore;

fn in_memory(tombstones: bool) -> impl StoreFactory {
    let name = if tombstones {
        "sqlite :memory: in tombstone mode"
    } else {
        "sqlite :memory:"
    };
    factory_fn(name, move || async move {
        SqliteStore::builder()
            .memory()
            .tombstones(tombstones)
            .build()
            .await
            .map_err(|e| Unavailable::new("SQLite in memory", e.to_string()))
    })
}

fn wal_file(tombstones: bool) -> impl StoreFactory {
    let name = if tombstones {
        "sqlite file (WAL) in tombstone mode"
    } else {
        "sqlite file (WAL)"
    };
    factory_fn(name, move || async move {
        common::file_store_with("conformance", |builder| builder.tombstones(tombstones))
            .await
            .map_err(|e| Unavailable::new("SQLite file", e.to_string()))
    })
}

optimist_conformance::suite!(
    memory: in_memory(false),
    file: wal_file(false),
    memory_tombstones: in_memory(true),
    file_tombstones: wal_file(true),
);

//! The whole conformance suite on an in-memory database and on a fresh WAL file per
//! case, each in the default mode and in tombstone mode (contract R15). The durability
//! case reopens each file (the pool closed, the file opened by a new store); an
//! in-memory database lives in its one connection, so nothing survives its store and
//! the case shows as ignored there.

mod common;

use optimist_conformance::{StoreFactory, Unavailable, factory_fn};
use optimist_sqlite::SqliteStore;

use common::FileStore;

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
    .without_reopen(
        "an in-memory database lives in its store's one connection: nothing survives the store",
    )
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
    .with_reopen(
        "the same database file, opened by a new store after the old one's pool was closed",
        move |store: FileStore| async move {
            store
                .reopened(|builder| builder.tombstones(tombstones))
                .await
                .map_err(|e| Unavailable::new("SQLite file", e.to_string()))
        },
    )
}

optimist_conformance::suite!(
    memory: in_memory(false),
    file: wal_file(false),
    memory_tombstones: in_memory(true),
    file_tombstones: wal_file(true),
);

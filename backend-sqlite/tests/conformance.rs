//! The whole conformance suite on an in-memory database and on a fresh WAL file per
//! case, each in the default mode and in tombstone mode.
//!
//! In tombstone mode the cases whose model restarts a re-inserted key at version 1 (the
//! contract's default, R15) show as ignored, with the reason: there an insert after a
//! delete continues the version. `tests/tombstone_model.rs` runs random sequences
//! against the memory store in tombstone mode instead, and `tests/tokens.rs` checks the
//! mode's rules one by one.

mod common;

use optimist_conformance::{FnFactory, StoreFactory, Unavailable, factory_fn};
use optimist_sqlite::SqliteStore;

/// The cases whose model says a key restarts at 1 after a delete.
const RESTARTING_MODEL: [&str; 7] = [
    "r15_insert_after_delete_restarts_at_1",
    "model_operations_match_the_model",
    "model_transactions_match_the_model",
    "r13_concurrent_histories_are_linearizable",
    "r13_concurrent_transactions_are_linearizable",
    "r12_faulty_histories_are_linearizable",
    "r12_faulty_transaction_histories_are_linearizable",
];

const WHY: &str = "the suite's model restarts a key at version 1 after a delete (R15's \
                   default); in tombstone mode the version continues: checked against the \
                   memory store in tombstone mode by tests/tombstone_model.rs";

/// `factory`, with the cases that assume the default mode ignored in tombstone mode.
fn in_mode<F>(factory: FnFactory<F>, tombstones: bool) -> FnFactory<F> {
    if !tombstones {
        return factory;
    }
    RESTARTING_MODEL
        .iter()
        .fold(factory, |factory, case| factory.ignore(*case, WHY))
}

fn in_memory(tombstones: bool) -> impl StoreFactory {
    let name = if tombstones {
        "sqlite :memory:, tombstones"
    } else {
        "sqlite :memory:"
    };
    let factory = factory_fn(name, move || async move {
        SqliteStore::builder()
            .memory()
            .tombstones(tombstones)
            .build()
            .await
            .map_err(|e| Unavailable::new("SQLite in memory", e.to_string()))
    });
    in_mode(factory, tombstones)
}

fn wal_file(tombstones: bool) -> impl StoreFactory {
    let name = if tombstones {
        "sqlite file (WAL), tombstones"
    } else {
        "sqlite file (WAL)"
    };
    let factory = factory_fn(name, move || async move {
        common::file_store_with("conformance", |builder| builder.tombstones(tombstones))
            .await
            .map_err(|e| Unavailable::new("SQLite file", e.to_string()))
    });
    in_mode(factory, tombstones)
}

optimist_conformance::suite!(
    memory: in_memory(false),
    file: wal_file(false),
    memory_tombstones: in_memory(true),
    file_tombstones: wal_file(true),
);

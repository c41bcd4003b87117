//! The public conformance suite, on a hash-only table and on a hash+range table, and on
//! a hash-only table in tombstone mode, one fresh table per case, against the server in
//! OPTIMIST_DYNAMODB_ENDPOINT. Each table's key schema is in the store's capabilities,
//! so the cases it cannot hold (sort keys on a hash-only table, keys without a sort
//! part on a hash+range table) show as ignored with that reason.

mod common;

use optimist_conformance::{StoreFactory, factory_fn};

/// The cases whose model (or assertion) has a deleted key restart at version 1: the
/// conformance suite has no tombstone-mode model yet.
const DEFAULT_MODE_CASES: &[&str] = &[
    "r15_insert_after_delete_restarts_at_1",
    "model_operations_match_the_model",
    "model_transactions_match_the_model",
    "r13_concurrent_histories_are_linearizable",
    "r13_concurrent_transactions_are_linearizable",
    "r12_faulty_histories_are_linearizable",
    "r12_faulty_transaction_histories_are_linearizable",
];

/// A fresh table per case, at the load moto can take in CI's time; in tombstone mode
/// or not.
fn tables(sort: bool, tombstones: bool) -> impl StoreFactory {
    let shape = match (sort, tombstones) {
        (false, false) => "hash-only",
        (true, false) => "hash+range",
        (false, true) => "hash-only, tombstone mode",
        (true, true) => "hash+range, tombstone mode",
    };
    let factory = factory_fn(common::describe(shape), move || async move {
        if tombstones {
            common::fresh_tombstone_store(sort).await
        } else {
            common::fresh_store(sort).await
        }
    })
    .with_load_percent(common::LOAD_PERCENT);
    let factory = if tombstones {
        DEFAULT_MODE_CASES.iter().fold(factory, |factory, case| {
            factory.ignore(
                *case,
                "the suite's model has a deleted key restart at version 1 (R15's default); \
                 tombstone mode continues the count, checked in tests/tokens.rs",
            )
        })
    } else {
        factory
    };
    if common::is_moto() {
        // Moto applies about 50 requests a second, one at a time: with 16 writers on
        // one key, the unluckiest writer keeps losing and one runs out of the default
        // policy's 40 attempts (seen at versions 74 and 274 of 801). Run it by hand
        // with `-- --ignored`, or against DynamoDB.
        factory.ignore(
            "r24_hot_key_16_writers_50_increments_all_land",
            "moto applies ~50 requests/s one at a time: a writer of the 16 exhausts the default 40 attempts",
        )
    } else {
        factory
    }
}

optimist_conformance::suite!(
    hash_only: tables(false, false),
    hash_and_range: tables(true, false),
    tombstones: tables(false, true),
);

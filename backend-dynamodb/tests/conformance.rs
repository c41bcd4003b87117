//! The public conformance suite, on a hash-only table and on a hash+range table, and on
//! a hash-only table in tombstone mode, one fresh table per case, against the server in
//! OPTIMIST_DYNAMODB_ENDPOINT. Each table's key schema and mode are in the store's
//! capabilities, so the cases it cannot hold (sort keys on a hash-only table, keys
//! without a sort part on a hash+range table, the other mode's cases) show as ignored
//! with that reason. The durability case reopens each table with a new client.

mod common;

use optimist_conformance::{StoreFactory, factory_fn};

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
    .with_load_percent(common::LOAD_PERCENT)
    .with_reopen(
        "the same table, opened by a new store on a new client after the old store was \
         dropped; the server is not restarted",
        common::reopen,
    );
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

//! The whole conformance suite on a fresh redb file per case, in the default mode and in
//! tombstone mode (contract R15). The durability case reopens each file: the store is
//! dropped (closing the database once its last call has finished) and the file opened
//! again by a new store, which reads it from disk. Each file is removed with its store.

mod common;

use common::TempStore;
use optimist_conformance::{StoreFactory, factory_fn};

fn file(tombstones: bool) -> impl StoreFactory {
    let name = if tombstones {
        "redb file in tombstone mode"
    } else {
        "redb file"
    };
    factory_fn(name, move || TempStore::fresh("conformance", tombstones)).with_reopen(
        "the same redb file, opened again by a new store after the old one was dropped",
        TempStore::reopened,
    )
}

optimist_conformance::suite!(default: file(false), tombstones: file(true));

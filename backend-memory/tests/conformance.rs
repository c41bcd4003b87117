//! The memory backend runs the whole conformance suite: it is the reference. Also on a
//! memory store limited like a DynamoDB table with a partition key only, so the suite's
//! handling of those limits is itself exercised without a server: the cases needing
//! sort keys or both key shapes show as ignored, from the capabilities alone. And in
//! tombstone mode (contract R15). The durability case shows as ignored: a memory store
//! keeps nothing past its process, so there is nothing to reopen.

use optimist_conformance::{StoreFactory, Unavailable, factory_fn};
use optimist_core::{Capabilities, KeyShape, NumberSupport};
use optimist_memory::MemoryStore;

/// Why the durability case does not apply.
const NOTHING_SURVIVES: &str =
    "nothing survives the process: a memory store's items live in the store";

fn reference() -> impl StoreFactory {
    factory_fn("memory", || async {
        Ok::<_, Unavailable>(MemoryStore::new())
    })
    .without_reopen(NOTHING_SURVIVES)
}

fn dynamodb_like() -> impl StoreFactory {
    factory_fn(
        "memory limited like a DynamoDB partition-key table",
        || async {
            Ok::<_, Unavailable>(MemoryStore::with_capabilities(
                Capabilities::new()
                    .with_numbers(NumberSupport::DYNAMODB)
                    .with_object_values_only(true)
                    .with_reserved_fields(["id", "version"])
                    .with_key_shape(KeyShape::PartitionOnly)
                    .with_max_depth(32)
                    .with_nul_in_keys(false)
                    .with_max_transaction_ops(25),
            ))
        },
    )
    .without_reopen(NOTHING_SURVIVES)
}

fn tombstones() -> impl StoreFactory {
    factory_fn("memory in tombstone mode", || async {
        Ok::<_, Unavailable>(MemoryStore::with_capabilities(
            Capabilities::new().with_tombstones(true),
        ))
    })
    .without_reopen(NOTHING_SURVIVES)
}

optimist_conformance::suite!(
    memory: reference(),
    dynamodb_like: dynamodb_like(),
    tombstones: tombstones()
);

//! The memory backend runs the whole conformance suite: it is the reference.

use optimist_conformance::{Unavailable, factory_fn};
use optimist_memory::MemoryStore;

optimist_conformance::suite!(factory_fn("memory", || async {
    Ok::<_, Unavailable>(MemoryStore::new())
}));

/// The same suite on a memory store limited like a DynamoDB table with a partition key
/// only, so the suite's handling of those limits is itself exercised without a server.
mod dynamodb_like {
    use optimist_conformance::{Unavailable, factory_fn};
    use optimist_core::{Capabilities, KeyShape, NumberSupport};
    use optimist_memory::MemoryStore;

    optimist_conformance::suite!(
        factory_fn("memory limited like a DynamoDB partition-key table", || async {
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
        }),
        unsupported: {
            mixed_key_shapes: "a DynamoDB table has one key schema",
            sort_keys: "this table has a partition key only",
        }
    );
}

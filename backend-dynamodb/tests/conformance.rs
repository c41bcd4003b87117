//! The public conformance suite, on a hash-only table and on a hash+range table, one
//! fresh table per case, against the server in OPTIMIST_DYNAMODB_ENDPOINT.

mod common;

mod hash_only {
    use optimist_conformance::factory_fn;

    optimist_conformance::suite!(
        factory_fn(super::common::describe("hash-only"), || super::common::fresh_store(false))
            .with_load_percent(super::common::LOAD_PERCENT),
        unsupported: {
            sort_keys: "a DynamoDB table keyed on a partition key only has no sort keys",
            mixed_key_shapes: "a DynamoDB table has one key schema",
        }
    );
}

mod hash_and_range {
    use optimist_conformance::factory_fn;

    optimist_conformance::suite!(
        factory_fn(super::common::describe("hash+range"), || super::common::fresh_store(true))
            .with_load_percent(super::common::LOAD_PERCENT),
        unsupported: {
            mixed_key_shapes: "a DynamoDB table has one key schema",
        }
    );
}

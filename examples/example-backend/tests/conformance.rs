//! The example backend runs the whole conformance suite. Its keys have no sort part,
//! so it declares the two key-shape features unsupported: those cases show as ignored
//! with the reason, never as passed.

use optimist_conformance::{Unavailable, factory_fn};
use optimist_example_backend::ExampleStore;

optimist_conformance::suite!(
    // A fresh, isolated store per case. A server-backed backend connects here and
    // returns Err(Unavailable::new("MyServer at ...", why)) when it cannot.
    factory_fn("example engine", || async {
        Ok::<_, Unavailable>(ExampleStore::new())
    }),
    unsupported: {
        mixed_key_shapes: "the example engine's keys are plain strings: no sort part",
        sort_keys: "the example engine's keys are plain strings: no sort part",
    }
);

//! The example backend runs the whole conformance suite. Its keys have no sort part,
//! which its capabilities say (`KeyShape::PartitionOnly`): the cases that need sort
//! keys show as ignored with that reason, never as passed, without a word here.
//!
//! Cargo.toml declares this target with `harness = false`: `suite!` writes its `main`.

use optimist_conformance::{Unavailable, factory_fn};
use optimist_example_backend::ExampleStore;

optimist_conformance::suite!(
    // A fresh, isolated store per case. A server-backed backend connects here and
    // returns Err(Unavailable::new("MyServer at ...", why)) when it cannot.
    factory_fn("example engine", || async {
        Ok::<_, Unavailable>(ExampleStore::new())
    })
);

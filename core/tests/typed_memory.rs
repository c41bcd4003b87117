//! The typed layer's cases (contract R20–R24) on the memory backend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

async fn memory() -> Option<optimist_memory::MemoryStore> {
    Some(optimist_memory::MemoryStore::new())
}

typed_cases!(memory);

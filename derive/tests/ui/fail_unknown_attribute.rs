use optimist_core::typed::Entity;
use serde::{Deserialize, Serialize};

#[derive(Entity, Serialize, Deserialize)]
struct Book {
    #[entity(hash_key)]
    id: u64,
    #[entity(version)]
    version: Option<u64>,
}

fn main() {}

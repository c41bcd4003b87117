use optimist_core::typed::Entity;
use serde::{Deserialize, Serialize};

#[derive(Entity, Serialize, Deserialize)]
struct Book {
    #[entity(partition_key)]
    id: u64,
    #[entity(version)]
    version: u64,
}

fn main() {}

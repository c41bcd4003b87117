use optimist_core::typed::Entity;
use serde::{Deserialize, Serialize};

#[derive(Entity, Serialize, Deserialize)]
struct Book {
    #[entity(partition_key)]
    id: u64,
    version: Option<u64>,
}

fn main() {}

use optimist_core::typed::Entity;
use serde::{Deserialize, Serialize};

#[derive(Entity, Serialize, Deserialize)]
struct Book {
    #[entity(partition_key)]
    id: u64,
    #[entity(version)]
    version: Option<i32>,
}

fn main() {}

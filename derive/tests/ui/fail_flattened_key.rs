use optimist_core::typed::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Id {
    id: String,
}

#[derive(Entity, Serialize, Deserialize)]
struct Book {
    #[entity(partition_key)]
    #[serde(flatten)]
    id: Id,
    #[entity(version)]
    version: Option<u64>,
}

fn main() {}

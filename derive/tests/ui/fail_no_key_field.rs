use optimist_core::typed::Entity;
use serde::{Deserialize, Serialize};

#[derive(Entity, Serialize, Deserialize)]
struct Book {
    id: u64,
    #[entity(version)]
    version: Option<u64>,
}

fn main() {}

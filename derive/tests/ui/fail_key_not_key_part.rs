use optimist_core::typed::Entity;
use serde::{Deserialize, Serialize};

#[derive(Entity, Serialize, Deserialize)]
struct Reading {
    #[entity(partition_key)]
    celsius: f64,
    #[entity(version)]
    version: Option<u64>,
}

fn main() {}

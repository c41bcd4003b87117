use optimist_core::typed::Entity;
use serde::{Deserialize, Serialize};

#[derive(Entity, Serialize, Deserialize)]
struct Book {
    #[entity(partition_key)]
    id: u64,
    title: String,
    #[entity(version)]
    version: std::option::Option<u64>,
}

#[derive(Entity, Serialize, Deserialize)]
struct Generic<T> {
    #[entity(partition_key)]
    r#type: String,
    #[entity(sort_key)]
    at: i64,
    payload: T,
    #[entity(version)]
    version: Option<u64>,
}

fn main() {
    let book = Book { id: 1, title: String::new(), version: None };
    assert_eq!(book.key(), optimist_core::Key::new("1"));
    assert_eq!(<Generic<u8> as Entity>::FIELDS.partition, "type");
}

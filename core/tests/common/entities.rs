//! The entities the typed-layer tests use.

use optimist_core::typed::Entity;
use serde::{Deserialize, Serialize};

/// The Book of .NET's optimistic-locking example: a numeric partition key and a version.
#[derive(Entity, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Book {
    #[entity(partition_key)]
    pub id: u64,
    pub title: String,
    pub authors: Vec<String>,
    #[entity(version)]
    pub version: Option<u64>,
}

impl Book {
    pub fn new(id: u64, title: &str) -> Self {
        Self {
            id,
            title: title.to_owned(),
            authors: vec!["Frank Herbert".to_owned()],
            version: None,
        }
    }
}

/// A partition and a sort key, serde renames, and a version skipped when `None`.
#[derive(Entity, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Chapter {
    #[entity(partition_key)]
    pub book_id: String,
    #[entity(sort_key)]
    pub chapter_no: u32,
    pub page_count: u32,
    #[entity(version)]
    #[serde(rename = "rev", skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

/// A counter for the retry tests.
#[derive(Entity, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Counter {
    #[entity(partition_key)]
    pub id: String,
    pub count: u64,
    #[entity(version)]
    pub version: Option<u64>,
}

impl Counter {
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            count: 0,
            version: None,
        }
    }
}

//! The entities the typed cases save: derived with `#[derive(Entity)]` as an
//! application would.

use optimist_core::typed::Entity;
use serde::{Deserialize, Serialize};

/// A numeric partition key and a version.
#[derive(Entity, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(crate) struct Book {
    #[entity(partition_key)]
    pub(crate) id: u64,
    pub(crate) title: String,
    pub(crate) authors: Vec<String>,
    #[entity(version)]
    pub(crate) version: Option<u64>,
}

impl Book {
    pub(crate) fn new(id: u64, title: &str) -> Self {
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
pub(crate) struct Chapter {
    #[entity(partition_key)]
    pub(crate) book_id: String,
    #[entity(sort_key)]
    pub(crate) chapter_no: u32,
    pub(crate) page_count: u32,
    #[entity(version)]
    #[serde(rename = "rev", skip_serializing_if = "Option::is_none")]
    pub(crate) version: Option<u64>,
}

/// A counter for the retry cases.
#[derive(Entity, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(crate) struct Counter {
    #[entity(partition_key)]
    pub(crate) id: String,
    pub(crate) count: u64,
    #[entity(version)]
    pub(crate) version: Option<u64>,
}

impl Counter {
    pub(crate) fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            count: 0,
            version: None,
        }
    }
}

/// A log of change ids, for the write-combining case: every id must appear once.
#[derive(Entity, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(crate) struct ChangeLog {
    #[entity(partition_key)]
    pub(crate) id: String,
    pub(crate) changes: Vec<u64>,
    #[entity(version)]
    pub(crate) version: Option<u64>,
}

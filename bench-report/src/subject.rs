//! What is measured: something that reads and conditionally updates numbered items.

use async_trait::async_trait;

/// One side of a pair: optimist, or the raw driver running the same statements. Items
/// are numbered; both sides name item `n` [`item_name`]`(n)`, so they read and write
/// the same rows.
#[async_trait]
pub trait Subject: Send + Sync {
    /// Reads item `n` (its value decoded, as a caller needs it); whether it exists.
    async fn get(&self, n: u64) -> bool;

    /// Writes a fresh value to item `n` if it is at version `expected`: `Ok(new
    /// version)`, or `Err(current version)` when refused (the current item read as the
    /// refusal carries it).
    async fn update(&self, n: u64, expected: u64) -> Result<u64, u64>;

    /// Stores items `from..to` at version 1, as fast as the backend allows (bulk
    /// statements in the store's layout, or the store's API batched).
    async fn fill(&self, from: u64, to: u64);
}

/// The partition key of item `n`.
///
/// ```
/// assert_eq!(optimist_bench_report::item_name(7), "item-7");
/// ```
pub fn item_name(n: u64) -> String {
    format!("item-{n}")
}

/// The value both sides of every report write on each update and fill: a small
/// document (four fields, an array), built fresh per call as a caller would.
///
/// ```
/// let value = optimist_bench_report::item_value();
/// assert_eq!(value["title"], "Dune");
/// ```
pub fn item_value() -> serde_json::Value {
    serde_json::json!({"title": "Dune", "author": "Frank Herbert", "copies": 3, "tags": ["sf", "classic"]})
}

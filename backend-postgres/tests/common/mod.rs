//! What the PostgreSQL tests share: the server's URL, fresh tables, and the skip rule.
#![allow(dead_code)] // each test file uses a part
#![allow(clippy::panic)] // tests fail by panicking

pub mod proxy;

use optimist_conformance::Unavailable;
use optimist_postgres::PostgresStore;

/// The variable scripts/services/postgres.sh exports.
pub const URL_VAR: &str = "OPTIMIST_POSTGRES_URL";

/// The server's URL, or why there is none.
pub fn url() -> Result<String, Unavailable> {
    std::env::var(URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| Unavailable::new("PostgreSQL", format!("{URL_VAR} is not set")))
}

/// A table name no other case uses.
pub fn fresh_table() -> String {
    format!("optimist_test_{:016x}", rand::random::<u64>())
}

/// A store on a fresh table of the test server.
pub async fn store() -> Result<PostgresStore, Unavailable> {
    let url = url()?;
    PostgresStore::builder()
        .url(url)
        .table(fresh_table())
        .build()
        .await
        .map_err(|e| Unavailable::new("PostgreSQL", e.to_string()))
}

/// The server's URL; without one the test fails under `CI`/`OPTIMIST_REQUIRE_ALL` and
/// otherwise returns `None` after printing why it skips.
pub fn url_or_skip(test: &str) -> Option<String> {
    match url() {
        Ok(url) => Some(url),
        Err(why) if optimist_conformance::env::require_all() => {
            panic!("{test}: {why} (CI or OPTIMIST_REQUIRE_ALL is set)")
        }
        Err(why) => {
            println!("skipped {test}: {why}");
            None
        }
    }
}

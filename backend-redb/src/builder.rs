//! The builder: the file, the table, the mode, the limits.

use std::path::PathBuf;
use std::sync::Arc;

use optimist_core::retry::RetryPolicy;
use optimist_core::{Capabilities, Error, Result};
use redb::Database;

use crate::error;
use crate::item;
use crate::store::{RedbStore, Shared};

/// The table the items go to unless [`RedbStoreBuilder::table`] names another.
pub const DEFAULT_TABLE: &str = "optimist_items";

/// The longest table name accepted, in bytes.
const MAX_TABLE_NAME_BYTES: usize = 255;

/// Builds a [`RedbStore`]; from [`RedbStore::builder`].
///
/// ```no_run
/// use std::time::Duration;
/// use optimist_redb::RedbStore;
///
/// # async fn f() -> optimist_core::Result<()> {
/// let store = RedbStore::builder()
///     .path("app.redb")        // required; created if missing
///     .table("orders")         // default "optimist_items"
///     .tombstones(true)        // default false (contract R15)
///     .max_item_bytes(64 * 1024)
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RedbStoreBuilder {
    path: Option<PathBuf>,
    table: String,
    tombstones: bool,
    max_item_bytes: Option<usize>,
    retry_policy: Option<RetryPolicy>,
}

impl Default for RedbStoreBuilder {
    fn default() -> Self {
        Self {
            path: None,
            table: DEFAULT_TABLE.to_string(),
            tombstones: false,
            max_item_bytes: None,
            retry_policy: None,
        }
    }
}

impl RedbStoreBuilder {
    /// The database file, created if missing. redb lets one process open a file once:
    /// share one store (its clones share the database) rather than building two on
    /// one file, which answers `Error::Configuration`.
    ///
    /// ```
    /// let builder = optimist_redb::RedbStore::builder().path("/var/lib/app/items.redb");
    /// # let _ = builder;
    /// ```
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The redb table holding the items (default [`DEFAULT_TABLE`]): any non-empty name
    /// of at most 255 bytes without control characters. Several tables can live in
    /// one file, used by one store each over time.
    ///
    /// ```
    /// let builder = optimist_redb::RedbStore::builder().table("orders");
    /// # let _ = builder;
    /// ```
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// Tombstone mode (contract R15): a delete leaves a tombstone that keeps the
    /// version counting, and `purge_tombstones` removes old ones. Off by default.
    ///
    /// ```
    /// let builder = optimist_redb::RedbStore::builder().tombstones(true);
    /// # let _ = builder;
    /// ```
    pub fn tombstones(mut self, on: bool) -> Self {
        self.tombstones = on;
        self
    }

    /// The largest item accepted, in bytes of its JSON text (default 400 KiB, as every
    /// shipped backend).
    ///
    /// ```
    /// let builder = optimist_redb::RedbStore::builder().max_item_bytes(1 << 20);
    /// # let _ = builder;
    /// ```
    pub fn max_item_bytes(mut self, bytes: usize) -> Self {
        self.max_item_bytes = Some(bytes);
        self
    }

    /// How often a request that failed transiently and applied nothing (a read that
    /// met an I/O error) is sent again. Default
    /// [`RetryPolicy::transient_default`].
    ///
    /// ```
    /// use optimist_core::retry::RetryPolicy;
    /// let builder = optimist_redb::RedbStore::builder().retry_policy(RetryPolicy::transient_default().clone());
    /// # let _ = builder;
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// Opens (or creates) the file and the table, on tokio's blocking pool.
    ///
    /// # Errors
    ///
    /// `Error::Configuration` when no path is set, the table name is not acceptable,
    /// the file cannot be opened (missing folder, permissions, not a redb file, already
    /// open in this process), or the table exists with other types.
    pub async fn build(self) -> Result<RedbStore> {
        let path = self
            .path
            .clone()
            .ok_or_else(|| error::configuration("no database file: call .path(..)"))?;
        check_table_name(&self.table)?;
        let mut capabilities = Capabilities::new().with_tombstones(self.tombstones);
        if let Some(bytes) = self.max_item_bytes {
            capabilities = capabilities.with_max_item_bytes(bytes);
        }
        let retry_policy = self
            .retry_policy
            .unwrap_or_else(|| RetryPolicy::transient_default().clone());
        let table = self.table;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            error::configuration(
                "build() runs on tokio's blocking pool: call it inside a tokio runtime",
            )
        })?;
        let opened = runtime
            .spawn_blocking({
                let (path, table) = (path.clone(), table.clone());
                move || open(&path, &table)
            })
            .await
            .map_err(|err| {
                error::configuration(format!("opening the database stopped: {err}"))
            })??;
        tracing::debug!(path = %path.display(), %table, "redb store opened");
        Ok(RedbStore {
            shared: Arc::new(Shared {
                db: opened,
                path,
                table,
                capabilities,
                retry_policy,
            }),
        })
    }
}

fn check_table_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(error::configuration("the table name is empty"));
    }
    if name.len() > MAX_TABLE_NAME_BYTES {
        return Err(error::configuration(format!(
            "the table name is {} bytes, over {MAX_TABLE_NAME_BYTES}",
            name.len()
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(error::configuration(
            "the table name holds a control character",
        ));
    }
    Ok(())
}

/// Opens the file and creates the table if missing, in one durable write transaction.
fn open(path: &std::path::Path, table: &str) -> Result<Database> {
    let shown = path.display();
    let db = Database::create(path).map_err(|err| match err {
        redb::DatabaseError::DatabaseAlreadyOpen => error::configuration(format!(
            "{shown} is already open in this process (share one store: its clones share the database)"
        )),
        err => error::configuration(format!("cannot open {shown}: {err}")),
    })?;
    let fail = |err: &dyn std::fmt::Display| -> Error {
        error::configuration(format!("cannot set up table {table:?} in {shown}: {err}"))
    };
    let tx = db.begin_write().map_err(|e| fail(&e))?;
    tx.open_table(item::table(table)).map_err(|e| fail(&e))?;
    tx.commit().map_err(|e| fail(&e))?;
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_checked() {
        assert!(check_table_name("orders").is_ok());
        assert!(check_table_name("with spaces and ünicode").is_ok());
        for bad in ["", "tab\there", &"x".repeat(256)] {
            assert!(check_table_name(bad).is_err(), "{bad:?}");
        }
    }
}

//! The table when a store is built: created if missing, brought up to this layout if a
//! previous one made it, and checked against every statement the store runs.

use optimist_core::StorageError;
use optimist_core::retry::{RetryPolicy, retry_transient};
use sqlx::{Connection, Executor, SqliteConnection};

use crate::db::Db;
use crate::error;
use crate::sql::Sql;

/// The columns every layout of the table has had.
const BASE_COLUMNS: [&str; 5] = ["partition_key", "has_sort", "sort_key", "value", "version"];

/// The columns the first layout lacked (write tokens and tombstones), as `(name,
/// type)`: both nullable, so `ALTER TABLE … ADD COLUMN` adds them without touching a
/// row, and every row already there reads as written by another client (no token).
const ADDED_COLUMNS: [(&str, &str); 2] = [("token", "TEXT"), ("deleted_at", "INTEGER")];

/// Creates the table if it is missing, adds the columns a table of the previous layout
/// lacks, creates the tombstone index in tombstone mode, and prepares every statement
/// against the result; all in one `BEGIN IMMEDIATE` transaction, so that stores built
/// at once on one file take turns, and a table that does not fit is left as it was.
/// Retried within the policy: opening a connection can answer busy too, as switching a
/// new file to WAL takes a lock that SQLite's busy handler does not wait for.
///
/// `Ok(Err(reason))`: the table does not fit the store.
pub(crate) async fn open_table(
    db: &Db,
    sql: &Sql,
    table: &str,
    policy: &RetryPolicy,
) -> optimist_core::retry::Attempted<Result<(), String>> {
    retry_transient(policy, || async {
        let mut conn = db.acquire().await.map_err(error::unapplied)?;
        let mut tx = conn
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(error::unapplied)?;
        let fits = prepare(&mut tx, sql, table).await?;
        if fits.is_ok() {
            tx.commit().await.map_err(error::committing)?;
        }
        // Otherwise dropping `tx` rolls back every change.
        Ok(fits)
    })
    .await
}

/// The work of [`open_table`] inside its transaction.
async fn prepare(
    conn: &mut SqliteConnection,
    sql: &Sql,
    table: &str,
) -> Result<Result<(), String>, StorageError> {
    conn.execute(sql.create.as_str())
        .await
        .map_err(error::unapplied)?;
    let columns = Columns::of(conn, table).await?;
    if BASE_COLUMNS.iter().all(|name| columns.has(name)) {
        for (name, kind) in ADDED_COLUMNS {
            if !columns.has(name) {
                tracing::info!(table, column = name, "sqlite: adding a column to the table");
                let alter = format!("ALTER TABLE \"{table}\" ADD COLUMN {name} {kind}");
                conn.execute(alter.as_str())
                    .await
                    .map_err(error::unapplied)?;
            }
        }
    }
    if sql.tombstones {
        if columns.not_null("value") {
            return Ok(Err(format!(
                "the table {table:?} was made before tombstones: its value column is NOT NULL, \
                 and SQLite cannot make a column nullable in place; copy it into a table of \
                 the current layout (see the README) or keep this table in default mode"
            )));
        }
        conn.execute(sql.tombstone_index.as_str())
            .await
            .map_err(error::unapplied)?;
    }
    Ok(misfit(conn, sql).await?.map_or(Ok(()), |message| {
        Err(format!(
            "the table {table:?} exists with another schema than the store's ({message}); \
             name another table or drop this one"
        ))
    }))
}

/// The table's columns, as `PRAGMA table_info` lists them: name and NOT NULL flag.
struct Columns(Vec<(String, bool)>);

impl Columns {
    async fn of(conn: &mut SqliteConnection, table: &str) -> Result<Self, StorageError> {
        let rows: Vec<(String, bool)> =
            sqlx::query_as("SELECT name, \"notnull\" FROM pragma_table_info(?1)")
                .bind(table)
                .fetch_all(&mut *conn)
                .await
                .map_err(error::unapplied)?;
        Ok(Self(rows))
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(column, _)| column == name)
    }

    fn not_null(&self, name: &str) -> bool {
        self.0
            .iter()
            .any(|(column, not_null)| column == name && *not_null)
    }
}

/// Prepares every statement: SQLite's message for the first that does not fit the
/// table (a table of the same name made by another tool), `None` if all fit.
async fn misfit(conn: &mut SqliteConnection, sql: &Sql) -> Result<Option<String>, StorageError> {
    for statement in sql.statements() {
        if let Err(err) = conn.prepare(statement).await {
            return match error::schema_mismatch(&err) {
                Some(message) => Ok(Some(message.to_string())),
                None => Err(error::unapplied(err)),
            };
        }
    }
    Ok(None)
}

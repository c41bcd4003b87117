//! The table's shape: created when asked, then checked, so that a missing table or one
//! of another shape is a configuration error of `build` rather than a failure of every
//! operation.

use optimist_core::{Applied, Error, Result};
use sqlx::Row;
use sqlx::postgres::PgPool;

use crate::connection::Connection;
use crate::error;
use crate::store::BACKEND;
use crate::table::TableName;

/// The columns every statement uses, with their types as `format_type` names them.
const COLUMNS: [(&str, &str); 4] = [
    ("partition", "text"),
    ("sort", "text"),
    ("value", "json"),
    ("version", "bigint"),
];

/// The table's columns, found as the statements find the table (through the
/// `search_path` when the name has no schema); no row if there is no such table.
const COLUMNS_OF: &str = "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) \
     FROM pg_attribute a \
     WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped";

/// Creates the table with `create` (unless `None`), then checks its columns.
pub(crate) async fn prepare(
    pool: &PgPool,
    table: &TableName,
    create: Option<&str>,
    response_timeout: std::time::Duration,
) -> Result<()> {
    let mut conn = Connection::acquire(pool, response_timeout)
        .await
        .map_err(error::setup)?;
    if let Some(statement) = create {
        create_table(&mut conn, table, statement).await?;
    }
    check(&mut conn, table).await
}

async fn create_table(conn: &mut Connection, table: &TableName, statement: &str) -> Result<()> {
    let Err(err) = conn
        .fetch_optional(sqlx::query(statement), Applied::Maybe)
        .await
    else {
        return Ok(());
    };
    match error::sqlstate(&err).as_deref() {
        // Two stores creating the same table at once: CREATE TABLE IF NOT EXISTS can
        // still fail on the catalog's unique index; the table then exists.
        Some("23505" | "42P07") => Ok(()),
        Some("3F000") => Err(missing_schema(table)),
        _ => Err(error::setup(err)),
    }
}

async fn check(conn: &mut Connection, table: &TableName) -> Result<()> {
    let query = sqlx::query(COLUMNS_OF).bind(table.quoted());
    let rows = match conn.fetch_all(query, Applied::No).await {
        Ok(rows) => rows,
        Err(err) if error::sqlstate(&err).as_deref() == Some("3F000") => {
            return Err(missing_schema(table));
        }
        Err(err) => return Err(error::setup(err)),
    };
    if rows.is_empty() {
        return Err(Error::configuration(
            BACKEND,
            format!(
                "table {table} does not exist: create it with the columns the README's \
                 Schema lists, or build with .create_table(true)"
            ),
        ));
    }
    let mut found = Vec::with_capacity(rows.len());
    for row in &rows {
        let name: String = row
            .try_get(0)
            .map_err(|e| error::setup(error::sent(e, Applied::No)))?;
        let kind: String = row
            .try_get(1)
            .map_err(|e| error::setup(error::sent(e, Applied::No)))?;
        found.push((name, kind));
    }
    let problems: Vec<String> = COLUMNS
        .iter()
        .filter_map(
            |(name, kind)| match found.iter().find(|(found, _)| found == name) {
                None => Some(format!("no column {name} ({kind})")),
                Some((_, other)) if other != kind => {
                    Some(format!("column {name} is {other}, not {kind}"))
                }
                Some(_) => None,
            },
        )
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::configuration(
        BACKEND,
        format!(
            "table {table} is not of this store's shape: {}",
            problems.join(", ")
        ),
    ))
}

fn missing_schema(table: &TableName) -> Error {
    Error::configuration(
        BACKEND,
        format!(
            "the schema of table {table} does not exist: create it, or name another schema \
             in .table(...)"
        ),
    )
}

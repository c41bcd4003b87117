//! The table's shape: created when asked, brought up to date from the layout before
//! write tokens when allowed, then checked, so that a missing, outdated or foreign table
//! is a configuration error of `build` rather than a failure of every operation.

use optimist_core::{Applied, Error, Result};
use sqlx::Row;

use crate::connection::Connection;
use crate::error;
use crate::store::BACKEND;
use crate::table::TableName;

/// The columns every statement uses, with their types as `format_type` names them.
const COLUMNS: [(&str, &str); 6] = [
    ("partition", "text"),
    ("sort", "text"),
    ("value", "json"),
    ("version", "bigint"),
    ("token", "text"),
    ("deleted_at", "timestamp with time zone"),
];

/// The columns the layout before write tokens lacks; the upgrade adds them.
const ADDED: [&str; 2] = ["token", "deleted_at"];

/// The table's columns, found as the statements find the table (through the
/// `search_path` when the name has no schema); no row if there is no such table.
const COLUMNS_OF: &str = "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), \
     a.attnotnull \
     FROM pg_attribute a \
     WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped";

/// What `build` may do to the table, and what the store needs of it.
pub(crate) struct Layout<'a> {
    /// Whether `build` may create the table or bring it up to date.
    pub(crate) may_change: bool,
    /// The statement that creates the table.
    pub(crate) create: &'a str,
    /// The statement that brings a table of the layout before write tokens up to date.
    pub(crate) upgrade: &'a str,
    /// Tombstone mode, which stores NULL values.
    pub(crate) tombstones: bool,
}

/// Creates the table (or brings it up to date) as `layout` allows, then checks it.
pub(crate) async fn prepare(
    conn: &mut Connection,
    table: &TableName,
    layout: &Layout<'_>,
) -> Result<()> {
    if !layout.may_change {
        return inspect(conn, table).await?.judge(table, layout, None);
    }
    run(conn, table, layout.create).await?;
    let shape = inspect(conn, table).await?;
    if !(shape.foreign.is_empty() && !shape.missing && shape.outdated()) {
        return shape.judge(table, layout, None);
    }
    tracing::info!(%table, "adding the write token columns to a table of the earlier layout");
    // Another store may bring it up to date at the same moment, and either may fail:
    // look again before giving up.
    let failure = run(conn, table, layout.upgrade).await.err();
    let shape = inspect(conn, table).await?;
    shape.judge(table, layout, failure.map(|err| err.to_string()))
}

/// Runs a statement of the table's set-up.
async fn run(conn: &mut Connection, table: &TableName, statement: &str) -> Result<()> {
    let Err(err) = conn
        .fetch_optional(sqlx::query(statement), Applied::Maybe)
        .await
    else {
        return Ok(());
    };
    match error::sqlstate(&err).as_deref() {
        // Two stores creating the same table at once: CREATE TABLE IF NOT EXISTS can
        // still fail, on the catalog's unique index (23505), on the table's name
        // (42P07) or on its row type's (42710, "type ... already exists"). The caller
        // inspects the table next, so a name taken by something else is still refused.
        Some("23505" | "42P07" | "42710") => Ok(()),
        Some("3F000") => Err(missing_schema(table)),
        _ => Err(error::setup(err)),
    }
}

/// What the table looks like, against what the statements need.
struct Shape {
    /// No such table.
    missing: bool,
    /// Columns that are absent or of another type, beyond what an upgrade adds.
    foreign: Vec<String>,
    /// Columns of this layout the table lacks (it predates write tokens).
    lacking: Vec<&'static str>,
    /// `value` is NOT NULL (the earlier layout), so no tombstone can be stored.
    value_not_null: bool,
}

impl Shape {
    /// Whether the table is of the layout before write tokens, in any part.
    fn outdated(&self) -> bool {
        !self.lacking.is_empty() || self.value_not_null
    }

    /// Whether a store in `layout` can use the table; the error names what is wrong and
    /// how to fix it.
    /// `upgrade_failure`: why bringing the table up to date failed, if it was tried.
    fn judge(
        self,
        table: &TableName,
        layout: &Layout<'_>,
        upgrade_failure: Option<String>,
    ) -> Result<()> {
        if self.missing {
            return Err(Error::configuration(
                BACKEND,
                format!(
                    "table {table} does not exist: create it with the columns the README's \
                     Schema lists, or build with .create_table(true)"
                ),
            ));
        }
        let mut problems = self.foreign.clone();
        problems.extend(self.lacking.iter().map(|name| {
            let kind = COLUMNS
                .iter()
                .find(|(column, _)| column == name)
                .map_or("", |(_, kind)| kind);
            format!("no column {name} ({kind})")
        }));
        // A NOT NULL value column only matters where tombstones are written.
        if self.value_not_null && layout.tombstones {
            problems.push("column value is NOT NULL, which tombstones need to be".into());
        }
        if problems.is_empty() {
            return Ok(());
        }
        let fix = match (self.outdated() && self.foreign.is_empty(), upgrade_failure) {
            (false, _) => String::new(),
            (true, Some(failure)) => format!(
                "; bringing it up to date from the layout before write tokens failed \
                 ({failure}): run {}",
                layout.upgrade
            ),
            (true, None) => format!(
                "; a table of the layout before write tokens is brought up to date by \
                 building with .create_table(true), or by running: {}",
                layout.upgrade
            ),
        };
        Err(Error::configuration(
            BACKEND,
            format!(
                "table {table} is not of this store's shape: {}{fix}",
                problems.join(", ")
            ),
        ))
    }
}

/// Reads the table's columns.
async fn inspect(conn: &mut Connection, table: &TableName) -> Result<Shape> {
    let query = sqlx::query(COLUMNS_OF).bind(table.quoted());
    let rows = match conn.fetch_all(query, Applied::No).await {
        Ok(rows) => rows,
        Err(err) if error::sqlstate(&err).as_deref() == Some("3F000") => {
            return Err(missing_schema(table));
        }
        Err(err) => return Err(error::setup(err)),
    };
    let mut found = Vec::with_capacity(rows.len());
    for row in &rows {
        let column = |e| error::setup(error::sent(e, Applied::No));
        let name: String = row.try_get(0).map_err(column)?;
        let kind: String = row.try_get(1).map_err(column)?;
        let not_null: bool = row.try_get(2).map_err(column)?;
        found.push((name, kind, not_null));
    }
    let mut shape = Shape {
        missing: rows.is_empty(),
        foreign: Vec::new(),
        lacking: Vec::new(),
        value_not_null: false,
    };
    for (name, kind) in COLUMNS {
        match found.iter().find(|(found, _, _)| found == name) {
            None if ADDED.contains(&name) => shape.lacking.push(name),
            None => shape.foreign.push(format!("no column {name} ({kind})")),
            Some((_, other, _)) if other != kind => {
                shape
                    .foreign
                    .push(format!("column {name} is {other}, not {kind}"));
            }
            Some((_, _, not_null)) => {
                shape.value_not_null |= name == "value" && *not_null;
            }
        }
    }
    Ok(shape)
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

//! What the server says about the table when a store is built: which data it names (the
//! store's identity, which query and scan cursors are bound to), and whether its primary
//! key's index is in byte order, so that a query reads a range of it.

use optimist_core::{Applied, Result};

use crate::connection::Connection;
use crate::error;
use crate::row::column;
use crate::table::TableName;

/// The server as it sees itself (its address and port, the same through any proxy or
/// host name), the database, the schema and the table the name resolves to; and
/// whether every column of the primary key's index sorts with the `C` (or `POSIX`)
/// collation, the one the query statements ask for.
const PROBE: &str = "SELECT coalesce(host(inet_server_addr()), 'local socket'), \
     coalesce(inet_server_port(), 0), current_database()::text, n.nspname::text, \
     c.relname::text, \
     coalesce((SELECT bool_and(co.collname IN ('C', 'POSIX')) \
     FROM pg_index i CROSS JOIN LATERAL unnest(i.indcollation::oid[]) AS u(coll) \
     JOIN pg_collation co ON co.oid = u.coll \
     WHERE i.indrelid = c.oid AND i.indisprimary), false) \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.oid = to_regclass($1)";

/// What [`probe`] learnt.
#[derive(Debug)]
pub(crate) struct TableFacts {
    /// Names the data: `postgres://address:port/database schema.table`.
    pub(crate) identity: String,
    /// Whether a query's `ORDER BY sort COLLATE "C"` is the primary key's order.
    pub(crate) byte_ordered: bool,
    /// The schema the table's name resolved to.
    pub(crate) schema: String,
    /// The table's name in it.
    pub(crate) name: String,
}

/// Asks the server about `table`, which `schema::prepare` has checked exists.
pub(crate) async fn probe(conn: &mut Connection, table: &TableName) -> Result<TableFacts> {
    let query = sqlx::query(PROBE).bind(table.quoted());
    let row = conn
        .fetch_optional(query, Applied::No)
        .await
        .map_err(error::setup)?
        .ok_or_else(|| error::setup(crate::row::no_row(Applied::No)))?;
    let text = |index| column::<String>(&row, index, Applied::No).map_err(error::setup);
    let port: i32 = column(&row, 1, Applied::No).map_err(error::setup)?;
    let (schema, name) = (text(3)?, text(4)?);
    let identity = format!(
        "postgres://{}:{port}/{} {schema}.{name}",
        text(0)?,
        text(2)?
    );
    let byte_ordered: bool = column(&row, 5, Applied::No).map_err(error::setup)?;
    if !byte_ordered {
        tracing::warn!(
            %table,
            "the table's primary key is not in byte order (its key columns are not \
             COLLATE \"C\"): query answers are right, but each page sorts its partition; \
             the README's Schema tells how to change the columns"
        );
    }
    Ok(TableFacts {
        identity,
        byte_ordered,
        schema,
        name,
    })
}

//! The statements of reads beyond one key (`get_many`, `query`, `scan`), built once per
//! store. Each is one `SELECT` on the primary key's index, so it reads one snapshot of
//! the database and never sorts: SQLite's `BINARY` collation compares text with
//! `memcmp`, which on UTF-8 text is the byte order the contract asks for (R17).
//!
//! Tombstones (`value IS NULL`) are skipped in the statement itself, so a page holds
//! as many items as it can: a tombstone costs an index step, not a place in the page.

use std::ops::Bound;

use optimist_core::Direction;

/// The most key slots a prepared `read_many` statement has; a larger batch gets a
/// statement made for it.
const MAX_PREPARED_SLOTS: usize = 128;

/// The statements of one table.
#[derive(Debug)]
pub(crate) struct ReadSql {
    /// `read_many` with 1, 2, 4, … [`MAX_PREPARED_SLOTS`] key slots: a batch uses the
    /// smallest that fits and binds NULL to the slots it leaves over (NULL matches no
    /// row), so a handful of statements serve every size.
    many: Vec<String>,
    /// `query`, one per kind of lower bound, kind of upper bound and direction (see
    /// [`ReadSql::query`]).
    query: Vec<String>,
    /// `scan`'s first page.
    scan_first: String,
    /// `scan` after a key: `?1`–`?3` the key's columns, `?4` the limit.
    scan_after: String,
    /// The table, quoted, for statements made on demand.
    table: String,
}

/// Which comparison a bound of a query makes: none, `>=`/`<=`, or `>`/`<`.
fn bound_kind<T>(bound: &Bound<T>) -> usize {
    match bound {
        Bound::Unbounded => 0,
        Bound::Included(_) => 1,
        Bound::Excluded(_) => 2,
    }
}

impl ReadSql {
    /// The statements for `table`, which must have passed
    /// [`check_name`](crate::table::check_name).
    pub(crate) fn new(table: &str) -> Self {
        let t = format!("\"{table}\"");
        let mut many = Vec::new();
        let mut slots = 1;
        while slots <= MAX_PREPARED_SLOTS {
            many.push(many_sql(&t, slots));
            slots *= 2;
        }
        let mut query = Vec::with_capacity(18);
        for lower in 0..3 {
            for upper in 0..3 {
                for descending in [false, true] {
                    query.push(query_sql(&t, lower, upper, descending));
                }
            }
        }
        let columns = "partition_key, has_sort, sort_key, value, version, token";
        let order = "ORDER BY partition_key, has_sort, sort_key";
        Self {
            many,
            query,
            scan_first: format!(
                "SELECT {columns} FROM {t} WHERE value IS NOT NULL {order} LIMIT ?1"
            ),
            // A row value comparison: SQLite walks the primary key's index from the key
            // on, in the index's own order.
            scan_after: format!(
                "SELECT {columns} FROM {t} \
                 WHERE (partition_key, has_sort, sort_key) > (?1, ?2, ?3) AND value IS NOT NULL \
                 {order} LIMIT ?4"
            ),
            table: t,
        }
    }

    /// The `read_many` statement for `keys` keys and how many key slots it has; its
    /// parameters are three per slot (partition, has-sort flag, sort part) and it
    /// answers `(slot, value, version, token)` for the slots that hold a row.
    pub(crate) fn many(&self, keys: usize) -> (std::borrow::Cow<'_, str>, usize) {
        let slots = keys.max(1).next_power_of_two();
        let index = slots.trailing_zeros() as usize;
        match self.many.get(index) {
            Some(sql) => (sql.as_str().into(), slots),
            None => (many_sql(&self.table, keys).into(), keys),
        }
    }

    /// The `query` statement for these bounds on the sort part and this direction.
    /// Parameters: `?1` partition, `?2` limit, then the lower bound if there is one,
    /// then the upper bound if there is one. It answers `(sort_key, value, version,
    /// token)`.
    pub(crate) fn query<T>(
        &self,
        lower: &Bound<T>,
        upper: &Bound<T>,
        direction: Direction,
    ) -> &str {
        let descending = usize::from(matches!(direction, Direction::Descending));
        let index = bound_kind(lower) * 6 + bound_kind(upper) * 2 + descending;
        // Every combination was built in `new`.
        self.query.get(index).map_or("", String::as_str)
    }

    /// `scan`'s statement: the first page (`?1` limit), or the page after a key.
    pub(crate) fn scan(&self, after_a_key: bool) -> &str {
        if after_a_key {
            &self.scan_after
        } else {
            &self.scan_first
        }
    }

    /// Every statement, to prepare against an existing table.
    pub(crate) fn statements(&self) -> impl Iterator<Item = &str> {
        self.many
            .iter()
            .chain(&self.query)
            .map(String::as_str)
            .chain([self.scan_first.as_str(), self.scan_after.as_str()])
    }
}

/// `read_many` with `slots` key slots: the keys as a constant table, each probed in the
/// primary key's index.
fn many_sql(t: &str, slots: usize) -> String {
    let rows: Vec<String> = (0..slots)
        .map(|slot| format!("({slot}, ?, ?, ?)"))
        .collect();
    format!(
        "WITH k(i, p, h, s) AS (VALUES {}) \
         SELECT k.i, t.value, t.version, t.token FROM k JOIN {t} AS t \
         ON t.partition_key = k.p AND t.has_sort = k.h AND t.sort_key = k.s",
        rows.join(", ")
    )
}

/// One `query` statement: the partition's rows that have a sort part, between the
/// bounds, in the direction; one index range.
fn query_sql(t: &str, lower: usize, upper: usize, descending: bool) -> String {
    let mut next = 3;
    let mut condition = String::new();
    for (kind, operators) in [(lower, [">=", ">"]), (upper, ["<=", "<"])] {
        if let Some(operator) = kind.checked_sub(1).and_then(|i| operators.get(i)) {
            condition.push_str(&format!(" AND sort_key {operator} ?{next}"));
            next += 1;
        }
    }
    let order = if descending { "DESC" } else { "ASC" };
    format!(
        "SELECT sort_key, value, version, token FROM {t} \
         WHERE partition_key = ?1 AND has_sort = 1{condition} AND value IS NOT NULL \
         ORDER BY sort_key {order} LIMIT ?2"
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail by panicking
mod tests {
    use super::*;

    #[test]
    fn every_query_shape_has_its_statement() {
        let sql = ReadSql::new("t");
        let bounds = [Bound::Unbounded, Bound::Included("a"), Bound::Excluded("a")];
        let mut seen = std::collections::HashSet::new();
        for lower in &bounds {
            for upper in &bounds {
                for direction in [Direction::Ascending, Direction::Descending] {
                    let text = sql.query(lower, upper, direction);
                    assert!(text.starts_with("SELECT"), "{text}");
                    assert!(seen.insert(text.to_string()), "one statement per shape");
                }
            }
        }
        assert_eq!(
            sql.query(
                &Bound::Unbounded,
                &Bound::Excluded("z"),
                Direction::Descending
            ),
            "SELECT sort_key, value, version, token FROM \"t\" WHERE partition_key = ?1 \
             AND has_sort = 1 AND sort_key < ?3 AND value IS NOT NULL \
             ORDER BY sort_key DESC LIMIT ?2"
        );
    }

    /// Every statement reads the primary key's index and never sorts: no full scan of
    /// the table (but for a scan's first page, which walks the index from its start)
    /// and no temporary B-tree for an ORDER BY.
    #[tokio::test]
    async fn every_statement_walks_the_primary_key_index() {
        use sqlx::{Connection, Executor, Row};
        let mut conn = sqlx::SqliteConnection::connect(":memory:").await.unwrap();
        let sql = crate::sql::Sql::new("items", false);
        conn.execute(sql.create.as_str()).await.unwrap();
        for statement in sql.reads.statements() {
            let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {statement}"))
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|row| row.get::<String, _>(3))
                .collect();
            let on_table: Vec<&String> = plan
                .iter()
                .filter(|line| line.starts_with("SCAN items") || line.starts_with("SEARCH"))
                .collect();
            assert!(!on_table.is_empty(), "{statement}: {plan:?}");
            for line in on_table {
                assert!(
                    line.contains("USING INDEX sqlite_autoindex_items_1"),
                    "{statement}: {plan:?}"
                );
                let first_scan_page = statement == sql.reads.scan(false);
                assert!(
                    line.starts_with("SEARCH") || first_scan_page,
                    "{statement}: {plan:?}"
                );
            }
            assert!(
                !plan.iter().any(|line| line.contains("TEMP B-TREE")),
                "{statement}: {plan:?}"
            );
        }
    }

    #[test]
    fn batches_use_the_smallest_statement_that_fits() {
        let sql = ReadSql::new("t");
        assert_eq!(sql.many(1).1, 1);
        assert_eq!(sql.many(3).1, 4);
        assert_eq!(sql.many(100).1, 128);
        assert_eq!(sql.many(128).1, 128);
        let (text, slots) = sql.many(129);
        assert_eq!(slots, 129);
        assert_eq!(text.matches("?, ?, ?").count(), 129);
    }
}

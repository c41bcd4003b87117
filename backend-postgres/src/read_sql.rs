//! The statements of reads beyond one key (`get_many`, `query`, `scan`), built once per
//! store. Each is one `SELECT`, one round trip, which under READ COMMITTED reads one
//! snapshot: every write committed before it started, and no uncommitted row (a
//! transaction's placeholder rows never show).
//!
//! Order. A query compares and orders sort parts with `COLLATE "C"`, byte by byte,
//! which on UTF-8 text is the order the contract asks for (R17) whatever the column's
//! own collation. On a table whose key columns are `COLLATE "C"` (every table this
//! crate creates) that is the primary key's order, so the page is one range of the
//! index, read in either direction, never sorted; on a table of another collation the
//! server finds the partition by the index and sorts it (see `catalog`). A scan walks
//! the primary key's index in its own order, whatever its collation: a stable order is
//! all a scan needs.
//!
//! The items without a sort part (`sort = ''`) are left out of a query by its lower
//! bound: an unbounded one becomes `> ''`. Tombstones (`value IS NULL`) are skipped in
//! the statement, so a page holds as many items as it can.

use std::ops::Bound;

use optimist_core::Direction;

/// The statements of one table.
#[derive(Debug)]
pub(crate) struct ReadSql {
    /// `$1` partitions, `$2` sort parts (`''`: none), as two text arrays; answers
    /// `(position from 1, value::text, version, token)` for the keys that hold a row.
    pub(crate) many: String,
    /// `query`, one per kind of lower bound, kind of upper bound and direction (see
    /// [`ReadSql::query`]).
    query: Vec<String>,
    /// `scan`'s first page: `$1` limit.
    scan_first: String,
    /// `scan` after a key: `$1` partition, `$2` sort part, `$3` limit.
    scan_after: String,
}

impl ReadSql {
    /// The statements of the table `t`, already quoted.
    pub(crate) fn new(t: &str) -> Self {
        let mut query = Vec::with_capacity(12);
        for lower_included in [false, true] {
            for upper in [None, Some(true), Some(false)] {
                for descending in [false, true] {
                    query.push(query_sql(t, lower_included, upper, descending));
                }
            }
        }
        let columns = "partition, sort, value::text, version, token";
        let order = "ORDER BY partition, sort";
        Self {
            many: format!(
                "SELECT k.i, t.value::text, t.version, t.token \
                 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(p, s, i) \
                 JOIN {t} AS t ON t.partition = k.p AND t.sort = k.s"
            ),
            query,
            scan_first: format!(
                "SELECT {columns} FROM {t} WHERE value IS NOT NULL {order} LIMIT $1"
            ),
            scan_after: format!(
                "SELECT {columns} FROM {t} \
                 WHERE (partition, sort) > ($1, $2) AND value IS NOT NULL {order} LIMIT $3"
            ),
        }
    }

    /// The `query` statement for these bounds on the sort part and this direction.
    /// Parameters: `$1` partition, `$2` limit, `$3` the lower bound (`''` when
    /// unbounded, excluded), then `$4` the upper bound if there is one. It answers
    /// `(sort, value::text, version, token)`.
    pub(crate) fn query<T>(
        &self,
        lower: &Bound<T>,
        upper: &Bound<T>,
        direction: Direction,
    ) -> &str {
        let lower = usize::from(matches!(lower, Bound::Included(_)));
        let upper = match upper {
            Bound::Unbounded => 0,
            Bound::Included(_) => 1,
            Bound::Excluded(_) => 2,
        };
        let descending = usize::from(matches!(direction, Direction::Descending));
        // Every combination was built in `new`.
        self.query
            .get(lower * 6 + upper * 2 + descending)
            .map_or("", String::as_str)
    }

    /// Every statement, to prepare them all.
    pub(crate) fn all(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.many.as_str())
            .chain(self.query.iter().map(String::as_str))
            .chain([self.scan_first.as_str(), self.scan_after.as_str()])
    }

    /// `scan`'s statement: the first page, or the page after a key.
    pub(crate) fn scan(&self, after_a_key: bool) -> &str {
        if after_a_key {
            &self.scan_after
        } else {
            &self.scan_first
        }
    }
}

/// One `query` statement. `upper`: none, included (`Some(true)`) or excluded.
fn query_sql(t: &str, lower_included: bool, upper: Option<bool>, descending: bool) -> String {
    let sort = "sort COLLATE \"C\"";
    let lower = if lower_included { ">=" } else { ">" };
    let upper = match upper {
        None => String::new(),
        Some(true) => format!(" AND {sort} <= $4"),
        Some(false) => format!(" AND {sort} < $4"),
    };
    let order = if descending { "DESC" } else { "ASC" };
    format!(
        "SELECT sort, value::text, version, token FROM {t} \
         WHERE partition = $1 AND {sort} {lower} $3{upper} AND value IS NOT NULL \
         ORDER BY {sort} {order} LIMIT $2"
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)] // tests fail by panicking
mod tests {
    use super::*;

    #[test]
    fn every_query_shape_has_its_statement() {
        let sql = ReadSql::new("\"t\"");
        let bounds = [Bound::Unbounded, Bound::Included("a"), Bound::Excluded("a")];
        let mut seen = std::collections::HashSet::new();
        for lower in &bounds[1..] {
            for upper in &bounds {
                for direction in [Direction::Ascending, Direction::Descending] {
                    assert!(seen.insert(sql.query(lower, upper, direction).to_string()));
                }
            }
        }
        assert_eq!(
            sql.query(
                &Bound::Excluded(""),
                &Bound::Included("z"),
                Direction::Descending
            ),
            "SELECT sort, value::text, version, token FROM \"t\" WHERE partition = $1 \
             AND sort COLLATE \"C\" > $3 AND sort COLLATE \"C\" <= $4 AND value IS NOT NULL \
             ORDER BY sort COLLATE \"C\" DESC LIMIT $2"
        );
    }

    /// On a table this crate creates, with rows enough that a plan matters: every query
    /// shape is one range of the primary key's index in its direction, with no sort;
    /// get_many probes the index once per key; a scan after a key starts in the index.
    /// Needs the test server (`OPTIMIST_POSTGRES_URL`).
    #[tokio::test]
    async fn every_statement_walks_the_primary_key_index() {
        use optimist_core::VersionedStore as _;
        use sqlx::Row as _;
        let Ok(url) = std::env::var("OPTIMIST_POSTGRES_URL") else {
            assert!(
                !optimist_conformance::env::require_all(),
                "PostgreSQL: OPTIMIST_POSTGRES_URL is not set (CI or OPTIMIST_REQUIRE_ALL is set)"
            );
            println!(
                "skipped every_statement_walks_the_primary_key_index: PostgreSQL: OPTIMIST_POSTGRES_URL is not set"
            );
            return;
        };
        let table = format!("optimist_test_{:016x}", rand::random::<u64>());
        let store = crate::PostgresStore::builder()
            .url(url)
            .table(table.clone())
            .build()
            .await
            .unwrap();
        store
            .put(&optimist_core::Key::new("p"), serde_json::json!(0))
            .await
            .unwrap();
        let fill = format!(
            "INSERT INTO \"{table}\" (partition, sort, value, version) \
             SELECT 'p' || (i % 20), 's' || i, '{{}}', 1 FROM generate_series(1, 20000) AS i"
        );
        let pool = store.pool();
        sqlx::query(&fill).execute(pool).await.unwrap();
        sqlx::query(&format!("ANALYZE \"{table}\""))
            .execute(pool)
            .await
            .unwrap();
        let reads = &store.inner().sql.reads;
        let explain = |statement: String| async move {
            let rows = sqlx::query(&statement).fetch_all(pool).await.unwrap();
            let plan: Vec<String> = rows.iter().map(|row| row.get::<String, _>(0)).collect();
            plan.join("\n")
        };
        let index = format!("using {table}_pkey");
        let bounds = [
            Bound::Unbounded,
            Bound::Included("s5"),
            Bound::Excluded("s5"),
        ];
        for lower in &bounds {
            for upper in &bounds {
                for direction in [Direction::Ascending, Direction::Descending] {
                    let statement = reads.query(lower, upper, direction);
                    // Literal parameters, so the plan is the one for these values.
                    let mut literal = statement.replace("$1", "'p3'").replace("$2", "101");
                    literal = literal.replace("$3", "'s1'").replace("$4", "'s9'");
                    let plan = explain(format!("EXPLAIN {literal}")).await;
                    assert!(plan.contains(&index), "{statement}\n{plan}");
                    assert!(!plan.contains("Sort"), "{statement}\n{plan}");
                    let backward = plan.contains("Index Scan Backward");
                    assert_eq!(backward, direction == Direction::Descending, "{plan}");
                }
            }
        }
        let many = reads
            .many
            .replace("$1", "'{p1,p2}'")
            .replace("$2", "'{s1,s2}'");
        let plan = explain(format!("EXPLAIN {many}")).await;
        assert!(
            plan.contains(&index) && plan.contains("Nested Loop"),
            "{plan}"
        );
        let scan = reads.scan(true).replace("$1", "'p3'").replace("$2", "'s5'");
        let plan = explain(format!("EXPLAIN {}", scan.replace("$3", "101"))).await;
        assert!(plan.contains(&index) && !plan.contains("Sort"), "{plan}");
        sqlx::query(&format!("DROP TABLE \"{table}\""))
            .execute(pool)
            .await
            .unwrap();
    }
}

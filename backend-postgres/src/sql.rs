//! Every statement the store runs, built once per store for its table.
//!
//! Why each one is safe under READ COMMITTED, the isolation every statement and
//! transaction here runs at, is told in the crate's README ("Statements"). In short:
//! a row is only ever judged after it is locked, and a locked row is the newest
//! committed version (a locking read or an `ON CONFLICT DO UPDATE` waits for a
//! concurrent writer, then follows the row to its newest version).
//!
//! Keys are `(partition, sort)` with `''` for "no sort part": a real sort part is never
//! empty (contract R1), so the encoding is unambiguous. Values travel as JSON text and are
//! stored in a `json` column, which keeps the text exactly (see the README on JSONB).

use crate::table::TableName;

/// The statements of one table.
#[derive(Debug)]
pub(crate) struct Statements {
    pub(crate) create: String,
    pub(crate) get: String,
    pub(crate) insert: String,
    pub(crate) update: String,
    pub(crate) delete: String,
    pub(crate) put: String,
    pub(crate) remove: String,
    pub(crate) lock_keys: String,
    pub(crate) apply: String,
}

impl Statements {
    pub(crate) fn new(table: &TableName) -> Self {
        let t = table.quoted();
        Self {
            // COLLATE "C": keys compare byte by byte, the same on every server whatever
            // its locale, and faster than a linguistic collation.
            create: format!(
                "CREATE TABLE IF NOT EXISTS {t} (\
                 partition TEXT COLLATE \"C\" NOT NULL, \
                 sort TEXT COLLATE \"C\" NOT NULL DEFAULT '', \
                 value JSON NOT NULL, \
                 version BIGINT NOT NULL DEFAULT 0 CHECK (version >= 0), \
                 PRIMARY KEY (partition, sort))"
            ),
            get: format!("SELECT value::text, version FROM {t} WHERE partition = $1 AND sort = $2"),
            // A conflicting insert must report the committed current row even when it
            // was inserted by a transaction that committed after this statement's
            // snapshot, which no plain SELECT here could see. `DO UPDATE` waits for that
            // transaction, locks the row and returns it; the update writes the version
            // it already has, so neither value nor version changes. `xmax = 0` holds
            // only for a tuple this statement inserted: the tuple `DO UPDATE` produces
            // carries this transaction's lock in xmax.
            insert: format!(
                "INSERT INTO {t} AS t (partition, sort, value, version) \
                 VALUES ($1, $2, $3::text::json, 1) \
                 ON CONFLICT (partition, sort) DO UPDATE SET version = t.version \
                 RETURNING t.xmax = 0, t.version, \
                 CASE WHEN t.xmax = 0 THEN NULL ELSE t.value::text END"
            ),
            // `cur` locks the newest version of the row first (the UPDATE reads `cur`,
            // so it runs after it); the UPDATE then decides on that locked row, which
            // nobody else can change before this statement ends. No row: not found.
            update: format!(
                "WITH cur AS MATERIALIZED (\
                 SELECT version, value FROM {t} WHERE partition = $1 AND sort = $2 FOR UPDATE), \
                 upd AS (UPDATE {t} AS t SET value = $4::text::json, version = t.version + 1 \
                 FROM cur WHERE t.partition = $1 AND t.sort = $2 AND cur.version = $3 \
                 RETURNING t.version) \
                 SELECT upd.version, cur.version, \
                 CASE WHEN upd.version IS NULL THEN cur.value::text END \
                 FROM cur LEFT JOIN upd ON true"
            ),
            delete: format!(
                "WITH cur AS MATERIALIZED (\
                 SELECT version, value FROM {t} WHERE partition = $1 AND sort = $2 FOR UPDATE), \
                 del AS (DELETE FROM {t} AS t USING cur \
                 WHERE t.partition = $1 AND t.sort = $2 AND cur.version = $3 \
                 RETURNING t.version) \
                 SELECT del.version, cur.version, \
                 CASE WHEN del.version IS NULL THEN cur.value::text END \
                 FROM cur LEFT JOIN del ON true"
            ),
            put: format!(
                "INSERT INTO {t} AS t (partition, sort, value, version) \
                 VALUES ($1, $2, $3::text::json, 1) \
                 ON CONFLICT (partition, sort) DO UPDATE \
                 SET value = EXCLUDED.value, version = t.version + 1 \
                 RETURNING t.version"
            ),
            remove: format!("DELETE FROM {t} WHERE partition = $1 AND sort = $2 RETURNING version"),
            // A transaction's first statement: lock every key it names, present or not,
            // in one stable order (so two transactions cannot deadlock each other). An
            // absent key gets a placeholder row (version 0, value null) that this
            // transaction holds uncommitted: a concurrent insert of that key waits for
            // it, and it never becomes visible, because the apply statement replaces or
            // deletes it before COMMIT, and ROLLBACK removes it.
            lock_keys: format!(
                "INSERT INTO {t} AS t (partition, sort, value, version) \
                 SELECT k.p, k.s, 'null'::json, 0 FROM unnest($1::text[], $2::text[]) AS k(p, s) \
                 ORDER BY k.p COLLATE \"C\", k.s COLLATE \"C\" \
                 ON CONFLICT (partition, sort) DO UPDATE SET version = t.version \
                 RETURNING t.partition, t.sort, t.xmax = 0, t.version, \
                 CASE WHEN t.xmax = 0 THEN NULL ELSE t.value::text END"
            ),
            // The transaction's writes, on rows it has locked: new values and versions,
            // and the keys that end absent (deleted items and placeholders).
            apply: format!(
                "WITH w AS (UPDATE {t} AS t SET value = v.value::json, version = v.version \
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS v(p, s, value, version) \
                 WHERE t.partition = v.p AND t.sort = v.s RETURNING 1), \
                 d AS (DELETE FROM {t} AS t USING unnest($5::text[], $6::text[]) AS v(p, s) \
                 WHERE t.partition = v.p AND t.sort = v.s RETURNING 1) \
                 SELECT (SELECT count(*) FROM w), (SELECT count(*) FROM d)"
            ),
        }
    }
}

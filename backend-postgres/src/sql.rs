//! Every statement the store runs, built once per store for its table and its mode.
//!
//! Why each one is safe under READ COMMITTED, the isolation every statement and
//! transaction here runs at, is told in the crate's README ("Statements"). In short:
//! a row is only ever judged after it is locked, and a locked row is the newest
//! committed version (a locking read or an `ON CONFLICT DO UPDATE` waits for a
//! concurrent writer, then follows the row to its newest version).
//!
//! Keys are `(partition, sort)` with `''` for "no sort part": a real sort part is never
//! empty (the engine refuses empty key parts), so the encoding is unambiguous. Values
//! travel as JSON text and are stored in a `json` column, which keeps the text exactly
//! (see the README on JSONB). A row whose value is SQL NULL is a tombstone; JSON `null`
//! is the text `null`, never SQL NULL, so the two stay apart. Every write stores its
//! token (32 hex digits) in `token`; a tombstone also records when the delete left it
//! (`deleted_at`, the server's clock, which `purge` compares against).
//!
//! Rows a refused write reports come back as `(value::text, version, token)`, the
//! layout `item::record_from_columns` reads.
//!
//! The versions the single-item statements write are the engine's: 1 on an empty key,
//! and `version + 1` computed by the server on the row it locked, which for an update
//! (or an insert on a tombstone) is the expected version + 1 (it writes only when they
//! are equal). On a BIGINT at its end that addition fails with 22003, reported as the
//! counter being exhausted. A transaction writes the versions core's `Write::decide`
//! gave.

use crate::read_sql::ReadSql;
use crate::table::TableName;

/// The statements of one table.
#[derive(Debug)]
pub(crate) struct Statements {
    pub(crate) create: String,
    pub(crate) upgrade: String,
    pub(crate) get: String,
    pub(crate) insert: String,
    pub(crate) replace: String,
    pub(crate) delete: String,
    pub(crate) put: String,
    pub(crate) lock_keys: String,
    pub(crate) apply: String,
    pub(crate) purge: String,
    /// The reads beyond one key: `get_many`, `query`, `scan`.
    pub(crate) reads: ReadSql,
}

impl Statements {
    /// The statements of `table`; `tombstones` says what a delete leaves.
    pub(crate) fn new(table: &TableName, tombstones: bool) -> Self {
        let t = table.quoted();
        let key = "t.partition = $1 AND t.sort = $2";
        // What a delete does to the row `cur` locked: remove it, or turn it into a
        // tombstone at the same version, carrying the delete's token ($4) and time.
        let delete_row = if tombstones {
            format!(
                "UPDATE {t} AS t SET value = NULL, token = $4, deleted_at = now() FROM cur \
                 WHERE {key}"
            )
        } else {
            format!("DELETE FROM {t} AS t USING cur WHERE {key}")
        };
        Self {
            // COLLATE "C": keys compare byte by byte, the same on every server whatever
            // its locale, and faster than a linguistic collation.
            create: format!(
                "CREATE TABLE IF NOT EXISTS {t} (\
                 partition TEXT COLLATE \"C\" NOT NULL, \
                 sort TEXT COLLATE \"C\" NOT NULL DEFAULT '', \
                 value JSON, \
                 version BIGINT NOT NULL DEFAULT 0 CHECK (version >= 0), \
                 token TEXT, \
                 deleted_at TIMESTAMPTZ, \
                 PRIMARY KEY (partition, sort))"
            ),
            // A table of the layout before write tokens: nullable columns added without
            // a default and a dropped NOT NULL change only the catalog (no rewrite).
            upgrade: format!(
                "ALTER TABLE {t} ADD COLUMN IF NOT EXISTS token TEXT, \
                 ADD COLUMN IF NOT EXISTS deleted_at TIMESTAMPTZ, \
                 ALTER COLUMN value DROP NOT NULL"
            ),
            get: format!(
                "SELECT value::text, version, token FROM {t} WHERE partition = $1 AND sort = $2"
            ),
            // A conflicting insert must report the committed current row (an item or a
            // tombstone) even when it was written by a transaction that committed after
            // this statement's snapshot, which no plain SELECT here could see.
            // `DO UPDATE` waits for that transaction, locks the row and returns it; the
            // update writes the version it already has, so nothing changes. `xmax = 0`
            // holds only for a tuple this statement inserted: the tuple `DO UPDATE`
            // produces carries this transaction's lock in xmax.
            insert: format!(
                "INSERT INTO {t} AS t (partition, sort, value, version, token) \
                 VALUES ($1, $2, $3::text::json, 1, $4) \
                 ON CONFLICT (partition, sort) DO UPDATE SET version = t.version \
                 RETURNING t.xmax = 0, \
                 CASE WHEN t.xmax = 0 THEN NULL ELSE t.value::text END, t.version, \
                 CASE WHEN t.xmax = 0 THEN NULL ELSE t.token END"
            ),
            // An update (`$6` false: a live item at `$3`) or an insert on a tombstone
            // (`$6` true: the tombstone at `$3`). `cur` locks the newest version of the
            // row first (the UPDATE reads `cur`, so it runs after it); the UPDATE then
            // decides on that locked row, which nobody else can change before this
            // statement ends. No row: the key holds nothing; `upd.version` NULL:
            // refused, with the locked row as it is.
            replace: format!(
                "WITH cur AS MATERIALIZED (\
                 SELECT version, value, token FROM {t} WHERE partition = $1 AND sort = $2 \
                 FOR UPDATE), \
                 upd AS (UPDATE {t} AS t SET value = $4::text::json, version = t.version + 1, \
                 token = $5, deleted_at = NULL \
                 FROM cur WHERE {key} AND cur.version = $3 AND (cur.value IS NULL) = $6 \
                 RETURNING t.version) \
                 SELECT upd.version, \
                 CASE WHEN upd.version IS NULL THEN cur.value::text END, cur.version, \
                 CASE WHEN upd.version IS NULL THEN cur.token END \
                 FROM cur LEFT JOIN upd ON true"
            ),
            // A delete at `$3` (NULL: whatever version, a remove) of a live item; a
            // tombstone is left alone (a delete on it writes nothing). The same shape
            // and answer as `replace`.
            delete: format!(
                "WITH cur AS MATERIALIZED (\
                 SELECT version, value, token FROM {t} WHERE partition = $1 AND sort = $2 \
                 FOR UPDATE), \
                 del AS ({delete_row} AND cur.value IS NOT NULL \
                 AND ($3::bigint IS NULL OR cur.version = $3::bigint) RETURNING t.version) \
                 SELECT del.version, \
                 CASE WHEN del.version IS NULL THEN cur.value::text END, cur.version, \
                 CASE WHEN del.version IS NULL THEN cur.token END \
                 FROM cur LEFT JOIN del ON true"
            ),
            // An unconditional put that reports exactly what the key held (nothing, an
            // item or a tombstone). `cur` locks the row if the statement's snapshot
            // holds it, and `upd` replaces it; otherwise `ins` inserts. A row that
            // appeared after the snapshot (another client's insert committed meanwhile)
            // makes `ins` do nothing, and the statement answers that it wrote nothing
            // (`upd` and `ins` both NULL): the store sends it again, with a new
            // snapshot. An upsert (`ON CONFLICT DO UPDATE`) would write in one go, but
            // could not tell whether the row it replaced was a tombstone.
            put: format!(
                "WITH cur AS MATERIALIZED (\
                 SELECT version, value IS NULL AS dead FROM {t} \
                 WHERE partition = $1 AND sort = $2 FOR UPDATE), \
                 upd AS (UPDATE {t} AS t SET value = $3::text::json, version = t.version + 1, \
                 token = $4, deleted_at = NULL FROM cur WHERE {key} RETURNING t.version), \
                 ins AS (INSERT INTO {t} (partition, sort, value, version, token) \
                 SELECT $1, $2, $3::text::json, 1, $4 WHERE NOT EXISTS (SELECT 1 FROM cur) \
                 ON CONFLICT (partition, sort) DO NOTHING RETURNING version) \
                 SELECT (SELECT version FROM upd), (SELECT version FROM ins), \
                 (SELECT version FROM cur), (SELECT dead FROM cur)"
            ),
            // A transaction's first statement: lock every key it names, present or not,
            // in one stable order (so two transactions cannot deadlock each other). An
            // absent key gets a placeholder row (version 0, value JSON null, no token)
            // that this transaction holds uncommitted: a concurrent insert of that key
            // waits for it, and it never becomes visible, because the apply statement
            // replaces or deletes it before COMMIT, and ROLLBACK removes it.
            lock_keys: format!(
                "INSERT INTO {t} AS t (partition, sort, value, version) \
                 SELECT k.p, k.s, 'null'::json, 0 FROM unnest($1::text[], $2::text[]) AS k(p, s) \
                 ORDER BY k.p COLLATE \"C\", k.s COLLATE \"C\" \
                 ON CONFLICT (partition, sort) DO UPDATE SET version = t.version \
                 RETURNING t.partition, t.sort, t.xmax = 0, \
                 CASE WHEN t.xmax = 0 THEN NULL ELSE t.value::text END, t.version, \
                 CASE WHEN t.xmax = 0 THEN NULL ELSE t.token END"
            ),
            // The transaction's writes, on rows it has locked: new values and versions
            // (a NULL value is a tombstone, stamped with the time), all with the
            // transaction's token; and the keys that end absent (deleted items and
            // placeholders).
            apply: format!(
                "WITH w AS (UPDATE {t} AS t SET value = v.value::json, version = v.version, \
                 token = $5, deleted_at = CASE WHEN v.value IS NULL THEN now() END \
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS v(p, s, value, version) \
                 WHERE t.partition = v.p AND t.sort = v.s RETURNING 1), \
                 d AS (DELETE FROM {t} AS t USING unnest($6::text[], $7::text[]) AS v(p, s) \
                 WHERE t.partition = v.p AND t.sort = v.s RETURNING 1) \
                 SELECT (SELECT count(*) FROM w), (SELECT count(*) FROM d)"
            ),
            // Tombstones left before `now() - $1 microseconds`. The DELETE judges each
            // row again once it holds its lock: a key written since (an item, or a
            // newer tombstone) no longer matches and keeps its record.
            purge: format!(
                "WITH d AS (DELETE FROM {t} WHERE value IS NULL \
                 AND deleted_at < now() - $1::bigint * interval '1 microsecond' RETURNING 1) \
                 SELECT count(*) FROM d"
            ),
            reads: ReadSql::new(&t),
        }
    }

    /// Every statement a call may send, which each connection prepares before it serves
    /// one: the single-item ones, the purge, the reads, and the transaction's (one call
    /// of the commit function when there is one, else the lock and apply statements).
    pub(crate) fn prepared(&self, commit_call: Option<&str>) -> Vec<String> {
        let mut all = vec![
            self.get.clone(),
            self.insert.clone(),
            self.replace.clone(),
            self.delete.clone(),
            self.put.clone(),
            self.purge.clone(),
        ];
        match commit_call {
            Some(call) => all.push(call.to_string()),
            None => all.extend([self.lock_keys.clone(), self.apply.clone()]),
        }
        all.extend(self.reads.all().map(str::to_string));
        all
    }
}

//! Every statement the store runs, built once per store from a checked table name and
//! the store's mode (tombstones or not).

use crate::read_sql::ReadSql;

/// The largest version SQLite's signed 64-bit INTEGER holds.
const MAX_STORED_VERSION: i64 = i64::MAX;

/// The most tombstones one purge statement removes: each batch is its own short
/// autocommit statement, so other writers get the write lock in between.
pub(crate) const PURGE_BATCH: i64 = 1_000;

/// The SQL of every statement.
///
/// Every key condition binds `?1` partition, `?2` has-sort flag, `?3` sort part ('' when
/// the key has none). The flag makes the encoding unambiguous on its own, even though an
/// empty sort part can never reach the table. A NULL `value` is a tombstone (JSON
/// `null` is stored as the text `'null'`, so the two never meet); `token` is the write
/// token as 32 hex digits, NULL for a row another client wrote; `deleted_at` is when a
/// tombstone was left, in milliseconds since the Unix epoch.
#[derive(Debug)]
pub(crate) struct Sql {
    /// Whether deletes leave tombstones (and bind their burial parameters).
    pub tombstones: bool,
    pub create: String,
    /// The partial index purging walks: tombstones by deletion time.
    pub tombstone_index: String,
    /// `SELECT value, version, token`.
    pub get: String,
    /// One statement: inserts only if the key holds no row at all (a tombstone is a
    /// row). `?4` value, `?5` token.
    pub insert_if_absent: String,
    /// One statement, a live item at `?6` only: `?4` value, `?5` token, `?6` expected
    /// version, `?7` new version.
    pub update_if_at: String,
    /// One statement, the tombstone at `?6` only (an insert on a deleted key in
    /// tombstone mode): parameters as `update_if_at`.
    pub update_if_tombstone_at: String,
    /// One statement, a live item at `?4` only. In tombstone mode it leaves a tombstone
    /// at the same version, and binds `?5` token, `?6` deletion time (the burial
    /// parameters of every delete come last, and only in tombstone mode).
    pub delete_if_at: String,
    /// One statement: an upsert that stores `counter + 1` (1 on an empty key), over an
    /// item or a tombstone, and returns the new version, or no row at the end of the
    /// counter. `?4` value, `?5` token.
    pub put: String,
    /// One statement: deletes the live item and returns its version, no row if the key
    /// holds none. In tombstone mode it leaves a tombstone: `?4` token, `?5` deletion
    /// time.
    pub remove: String,
    /// Locked path (inside BEGIN IMMEDIATE, state already read): `?4` value, `?5`
    /// token, `?6` version.
    pub insert_at: String,
    /// Locked path, over an item or a tombstone: `?4` value, `?5` token, `?6` version.
    pub update_to: String,
    /// Locked path, on a live item. In tombstone mode it leaves a tombstone: `?4` token,
    /// `?5` deletion time.
    pub delete: String,
    /// Up to `?2` tombstones left before `?1` (milliseconds since the Unix epoch),
    /// removed in one statement; each still a tombstone of that age when it goes.
    pub purge: String,
    /// The reads beyond one key: `get_many`, `query`, `scan`.
    pub reads: ReadSql,
}

impl Sql {
    /// Every statement but the DDL, to prepare against an existing table.
    pub(crate) fn statements(&self) -> impl Iterator<Item = &str> {
        [
            &self.get,
            &self.insert_if_absent,
            &self.update_if_at,
            &self.update_if_tombstone_at,
            &self.delete_if_at,
            &self.put,
            &self.remove,
            &self.insert_at,
            &self.update_to,
            &self.delete,
            &self.purge,
        ]
        .into_iter()
        .map(String::as_str)
        .chain(self.reads.statements())
    }

    /// The statements for `table`, which must have passed
    /// [`check_name`](crate::table::check_name); `tombstones` picks what deletes do.
    pub(crate) fn new(table: &str, tombstones: bool) -> Self {
        // Quoted as well as checked: a name that is also an SQL keyword still works.
        let t = format!("\"{table}\"");
        let index = format!("\"{table}_tombstones\"");
        let key = "partition_key = ?1 AND has_sort = ?2 AND sort_key = ?3";
        let columns = "(partition_key, has_sort, sort_key, value, token, version)";
        let (delete_if_at, remove, delete) = if tombstones {
            (
                format!(
                    "UPDATE {t} SET value = NULL, token = ?5, deleted_at = ?6 \
                     WHERE {key} AND version = ?4 AND value IS NOT NULL"
                ),
                format!(
                    "UPDATE {t} SET value = NULL, token = ?4, deleted_at = ?5 \
                     WHERE {key} AND value IS NOT NULL RETURNING version"
                ),
                format!("UPDATE {t} SET value = NULL, token = ?4, deleted_at = ?5 WHERE {key}"),
            )
        } else {
            (
                format!("DELETE FROM {t} WHERE {key} AND version = ?4 AND value IS NOT NULL"),
                format!("DELETE FROM {t} WHERE {key} AND value IS NOT NULL RETURNING version"),
                format!("DELETE FROM {t} WHERE {key}"),
            )
        };
        Self {
            tombstones,
            create: format!(
                "CREATE TABLE IF NOT EXISTS {t} (\
                 partition_key TEXT NOT NULL, \
                 has_sort INTEGER NOT NULL CHECK (has_sort IN (0, 1)), \
                 sort_key TEXT NOT NULL CHECK (has_sort = 1 OR sort_key = ''), \
                 value TEXT, \
                 version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0), \
                 token TEXT, \
                 deleted_at INTEGER, \
                 PRIMARY KEY (partition_key, has_sort, sort_key)\
                 ) STRICT"
            ),
            tombstone_index: format!(
                "CREATE INDEX IF NOT EXISTS {index} ON {t} (deleted_at) WHERE value IS NULL"
            ),
            get: format!("SELECT value, version, token FROM {t} WHERE {key}"),
            insert_if_absent: format!(
                "INSERT INTO {t} {columns} VALUES (?1, ?2, ?3, ?4, ?5, 1) ON CONFLICT DO NOTHING"
            ),
            update_if_at: format!(
                "UPDATE {t} SET value = ?4, token = ?5, version = ?7 \
                 WHERE {key} AND version = ?6 AND value IS NOT NULL"
            ),
            update_if_tombstone_at: format!(
                "UPDATE {t} SET value = ?4, token = ?5, version = ?7, deleted_at = NULL \
                 WHERE {key} AND version = ?6 AND value IS NULL"
            ),
            delete_if_at,
            // RETURNING sees the row as written, so only the new version comes back;
            // whether the row it replaced was an item or a tombstone is lost (see
            // `statement::put`).
            put: format!(
                "INSERT INTO {t} {columns} VALUES (?1, ?2, ?3, ?4, ?5, 1) \
                 ON CONFLICT (partition_key, has_sort, sort_key) \
                 DO UPDATE SET value = excluded.value, token = excluded.token, \
                 version = version + 1, deleted_at = NULL \
                 WHERE version < {MAX_STORED_VERSION} \
                 RETURNING version"
            ),
            remove,
            insert_at: format!("INSERT INTO {t} {columns} VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
            update_to: format!(
                "UPDATE {t} SET value = ?4, token = ?5, version = ?6, deleted_at = NULL \
                 WHERE {key}"
            ),
            delete,
            purge: format!(
                "DELETE FROM {t} WHERE (partition_key, has_sort, sort_key) IN (\
                 SELECT partition_key, has_sort, sort_key FROM {t} \
                 WHERE value IS NULL AND deleted_at < ?1 LIMIT ?2)"
            ),
            reads: ReadSql::new(table),
        }
    }
}

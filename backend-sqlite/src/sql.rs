//! Every statement the store runs, built once per store from a checked table name.

/// The largest version SQLite's signed 64-bit INTEGER holds.
const MAX_STORED_VERSION: i64 = i64::MAX;

/// The SQL of every statement.
///
/// Every key condition binds `?1` partition, `?2` has-sort flag, `?3` sort part ('' when
/// the key has none). The flag makes the encoding unambiguous on its own, even though an
/// empty sort part can never reach the table.
#[derive(Debug)]
pub(crate) struct Sql {
    pub create: String,
    pub get: String,
    /// One statement: inserts only if absent. `?4` value.
    pub insert_if_absent: String,
    /// One statement: `?4` value, `?5` expected version, `?6` new version.
    pub update_if_at: String,
    /// One statement: `?4` expected version.
    pub delete_if_at: String,
    /// One statement: an upsert that stores `previous + 1` (1 on an absent key) and
    /// returns the previous version (NULL: absent), or no row at the end of the
    /// counter. `?4` value.
    pub put: String,
    /// One statement: returns the deleted item's version, no row if absent.
    pub remove: String,
    /// Locked path (inside BEGIN IMMEDIATE, state already read): `?4` value, `?5` version.
    pub insert_at: String,
    /// Locked path: `?4` value, `?5` new version.
    pub update_to: String,
    /// Locked path.
    pub delete: String,
}

impl Sql {
    /// Every statement but `create`, to prepare against an existing table.
    pub(crate) fn statements(&self) -> [&str; 9] {
        [
            &self.get,
            &self.insert_if_absent,
            &self.update_if_at,
            &self.delete_if_at,
            &self.put,
            &self.remove,
            &self.insert_at,
            &self.update_to,
            &self.delete,
        ]
    }

    /// The statements for `table`, which must have passed
    /// [`check_name`](crate::table::check_name).
    pub(crate) fn new(table: &str) -> Self {
        // Quoted as well as checked: a name that is also an SQL keyword still works.
        let t = format!("\"{table}\"");
        let key = "partition_key = ?1 AND has_sort = ?2 AND sort_key = ?3";
        let columns = "(partition_key, has_sort, sort_key, value, version)";
        Self {
            create: format!(
                "CREATE TABLE IF NOT EXISTS {t} (\
                 partition_key TEXT NOT NULL, \
                 has_sort INTEGER NOT NULL CHECK (has_sort IN (0, 1)), \
                 sort_key TEXT NOT NULL CHECK (has_sort = 1 OR sort_key = ''), \
                 value TEXT NOT NULL, \
                 version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0), \
                 PRIMARY KEY (partition_key, has_sort, sort_key)\
                 ) STRICT"
            ),
            get: format!("SELECT value, version FROM {t} WHERE {key}"),
            insert_if_absent: format!(
                "INSERT INTO {t} {columns} VALUES (?1, ?2, ?3, ?4, 1) ON CONFLICT DO NOTHING"
            ),
            update_if_at: format!(
                "UPDATE {t} SET value = ?4, version = ?6 WHERE {key} AND version = ?5"
            ),
            delete_if_at: format!("DELETE FROM {t} WHERE {key} AND version = ?4"),
            // RETURNING sees the row as written, so the previous version is derived from
            // the new one: 1 was an insert (or a row at 0 that another tool wrote; both
            // give version 1, which is all the engine derives from it).
            put: format!(
                "INSERT INTO {t} {columns} VALUES (?1, ?2, ?3, ?4, 1) \
                 ON CONFLICT (partition_key, has_sort, sort_key) \
                 DO UPDATE SET value = excluded.value, version = version + 1 \
                 WHERE version < {MAX_STORED_VERSION} \
                 RETURNING CASE version WHEN 1 THEN NULL ELSE version - 1 END"
            ),
            remove: format!("DELETE FROM {t} WHERE {key} RETURNING version"),
            insert_at: format!("INSERT INTO {t} {columns} VALUES (?1, ?2, ?3, ?4, ?5)"),
            update_to: format!("UPDATE {t} SET value = ?4, version = ?5 WHERE {key}"),
            delete: format!("DELETE FROM {t} WHERE {key}"),
        }
    }
}

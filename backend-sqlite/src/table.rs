//! The table: its name, checked before it is ever put into SQL, and every statement the
//! store runs on it.

use optimist_core::{Error, Operation, Result};

/// The longest table name accepted: short enough for any SQL engine's identifiers.
const MAX_NAME_LEN: usize = 63;

/// The largest version SQLite's signed 64-bit INTEGER holds.
pub(crate) const MAX_STORED_VERSION: u64 = i64::MAX as u64;

/// Checks a table name: `[A-Za-z_][A-Za-z0-9_]{0,62}`, and not SQLite's reserved
/// `sqlite_` prefix. Only names that pass are ever interpolated into SQL.
pub(crate) fn validate_name(name: &str) -> Result<()> {
    let invalid = |reason: String| Err(Error::invalid(Operation::Setup, None, reason));
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return invalid("table name is empty".to_string());
    };
    if name.len() > MAX_NAME_LEN {
        return invalid(format!(
            "table name is {} bytes long, over the limit of {MAX_NAME_LEN}",
            name.len()
        ));
    }
    if !(first.is_ascii_alphabetic() || first == '_') {
        return invalid(format!(
            "table name {name:?} must start with an ASCII letter or '_'"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return invalid(format!(
            "table name {name:?} holds {bad:?}; only ASCII letters, digits and '_' are allowed"
        ));
    }
    if name.len() >= 7 && name[..7].eq_ignore_ascii_case("sqlite_") {
        return invalid(format!(
            "table name {name:?} starts with \"sqlite_\", which SQLite reserves"
        ));
    }
    Ok(())
}

/// The SQL of every statement, built once per store from a validated table name.
///
/// Every key condition binds `?1` partition, `?2` has-sort flag, `?3` sort part ('' when
/// the key has none). The flag makes the encoding unambiguous on its own, even though an
/// empty sort part can never reach the table.
#[derive(Debug)]
pub(crate) struct Sql {
    pub create: String,
    pub get: String,
    /// Fast path: inserts only if absent, in one autocommit statement.
    pub insert_if_absent: String,
    /// Fast path: `?4` value, `?5` expected version (NULL never matches).
    pub update_if_at: String,
    /// Fast path: `?4` expected version (NULL never matches).
    pub delete_if_at: String,
    /// Upsert that advances the version and returns it; refuses an exhausted counter.
    pub put: String,
    pub remove: String,
    /// Locked path (inside BEGIN IMMEDIATE, state already read): `?4` value, `?5` version.
    pub insert_at: String,
    /// Locked path: `?4` value, `?5` new version.
    pub update_to: String,
    pub delete: String,
}

impl Sql {
    /// The statements for `table`, which must have passed [`validate_name`].
    pub(crate) fn new(table: &str) -> Self {
        // Quoted as well as validated: a name that is also an SQL keyword still works.
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
                "UPDATE {t} SET value = ?4, version = version + 1 WHERE {key} AND version = ?5"
            ),
            delete_if_at: format!("DELETE FROM {t} WHERE {key} AND version = ?4"),
            put: format!(
                "INSERT INTO {t} {columns} VALUES (?1, ?2, ?3, ?4, 1) \
                 ON CONFLICT (partition_key, has_sort, sort_key) \
                 DO UPDATE SET value = excluded.value, version = version + 1 \
                 WHERE version < {MAX_STORED_VERSION} RETURNING version"
            ),
            remove: format!("DELETE FROM {t} WHERE {key} RETURNING version"),
            insert_at: format!("INSERT INTO {t} {columns} VALUES (?1, ?2, ?3, ?4, ?5)"),
            update_to: format!("UPDATE {t} SET value = ?4, version = ?5 WHERE {key}"),
            delete: format!("DELETE FROM {t} WHERE {key}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_identifiers() {
        for name in ["items", "_x", "A1_b2", &"a".repeat(63)] {
            assert!(validate_name(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for name in [
            "",
            "1abc",
            "x; DROP TABLE y",
            "\"quoted\"",
            "a-b",
            "é",
            "sqlite_master",
            "SQLITE_x",
            &"a".repeat(64),
        ] {
            let err = validate_name(name).err();
            assert!(
                err.as_ref().is_some_and(|e| e.is_invalid_input()),
                "{name:?}: {err:?}"
            );
        }
    }
}

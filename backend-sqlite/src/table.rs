//! The table's name, checked before it is ever put into SQL.

use optimist_core::{Error, Result};

use crate::error::BACKEND;

/// The longest table name accepted: short enough for any SQL engine's identifiers.
const MAX_NAME_LEN: usize = 63;

/// Checks a table name: `[A-Za-z_][A-Za-z0-9_]{0,62}`, and not SQLite's reserved
/// `sqlite_` prefix; `Error::Configuration` naming the problem otherwise. Only names
/// that pass are ever interpolated into SQL.
pub(crate) fn check_name(name: &str) -> Result<()> {
    let invalid = |reason: String| Err(Error::configuration(BACKEND, reason));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_identifiers() {
        for name in ["items", "_x", "A1_b2", &"a".repeat(63)] {
            assert!(check_name(name).is_ok(), "{name}");
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
            let err = check_name(name).err();
            assert!(
                matches!(err, Some(Error::Configuration { .. })),
                "{name:?}: {err:?}"
            );
        }
    }
}

//! The table's name: checked before it is ever put into SQL.
//!
//! Identifiers cannot be bound as parameters, so the name is spliced into every
//! statement. Only names made of `[A-Za-z_][A-Za-z0-9_]*`, at most 63 bytes per part
//! (PostgreSQL's identifier limit, beyond which it silently truncates), optionally
//! `schema.table`, are accepted, and they are always double-quoted: no name can change
//! a statement's meaning, and case is kept exactly as given.

use std::fmt;

/// The longest identifier PostgreSQL keeps without truncating it (NAMEDATALEN - 1).
const MAX_IDENTIFIER_BYTES: usize = 63;

/// A checked, possibly schema-qualified table name.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct TableName {
    text: String,
    schema: Option<String>,
    name: String,
}

impl TableName {
    /// Checks `text`; the error names what is wrong.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.split('.');
        let (schema, name) = match (parts.next(), parts.next(), parts.next()) {
            (Some(name), None, _) => (None, name),
            (Some(schema), Some(name), None) => (Some(schema), name),
            _ => {
                return Err(format!(
                    "table name {text:?} has more than one '.'; use `table` or `schema.table`"
                ));
            }
        };
        if let Some(schema) = schema {
            check_identifier(schema, "schema")?;
        }
        check_identifier(name, "table")?;
        Ok(Self {
            text: text.to_owned(),
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
        })
    }

    /// The name as given.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The name as SQL: each part double-quoted.
    pub(crate) fn quoted(&self) -> String {
        match &self.schema {
            Some(schema) => format!("\"{schema}\".\"{}\"", self.name),
            None => format!("\"{}\"", self.name),
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text)
    }
}

fn check_identifier(part: &str, what: &str) -> Result<(), String> {
    let Some(first) = part.chars().next() else {
        return Err(format!("{what} name is empty"));
    };
    if part.len() > MAX_IDENTIFIER_BYTES {
        return Err(format!(
            "{what} name {part:?} is {} bytes, over PostgreSQL's limit of {MAX_IDENTIFIER_BYTES}",
            part.len()
        ));
    }
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Err(format!(
            "{what} name {part:?} must start with an ASCII letter or '_', not {first:?}"
        ));
    }
    if let Some(bad) = part
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(format!(
            "{what} name {part:?} holds {bad:?}; only ASCII letters, digits and '_' are allowed"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_and_qualified_names() {
        assert_eq!(
            TableName::parse("items").map(|t| t.quoted()),
            Ok("\"items\"".into())
        );
        assert_eq!(
            TableName::parse("App_1.Items").map(|t| t.quoted()),
            Ok("\"App_1\".\"Items\"".into())
        );
        assert!(TableName::parse(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn rejects_hostile_names() {
        for (name, problem) in [
            ("", "empty"),
            ("items\"; DROP TABLE x; --", "holds '\"'"),
            ("a b", "holds ' '"),
            ("1items", "must start"),
            ("a.b.c", "more than one '.'"),
            (".items", "schema name is empty"),
            ("items.", "table name is empty"),
            ("é", "must start"),
            ("ta\0ble", "holds '\\0'"),
        ] {
            let err = TableName::parse(name).err().unwrap_or_default();
            assert!(err.contains(problem), "{name:?}: {err}");
        }
        let long = "a".repeat(64);
        assert!(
            TableName::parse(&long)
                .err()
                .unwrap_or_default()
                .contains("over PostgreSQL's limit")
        );
    }
}

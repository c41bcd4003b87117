//! Operations and answers as short lines for a reader: values cut to a readable
//! length, conflicts with the item they carry.

use optimist_core::{Conflict, Cursor, Error, Page, TxAction, TxOp, Value, Version, Versioned};

/// How many characters of a value a line shows.
const VALUE_CHARS: usize = 80;

/// A value as compact JSON, cut after [`VALUE_CHARS`] characters.
pub(crate) fn value(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(VALUE_CHARS) {
        Some((cut, _)) => format!("{}... ({} bytes)", &text[..cut], text.len()),
        None => text,
    }
}

/// An item: its version and value.
pub(crate) fn item(item: &Versioned<Value>) -> String {
    format!("{} {}", item.version, value(&item.value))
}

/// An item or `none`.
pub(crate) fn maybe_item(found: Option<&Versioned<Value>>) -> String {
    found.map_or_else(|| "none".to_string(), item)
}

/// A conflict with the item it carries.
pub(crate) fn conflict(conflict: &Conflict) -> String {
    match conflict {
        Conflict::AlreadyExists { current } => {
            format!("Conflict(AlreadyExists, current {})", item(current))
        }
        Conflict::NotFound => "Conflict(NotFound)".to_string(),
        Conflict::VersionMismatch { expected, current } => format!(
            "Conflict(VersionMismatch expecting {expected}, current {})",
            item(current)
        ),
        other => format!("Conflict({other})"),
    }
}

/// An error, with the conflicts it carries.
pub(crate) fn error(err: &Error) -> String {
    match err {
        Error::Conflict { conflict: c, .. } => conflict(c),
        Error::TransactionConflict { failures } => {
            let each: Vec<String> = failures
                .iter()
                .map(|f| format!("op {} {}: {}", f.index, f.key, conflict(&f.conflict)))
                .collect();
            format!("TransactionConflict[{}]", each.join("; "))
        }
        Error::InvalidInput { .. } => format!("InvalidInput ({err})"),
        other => format!("error: {other}"),
    }
}

/// One transaction op.
fn op(op: &TxOp) -> String {
    let key = op.key();
    match op.action() {
        TxAction::Insert(v) => format!("insert {key} = {}", value(v)),
        TxAction::Update { expected, value: v } => {
            format!("update {key} expecting {expected} = {}", value(v))
        }
        TxAction::Delete { expected } => format!("delete {key} expecting {expected}"),
        TxAction::Check { expected } => format!("check {key} at {expected}"),
        TxAction::Put(v) => format!("put {key} = {}", value(v)),
        TxAction::Remove => format!("remove {key}"),
    }
}

/// A transaction's ops.
pub(crate) fn ops(ops: &[TxOp]) -> String {
    list(ops.iter().map(op))
}

/// A transaction's answer, one version (or none) per op.
pub(crate) fn versions(versions: &[Option<Version>]) -> String {
    list(
        versions
            .iter()
            .map(|v| v.map_or_else(|| "none".to_string(), |v| v.to_string())),
    )
}

/// Keys asked for.
pub(crate) fn keys(keys: &[optimist_core::Key]) -> String {
    list(keys.iter().map(ToString::to_string))
}

/// Items answered, or `none` for each key without one.
pub(crate) fn items(items: &[Option<Versioned<Value>>]) -> String {
    list(items.iter().map(|found| maybe_item(found.as_ref())))
}

/// The cursor a page read continues from, if any.
pub(crate) fn cursor(cursor: Option<&Cursor>) -> String {
    cursor.map_or_else(String::new, |_| " after the previous page".to_string())
}

/// A page: its items and whether more follow.
pub(crate) fn page(page: &Page) -> String {
    let items = list(
        page.items
            .iter()
            .map(|(key, found)| format!("{key} {}", item(found))),
    );
    let more = if page.next.is_some() {
        ", more follow"
    } else {
        ", last page"
    };
    format!("{items}{more}")
}

/// A list in brackets; a long one is cut.
fn list(each: impl Iterator<Item = String>) -> String {
    let all: Vec<String> = each.collect();
    if all.len() > 12 {
        let shown = all[..10].join(", ");
        format!("[{shown}, ... {} in all]", all.len())
    } else {
        format!("[{}]", all.join(", "))
    }
}

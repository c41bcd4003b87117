//! Running one model op against a real store, and reading its answer back in the
//! model's terms.

use std::collections::HashSet;

use optimist_core::{
    Capabilities, Conflict, Cursor, Direction, Error, Key, Page, QueryOptions, ScanOptions,
    SortRange, TxOp, Value, Versioned, VersionedStore,
};
use serde_json::json;

use crate::linearizability::Model;
use crate::model::{
    self, Act, Item, MConflict, MKey, MRange, Op, Outcome, State, UNKNOWN_VALUE, ValueId,
};
use crate::support::doc_for;

/// The sequential specification as a [`Model`] for the linearizability checker.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel;

impl Model for KvModel {
    type State = State;
    type Op = Op;
    type Ret = Outcome;

    fn step(&self, state: &State, op: &Op, ret: Option<&Outcome>) -> Vec<State> {
        let (next, outcome) = model::apply(state, op);
        match ret {
            // Unknown answer: it took effect as the specification says, whatever it was.
            None => vec![next],
            Some(ret) if *ret == outcome => vec![next],
            Some(_) => vec![],
        }
    }
}

/// How a real call ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Observed {
    /// It answered; the answer in the model's terms.
    Answered(Outcome),
    /// `Indeterminate`: it may or may not have taken effect.
    Indeterminate,
    /// The caller dropped the call's future before it answered (a timeout, a
    /// `select!`): like `Indeterminate`, it may have taken effect, once, whole, even
    /// after it was dropped (an engine on `spawn_blocking` keeps committing), or never.
    Cancelled,
    /// A retryable backend error: nothing was applied (contract R12).
    Failed(String),
    /// An error the suite does not expect from a valid call.
    Unexpected(String),
}

/// The value a test writes for `id`: `{"w": id}`, wrapped for object-only stores.
///
/// ```
/// use optimist_conformance::history::{value_for, value_id};
/// let caps = optimist_core::Capabilities::new().with_object_values_only(true);
/// assert_eq!(value_id(&value_for(&caps, 7)), 7);
/// ```
pub fn value_for(caps: &Capabilities, id: ValueId) -> Value {
    doc_for(caps, json!({ "w": id }))
}

/// The id of a value written by [`value_for`]; [`UNKNOWN_VALUE`] for any other value.
pub fn value_id(value: &Value) -> ValueId {
    let direct = value.get("w").and_then(Value::as_u64);
    let wrapped = || {
        value
            .as_object()
            .filter(|fields| fields.len() == 1)
            .and_then(|fields| fields.values().next())
            .and_then(|inner| inner.get("w"))
            .and_then(Value::as_u64)
    };
    direct.or_else(wrapped).unwrap_or(UNKNOWN_VALUE)
}

/// An item in the model's terms.
pub fn item_of(item: &Versioned<Value>) -> Item {
    Item {
        value: value_id(&item.value),
        version: item.version.get(),
    }
}

fn conflict_of(conflict: Conflict) -> Option<MConflict> {
    match conflict {
        Conflict::AlreadyExists { current } => Some(MConflict::AlreadyExists(item_of(&current))),
        Conflict::NotFound => Some(MConflict::NotFound),
        Conflict::VersionMismatch { expected, current } => Some(MConflict::VersionMismatch {
            expected: expected.get(),
            current: item_of(&current),
        }),
        _ => None,
    }
}

fn observe_error(err: Error) -> Observed {
    let unexpected = |what: &str| Observed::Unexpected(what.to_string());
    match err {
        Error::Conflict { conflict, .. } => match conflict_of(conflict) {
            Some(c) => Observed::Answered(Outcome::Conflict(c)),
            None => unexpected("a conflict kind the suite does not know"),
        },
        Error::TransactionConflict { failures } => {
            let mut refused = Vec::with_capacity(failures.len());
            for failure in failures {
                match conflict_of(failure.conflict) {
                    Some(c) => refused.push((failure.index, c)),
                    None => return unexpected("a conflict kind the suite does not know"),
                }
            }
            Observed::Answered(Outcome::Refused(refused))
        }
        Error::InvalidInput { .. } => Observed::Answered(Outcome::Invalid),
        Error::Indeterminate { .. } => Observed::Indeterminate,
        // Any error but Indeterminate means nothing was written (contract R12), whether
        // or not the store already spent its own retries on it.
        err @ Error::Backend { .. } => Observed::Failed(err.to_string()),
        err => Observed::Unexpected(err.to_string()),
    }
}

fn real_key(keys: &[Key], key: MKey) -> Key {
    match key {
        MKey::Slot(n) => keys.get(n).cloned().unwrap_or_else(|| Key::new("")),
        MKey::Empty => Key::new(""),
    }
}

fn tx_op(caps: &Capabilities, key: Key, act: &Act) -> TxOp {
    use optimist_core::Version;
    match act {
        Act::Insert(v) => TxOp::insert(key, value_for(caps, *v)),
        Act::Update { expected, value } => {
            TxOp::update(key, Version::new(*expected), value_for(caps, *value))
        }
        Act::Delete { expected } => TxOp::delete(key, Version::new(*expected)),
        Act::Check { expected } => TxOp::check(key, Version::new(*expected)),
        Act::Put(v) => TxOp::put(key, value_for(caps, *v)),
        Act::Remove => TxOp::remove(key),
    }
}

/// The most pages one range read may take before the suite calls it endless.
const MAX_PAGES: usize = 10_000;

/// Reads every page `read` gives (each asked with the previous page's cursor), keeping
/// the items of the test's keys as `(key number, item)`; the items of other keys (a
/// scan sees the whole store) are left out.
async fn read_to_end<F, Fut>(keys: &[Key], read: F) -> Result<Vec<(usize, Item)>, Observed>
where
    F: Fn(Option<Cursor>) -> Fut,
    Fut: std::future::Future<Output = optimist_core::Result<Page>>,
{
    let mut listed = Vec::new();
    let mut cursor = None;
    // A cursor handed out twice in one read starts the same page again: the read can
    // never end (contract R17), and saying so at once spares thousands of pages.
    let mut given = HashSet::new();
    for page_number in 1..=MAX_PAGES {
        let page = read(cursor).await.map_err(observe_error)?;
        for (key, item) in &page.items {
            if let Some(n) = keys.iter().position(|k| k == key) {
                listed.push((n, item_of(item)));
            }
        }
        match page.next {
            Some(next) if !given.insert(next.clone()) => {
                return Err(Observed::Unexpected(format!(
                    "the read cannot end: page {page_number} handed back a cursor an \
                     earlier page of the same read gave"
                )));
            }
            Some(next) => cursor = Some(next),
            None => return Ok(listed),
        }
    }
    Err(Observed::Unexpected(format!(
        "the read did not end within {MAX_PAGES} pages"
    )))
}

/// Runs `op` on `store`, where key number `n` is `keys[n]`, and reports its answer.
pub async fn execute<S: VersionedStore + ?Sized>(store: &S, keys: &[Key], op: &Op) -> Observed {
    use optimist_core::Version;
    let caps = store.capabilities().clone();
    let answer = |o: Outcome| Observed::Answered(o);
    match op {
        Op::Get(k) => match store.get(&real_key(keys, *k)).await {
            Ok(item) => answer(Outcome::Got(item.as_ref().map(item_of))),
            Err(err) => observe_error(err),
        },
        Op::Write(k, act) => {
            let key = real_key(keys, *k);
            let written = |r: optimist_core::Result<Version>| match r {
                Ok(v) => answer(Outcome::Written(v.get())),
                Err(err) => observe_error(err),
            };
            match act {
                Act::Insert(v) => written(store.insert(&key, value_for(&caps, *v)).await),
                Act::Update { expected, value } => written(
                    store
                        .update(&key, Version::new(*expected), value_for(&caps, *value))
                        .await,
                ),
                Act::Put(v) => written(store.put(&key, value_for(&caps, *v)).await),
                Act::Delete { expected } => {
                    match store.delete(&key, Version::new(*expected)).await {
                        Ok(()) => answer(Outcome::Deleted),
                        Err(err) => observe_error(err),
                    }
                }
                Act::Remove => match store.remove(&key).await {
                    Ok(v) => answer(Outcome::Removed(v.map(Version::get))),
                    Err(err) => observe_error(err),
                },
                Act::Check { .. } => {
                    Observed::Unexpected("a check outside a transaction".to_string())
                }
            }
        }
        Op::GetMany(asked) => {
            let real: Vec<Key> = asked.iter().map(|k| real_key(keys, *k)).collect();
            match store.get_many(&real).await {
                Ok(items) => answer(Outcome::GotMany(
                    items
                        .iter()
                        .map(|item| item.as_ref().map(item_of))
                        .collect(),
                )),
                Err(err) => observe_error(err),
            }
        }
        Op::Query {
            range,
            descending,
            limit,
        } => {
            let sort = |n: usize| {
                keys.get(n)
                    .and_then(Key::sort)
                    .unwrap_or_default()
                    .to_string()
            };
            let range = match *range {
                MRange::All => SortRange::All,
                MRange::Prefix(n) => SortRange::prefix(sort(n)),
                MRange::Between(a, b) => SortRange::between(sort(a), sort(b)),
                MRange::After(n) => SortRange::after(sort(n)),
                MRange::Before(n) => SortRange::before(sort(n)),
            };
            let partition = keys.first().map(Key::partition).unwrap_or_default();
            let direction = if *descending {
                Direction::Descending
            } else {
                Direction::Ascending
            };
            let read = |cursor| {
                let options = QueryOptions::new()
                    .limit(*limit)
                    .direction_of(direction)
                    .cursor(cursor);
                store.query(partition, range.clone(), options)
            };
            match read_to_end(keys, read).await {
                Ok(listed) => answer(Outcome::Listed(listed)),
                Err(observed) => observed,
            }
        }
        Op::Scan { limit } => {
            let read = |cursor| store.scan(ScanOptions::new().limit(*limit).cursor(cursor));
            match read_to_end(keys, read).await {
                Ok(mut listed) => {
                    // The order of a scan is the backend's: compared by key number.
                    listed.sort_by_key(|(n, _)| *n);
                    answer(Outcome::Listed(listed))
                }
                Err(observed) => observed,
            }
        }
        Op::Transact(ops) => {
            let ops = ops
                .iter()
                .map(|(k, act)| tx_op(&caps, real_key(keys, *k), act))
                .collect();
            match store.transact(ops).await {
                Ok(versions) => answer(Outcome::Committed(
                    versions.into_iter().map(|v| v.map(Version::get)).collect(),
                )),
                Err(err) => observe_error(err),
            }
        }
    }
}

//! The operations a case ran, each with its answer, in the order they answered: what
//! a failing case lists under `operations:`. [`Journaled`] records every call made
//! through it, so the cases and the helpers they share need not repeat themselves.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use optimist_core::{
    Capabilities, QueryOptions, Result, ScanOptions, SortRange, StoreFuture, TxOp, Value, Version,
    Versioned, VersionedStore, async_trait,
};
use optimist_core::{Key, Page};

use super::describe;

/// How many operations a failure lists from the start and from the end of a long
/// journal (races and loops run hundreds); the ones between are counted.
const KEEP: usize = 40;

#[derive(Debug, Default)]
struct Lines {
    first: Vec<String>,
    last: std::collections::VecDeque<String>,
    omitted: usize,
}

/// A case's journal: cloned handles share one list.
#[derive(Clone, Debug, Default)]
pub struct Journal(Arc<Mutex<Lines>>);

impl Journal {
    /// A new, empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one operation and what it answered, as a line for a reader.
    pub fn record(&self, line: impl Into<String>) {
        let mut lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.first.len() < KEEP {
            lines.first.push(line.into());
            return;
        }
        lines.last.push_back(line.into());
        if lines.last.len() > KEEP {
            lines.last.pop_front();
            lines.omitted += 1;
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        let lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        lines.first.is_empty()
    }

    /// The numbered list of what was recorded, one operation a line, indented.
    ///
    /// ```
    /// let journal = optimist_conformance::verdict::Journal::new();
    /// journal.record("insert \"k\" = 1 -> v1");
    /// assert_eq!(journal.listing(), "   1. insert \"k\" = 1 -> v1\n");
    /// ```
    pub fn listing(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::new();
        for (n, line) in lines.first.iter().enumerate() {
            let _ = writeln!(out, "  {:>2}. {line}", n + 1);
        }
        if lines.omitted > 0 {
            let _ = writeln!(out, "      ... {} more operations ...", lines.omitted);
        }
        let start = lines.first.len() + lines.omitted;
        for (n, line) in lines.last.iter().enumerate() {
            let _ = writeln!(out, "  {:>2}. {line}", start + n + 1);
        }
        out
    }
}

/// A store that records every call made through it, and its answer, in the running
/// case's journal; otherwise it is the store it wraps.
#[derive(Debug)]
pub struct Journaled<S: ?Sized> {
    journal: Journal,
    inner: Arc<S>,
}

/// `store`, recording into the running case's journal (a journal of its own outside a
/// case). Cases start with `let store = journaled(store);`, so every operation they and
/// the helpers they call run is listed when they fail.
///
/// ```
/// use std::sync::Arc;
/// use optimist_core::{Key, VersionedStore};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = optimist_conformance::verdict::journaled(Arc::new(optimist_memory::MemoryStore::new()));
/// store.insert(&Key::new("k"), serde_json::json!(1)).await.unwrap();
/// assert!(store.journal().listing().contains("insert \"k\" = 1 -> v1"));
/// # });
/// ```
pub fn journaled<S: VersionedStore + ?Sized>(store: Arc<S>) -> Arc<Journaled<S>> {
    Arc::new(Journaled {
        journal: crate::runner::context().journal,
        inner: store,
    })
}

impl<S: ?Sized> Journaled<S> {
    /// The journal this store records into.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    fn note<T>(&self, call: String, result: &Result<T>, answer: impl Fn(&T) -> String) {
        let answered = match result {
            Ok(value) => answer(value),
            Err(err) => describe::error(err),
        };
        self.journal.record(format!("{call} -> {answered}"));
    }
}

#[async_trait]
impl<S: VersionedStore + ?Sized> VersionedStore for Journaled<S> {
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>> {
        StoreFuture::new(async move {
            let result = self.inner.get(key).await;
            self.note(format!("get {key}"), &result, |item| {
                describe::maybe_item(item.as_ref())
            });
            result
        })
    }

    fn insert<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            let call = format!("insert {key} = {}", describe::value(&value));
            let result = self.inner.insert(key, value).await;
            self.note(call, &result, Version::to_string);
            result
        })
    }

    fn update<'a>(
        &'a self,
        key: &'a Key,
        expected: Version,
        value: Value,
    ) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            let call = format!(
                "update {key} expecting {expected} = {}",
                describe::value(&value)
            );
            let result = self.inner.update(key, expected, value).await;
            self.note(call, &result, Version::to_string);
            result
        })
    }

    fn delete<'a>(&'a self, key: &'a Key, expected: Version) -> StoreFuture<'a, ()> {
        StoreFuture::new(async move {
            let result = self.inner.delete(key, expected).await;
            self.note(
                format!("delete {key} expecting {expected}"),
                &result,
                |()| "deleted".to_string(),
            );
            result
        })
    }

    fn put<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        StoreFuture::new(async move {
            let call = format!("put {key} = {}", describe::value(&value));
            let result = self.inner.put(key, value).await;
            self.note(call, &result, Version::to_string);
            result
        })
    }

    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Version>> {
        StoreFuture::new(async move {
            let result = self.inner.remove(key).await;
            self.note(format!("remove {key}"), &result, |removed| match removed {
                Some(version) => format!("removed {version}"),
                None => "nothing to remove".to_string(),
            });
            result
        })
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        let call = format!("transact {}", describe::ops(&ops));
        let result = self.inner.transact(ops).await;
        self.note(call, &result, |versions| describe::versions(versions));
        result
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Value>>>> {
        let result = self.inner.get_many(keys).await;
        self.note(
            format!("get_many {}", describe::keys(keys)),
            &result,
            |items| describe::items(items),
        );
        result
    }

    async fn query(
        &self,
        partition: &str,
        range: SortRange,
        options: QueryOptions,
    ) -> Result<Page> {
        let call = format!(
            "query {partition:?} {range:?} {:?} limit {}{}",
            options.direction(),
            options.page_limit(),
            describe::cursor(options.page_cursor())
        );
        let result = self.inner.query(partition, range, options).await;
        self.note(call, &result, describe::page);
        result
    }

    async fn scan(&self, options: ScanOptions) -> Result<Page> {
        let call = format!(
            "scan limit {}{}",
            options.page_limit(),
            describe::cursor(options.page_cursor())
        );
        let result = self.inner.scan(options).await;
        self.note(call, &result, describe::page);
        result
    }

    async fn purge_tombstones(&self, older_than: std::time::Duration) -> Result<u64> {
        let result = self.inner.purge_tombstones(older_than).await;
        self.note(
            format!("purge_tombstones older than {older_than:?}"),
            &result,
            |n| format!("{n} purged"),
        );
        result
    }
}

//! How the suite gets a fresh store for each case.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use optimist_core::VersionedStore;

/// Why a factory could not make a store: its server is unreachable or not configured.
///
/// The case then fails when `CI` or `OPTIMIST_REQUIRE_ALL` is set, and otherwise shows
/// as ignored with the server and the reason.
#[derive(Debug, Clone)]
pub struct Unavailable {
    /// The server, for example `"PostgreSQL at 127.0.0.1:5432"`.
    pub server: String,
    /// Why it cannot be used.
    pub reason: String,
}

impl Unavailable {
    /// Names the server and the reason.
    ///
    /// ```
    /// let why = optimist_conformance::Unavailable::new("Redis", "OPTIMIST_REDIS_URL is not set");
    /// assert_eq!(why.to_string(), "Redis: OPTIMIST_REDIS_URL is not set");
    /// ```
    pub fn new(server: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            server: server.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.server, self.reason)
    }
}

impl std::error::Error for Unavailable {}

/// The future a [`StoreFactory`] returns.
pub type MakeFuture<'a, S> = Pin<Box<dyn Future<Output = Result<S, Unavailable>> + Send + 'a>>;

/// Makes a fresh, isolated store for each case: no item of one case may be visible to
/// another (a new table, a new key prefix, a new database). A few cases ask for a second
/// store while they run (a query cursor of one store must be refused by another of the
/// same kind), so two stores of one factory must tell their data apart
/// (`Storage::identity`).
///
/// Most factories are closures wrapped with [`factory_fn`].
pub trait StoreFactory: Send + Sync {
    /// The store it makes.
    type Store: VersionedStore + 'static;

    /// What the stores run on, printed at the start of each case (for example
    /// `"sqlite file (WAL)"` or `"DynamoDB at http://127.0.0.1:4566 (moto)"`).
    fn describe(&self) -> String;

    /// Makes a fresh store.
    fn make(&self) -> MakeFuture<'_, Self::Store>;

    /// How much of the suite's default load to run on these stores, in percent (100 by
    /// default): the defaults of the property case counts, history counts and race
    /// sizes are scaled by it, so a backend on a slow server (an emulator that applies
    /// one request at a time) can run fewer. Environment variables, when set, win.
    fn load_percent(&self) -> u32 {
        100
    }

    /// The cases ignored on these stores, each `(case name, reason)`, for reasons the
    /// capabilities cannot say (a slow server, a known emulator limit); none by
    /// default. Each shows as ignored with its reason, and runs when asked for with
    /// `--ignored` or `--include-ignored`. Set with [`FnFactory::ignore`].
    fn ignored_cases(&self) -> &[(String, String)] {
        &[]
    }
}

/// A [`StoreFactory`] from a description and a closure returning a future.
///
/// ```
/// use optimist_conformance::{factory_fn, StoreFactory};
/// use optimist_memory::MemoryStore;
///
/// let factory = factory_fn("memory", || async { Ok(MemoryStore::new()) });
/// assert_eq!(factory.describe(), "memory");
/// ```
pub fn factory_fn<F, Fut, S>(description: impl Into<String>, make: F) -> FnFactory<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<S, Unavailable>> + Send + 'static,
    S: VersionedStore + 'static,
{
    FnFactory {
        description: description.into(),
        make,
        load_percent: 100,
        ignored: Vec::new(),
    }
}

/// The factory [`factory_fn`] returns.
pub struct FnFactory<F> {
    description: String,
    make: F,
    load_percent: u32,
    ignored: Vec<(String, String)>,
}

impl<F> FnFactory<F> {
    /// Sets [`StoreFactory::load_percent`]: run this share of the suite's default load.
    ///
    /// ```
    /// use optimist_conformance::{factory_fn, StoreFactory};
    /// let factory = factory_fn("slow emulator", || async { Ok(optimist_memory::MemoryStore::new()) })
    ///     .with_load_percent(25);
    /// assert_eq!(factory.load_percent(), 25);
    /// ```
    pub fn with_load_percent(mut self, percent: u32) -> Self {
        self.load_percent = percent.max(1);
        self
    }

    /// Ignores the case named `case` on these stores, with the reason shown beside
    /// it ([`StoreFactory::ignored_cases`]). For reasons the capabilities cannot say: what a
    /// store lacks belongs in its capabilities, and the suite ignores those cases by
    /// itself. A name that is no case fails the suite run, so a typo cannot hide.
    ///
    /// ```
    /// use optimist_conformance::{factory_fn, StoreFactory};
    /// let factory = factory_fn("emulator", || async { Ok(optimist_memory::MemoryStore::new()) })
    ///     .ignore("r24_hot_key_16_writers_50_increments_all_land", "the emulator is too slow");
    /// assert_eq!(factory.ignored_cases().len(), 1);
    /// ```
    pub fn ignore(mut self, case: impl Into<String>, why: impl Into<String>) -> Self {
        self.ignored.push((case.into(), why.into()));
        self
    }
}

impl<F, Fut, S> StoreFactory for FnFactory<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<S, Unavailable>> + Send + 'static,
    S: VersionedStore + 'static,
{
    type Store = S;

    fn describe(&self) -> String {
        self.description.clone()
    }

    fn make(&self) -> MakeFuture<'_, S> {
        Box::pin((self.make)())
    }

    fn load_percent(&self) -> u32 {
        self.load_percent
    }

    fn ignored_cases(&self) -> &[(String, String)] {
        &self.ignored
    }
}

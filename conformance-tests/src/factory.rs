//! How the suite gets a fresh store for each case.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

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

    /// How to open a store's storage again after dropping the store, for the
    /// durability case (`r4_completed_writes_survive_reopening_the_store`); `Err` says
    /// why these stores cannot be, and the case shows as ignored with that reason. None
    /// by default. Set with [`FnFactory::with_reopen`] (or say why not with
    /// [`FnFactory::without_reopen`]).
    fn reopener(&self) -> Result<Reopener<Self::Store>, String> {
        Err(NO_REOPEN.to_string())
    }
}

pub(crate) const NO_REOPEN: &str = "the factory offers no reopen (factory_fn(..).with_reopen(..) opens a \
                         store's storage again)";

/// Opens the storage of a store again: given the store (which it drops, closing what
/// it holds), it answers a new store on the same storage (the same file, table or key
/// prefix). What [`StoreFactory::reopener`] answers; made by [`FnFactory::with_reopen`].
///
/// ```
/// use optimist_conformance::{Reopener, Unavailable};
/// use optimist_memory::MemoryStore;
///
/// // A memory store's clones share its items: a "reopen" that keeps them.
/// let reopener = Reopener::new("a clone of the same map", |store: MemoryStore| async move {
///     Ok::<_, Unavailable>(store.clone())
/// });
/// assert_eq!(reopener.what(), "a clone of the same map");
/// ```
pub struct Reopener<S> {
    what: String,
    reopen: Arc<dyn Fn(S) -> MakeFuture<'static, S> + Send + Sync>,
}

impl<S> Clone for Reopener<S> {
    fn clone(&self) -> Self {
        Self {
            what: self.what.clone(),
            reopen: Arc::clone(&self.reopen),
        }
    }
}

impl<S> fmt::Debug for Reopener<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reopener")
            .field("what", &self.what)
            .finish()
    }
}

impl<S: 'static> Reopener<S> {
    /// A reopener from what it reopens, in words (`"the same database file"`, `"a new
    /// client on the same key prefix; the server itself is not restarted"`: a failure
    /// message of the durability case quotes it), and the closure that does it.
    pub fn new<G, Fut>(what: impl Into<String>, reopen: G) -> Self
    where
        G: Fn(S) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, Unavailable>> + Send + 'static,
    {
        Self {
            what: what.into(),
            reopen: Arc::new(move |store| Box::pin(reopen(store))),
        }
    }

    /// What it reopens, in words.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// Drops `store` and opens its storage again.
    ///
    /// # Errors
    ///
    /// [`Unavailable`] when the storage cannot be opened again.
    pub async fn reopen(&self, store: S) -> Result<S, Unavailable> {
        (self.reopen)(store).await
    }
}

/// Where a [`FnFactory`] keeps its reopen, if it has one: [`NoReopen`] (with why) or a
/// [`Reopener`]. Sealed: set it with [`FnFactory::with_reopen`] or
/// [`FnFactory::without_reopen`].
pub trait ReopenSlot<S>: Send + Sync + sealed::Sealed {
    /// The reopener, or why there is none.
    fn reopener(&self) -> Result<Reopener<S>, String>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::NoReopen {}
    impl<S> Sealed for super::Reopener<S> {}
}

/// A [`FnFactory`] without a reopen, and why (the default reason, or the one given to
/// [`FnFactory::without_reopen`]).
#[derive(Clone, Debug, Default)]
pub struct NoReopen(Option<String>);

impl<S> ReopenSlot<S> for NoReopen {
    fn reopener(&self) -> Result<Reopener<S>, String> {
        Err(self.0.clone().unwrap_or_else(|| NO_REOPEN.to_string()))
    }
}

impl<S> ReopenSlot<S> for Reopener<S> {
    fn reopener(&self) -> Result<Reopener<S>, String> {
        Ok(self.clone())
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
        reopen: NoReopen::default(),
    }
}

/// The factory [`factory_fn`] returns; `R` holds its reopen, if any
/// ([`FnFactory::with_reopen`]).
pub struct FnFactory<F, R = NoReopen> {
    description: String,
    make: F,
    load_percent: u32,
    ignored: Vec<(String, String)>,
    reopen: R,
}

impl<F> FnFactory<F> {
    /// Offers a reopen for the durability case
    /// (`r4_completed_writes_survive_reopening_the_store`): `reopen` gets a store made
    /// by this factory (after the case wrote to it), drops it, and opens the same
    /// storage again (the same file, table or key prefix). `what` says in words what
    /// is reopened, for the case's failure messages: be honest about what it does not
    /// cover (a server that is not restarted, a test server without persistence).
    ///
    /// ```
    /// use optimist_conformance::{factory_fn, StoreFactory, Unavailable};
    /// use optimist_memory::MemoryStore;
    ///
    /// // Clones of a memory store share its items, so this "reopen" keeps them; a real
    /// // backend opens its file or table again here.
    /// let factory = factory_fn("memory", || async { Ok::<_, Unavailable>(MemoryStore::new()) })
    ///     .with_reopen("a clone of the same map", |store: MemoryStore| async move {
    ///         Ok(store.clone())
    ///     });
    /// assert_eq!(factory.reopener().map(|r| r.what().to_string()), Ok("a clone of the same map".into()));
    /// ```
    pub fn with_reopen<S, G, Fut>(
        self,
        what: impl Into<String>,
        reopen: G,
    ) -> FnFactory<F, Reopener<S>>
    where
        S: 'static,
        G: Fn(S) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, Unavailable>> + Send + 'static,
    {
        FnFactory {
            description: self.description,
            make: self.make,
            load_percent: self.load_percent,
            ignored: self.ignored,
            reopen: Reopener::new(what, reopen),
        }
    }

    /// Says why these stores cannot be reopened (`"nothing survives the process"`):
    /// the durability case shows as ignored with this reason.
    ///
    /// ```
    /// use optimist_conformance::{factory_fn, StoreFactory, Unavailable};
    /// let factory = factory_fn("memory", || async { Ok::<_, Unavailable>(optimist_memory::MemoryStore::new()) })
    ///     .without_reopen("nothing survives the process");
    /// assert_eq!(factory.reopener().err().as_deref(), Some("nothing survives the process"));
    /// ```
    pub fn without_reopen(mut self, why: impl Into<String>) -> Self {
        self.reopen = NoReopen(Some(why.into()));
        self
    }
}

impl<F, R> FnFactory<F, R> {
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

impl<F, Fut, S, R> StoreFactory for FnFactory<F, R>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<S, Unavailable>> + Send + 'static,
    S: VersionedStore + 'static,
    R: ReopenSlot<S>,
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

    fn reopener(&self) -> Result<Reopener<S>, String> {
        self.reopen.reopener()
    }
}

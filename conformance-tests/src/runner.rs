//! Runs one case: makes the store, checks the backend declares what the case needs,
//! and drives the case on a multi-thread runtime.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use optimist_core::{Capabilities, KeyShape, VersionedStore};

use crate::StoreFactory;
use crate::env;

/// What a case needs beyond the core contract. A backend that lacks one says so in
/// `suite!`'s `unsupported` list, and the case shows as ignored with that reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Feature {
    /// Only the core contract.
    Core,
    /// [`transact`](optimist_core::VersionedStore::transact) (`Capabilities::transactions`).
    Transactions,
    /// Keys with and without a sort part in one store (`KeyShape::Any`).
    MixedKeyShapes,
    /// Keys with a sort part (`KeyShape::Any` or `KeyShape::PartitionAndSort`).
    SortKeys,
}

impl Feature {
    /// Whether a backend with these capabilities has the feature.
    ///
    /// ```
    /// use optimist_conformance::Feature;
    /// use optimist_core::{Capabilities, KeyShape, VersionedStore};
    /// let caps = Capabilities::new().with_key_shape(KeyShape::PartitionOnly);
    /// assert!(!Feature::SortKeys.supported_by(&caps));
    /// assert!(Feature::Core.supported_by(&caps));
    /// ```
    pub fn supported_by(self, caps: &Capabilities) -> bool {
        match self {
            Feature::Core => true,
            Feature::Transactions => caps.transactions,
            Feature::MixedKeyShapes => caps.key_shape == KeyShape::Any,
            Feature::SortKeys => caps.key_shape != KeyShape::PartitionOnly,
        }
    }

    /// The name to use in `suite!`'s `unsupported` list.
    ///
    /// ```
    /// assert_eq!(optimist_conformance::Feature::SortKeys.name(), "sort_keys");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Feature::Core => "core",
            Feature::Transactions => "transactions",
            Feature::MixedKeyShapes => "mixed_key_shapes",
            Feature::SortKeys => "sort_keys",
        }
    }
}

/// How [`run_case_with`] runs a case.
///
/// ```
/// use optimist_conformance::RunOptions;
/// let options = RunOptions::for_crate(env!("CARGO_MANIFEST_DIR"));
/// assert!(options.regressions.is_some());
/// ```
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Where property cases keep the failures they found, so the next run tries them
    /// first (`<dir>/<case>.txt`); `None` keeps nothing. `suite!` sets it to
    /// `proptest-regressions/conformance/` in the crate that runs the suite.
    pub regressions: Option<PathBuf>,
    /// How long a case may run; `None` reads `OPTIMIST_CASE_TIMEOUT_SECS`.
    pub timeout: Option<Duration>,
}

impl RunOptions {
    /// Options for a suite run by the crate at `manifest_dir`: its regression files go
    /// to `<manifest_dir>/proptest-regressions/conformance/`.
    pub fn for_crate(manifest_dir: &str) -> Self {
        Self {
            regressions: Some(
                Path::new(manifest_dir)
                    .join("proptest-regressions")
                    .join("conformance"),
            ),
            timeout: None,
        }
    }
}

/// What a running case knows about how it was started.
#[derive(Clone, Debug)]
pub struct CaseContext {
    /// The case's name.
    pub name: String,
    /// The directory of regression files, see [`RunOptions::regressions`].
    pub regressions: Option<PathBuf>,
    /// The factory's [`load_percent`](crate::StoreFactory::load_percent).
    pub load_percent: u32,
}

impl Default for CaseContext {
    fn default() -> Self {
        Self {
            name: String::new(),
            regressions: None,
            load_percent: 100,
        }
    }
}

tokio::task_local! {
    static CONTEXT: CaseContext;
}

/// The context of the case running on this task; the default outside one.
///
/// ```
/// assert_eq!(optimist_conformance::runner::context().name, "");
/// ```
pub fn context() -> CaseContext {
    CONTEXT.try_with(Clone::clone).unwrap_or_default()
}

/// Runs `f` with `context` as the current case's context.
pub(crate) fn within<T>(context: &CaseContext, f: impl FnOnce() -> T) -> T {
    CONTEXT.sync_scope(context.clone(), f)
}

/// Runs one case against a fresh store from `factory`, with default [`RunOptions`]
/// (no regression files). Public so a backend can run a single case by hand.
///
/// A store that cannot be made skips the case with a printed line, or fails it when
/// `CI` or `OPTIMIST_REQUIRE_ALL` is set. A store whose capabilities lack `feature`
/// fails the case: the backend must declare it in `suite!`'s `unsupported` list so the
/// case shows as ignored instead.
///
/// ```
/// use optimist_conformance::{factory_fn, run_case, Feature};
/// use optimist_core::{Key, VersionedStore};
///
/// let factory = factory_fn("memory", || async { Ok(optimist_memory::MemoryStore::new()) });
/// run_case("my_case", Feature::Core, &factory, |store| async move {
///     assert!(store.get(&Key::new("k")).await.unwrap().is_none());
/// });
/// ```
pub fn run_case<F, C, Fut>(name: &str, feature: Feature, factory: &F, case: C)
where
    F: StoreFactory,
    C: FnOnce(Arc<F::Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_case_with(name, feature, factory, &RunOptions::default(), case);
}

/// [`run_case`] with [`RunOptions`]; what the tests `suite!` generates call.
///
/// ```
/// use optimist_conformance::{factory_fn, run_case_with, Feature, RunOptions};
///
/// let factory = factory_fn("memory", || async { Ok(optimist_memory::MemoryStore::new()) });
/// let options = RunOptions::default();
/// run_case_with("my_case", Feature::Core, &factory, &options, |_store| async move {});
/// ```
pub fn run_case_with<F, C, Fut>(
    name: &str,
    feature: Feature,
    factory: &F,
    options: &RunOptions,
    case: C,
) where
    F: StoreFactory,
    C: FnOnce(Arc<F::Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(env::workers())
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => panic!("case {name}: cannot build a tokio runtime: {err}"),
    };
    let description = factory.describe();
    let store = match runtime.block_on(factory.make()) {
        Ok(store) => Arc::new(store),
        Err(why) if env::require_all() => {
            panic!("case {name}: {why} (CI or OPTIMIST_REQUIRE_ALL is set, so this fails)")
        }
        Err(why) => {
            println!("skipped {name}: {why}");
            return;
        }
    };
    println!("case {name} on {description}");
    let caps = store.capabilities();
    assert!(
        feature.supported_by(caps),
        "case {name} needs `{0}`, which this backend's capabilities lack: declare it in \
         suite!'s unsupported list (`{0}: \"why\"`) so the case shows as ignored",
        feature.name()
    );
    let limit = options
        .timeout
        .unwrap_or_else(|| Duration::from_secs(env::case_timeout_secs()));
    let context = CaseContext {
        name: name.to_string(),
        regressions: options.regressions.clone(),
        load_percent: factory.load_percent().max(1),
    };
    let outcome = runtime.block_on(async move {
        let task = tokio::spawn(CONTEXT.scope(context, case(store)));
        tokio::time::timeout(limit, task).await
    });
    // Tasks a failed case left behind (a racing task stuck in a retry loop) must not
    // hold the test thread: stop the runtime without waiting for them.
    runtime.shutdown_background();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(join)) => match join.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(join) => panic!("case {name} was cancelled: {join}"),
        },
        Err(_) => {
            panic!("case {name} did not finish within {limit:?} (OPTIMIST_CASE_TIMEOUT_SECS)")
        }
    }
}

//! The cases as data: the same list `suite!` turns into tests, for running the suite
//! programmatically (the suite's own mutant tests do, to learn which cases catch which
//! bug). Both come from the one list in `__suite_cases!`, so they cannot drift apart.
//!
//! Every case runs on a store erased to [`DynStore`], the one type the cases are
//! compiled for ([`crate::erased`]): [`all`] for another store type hands the case its
//! store erased, and [`run_all`] and `suite!` run the erased list itself.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;

use optimist_core::{Capabilities, VersionedStore};

use crate::erased::{DynFactory, DynStore, Erased};
use crate::gate::{self, Hold};
use crate::runner::{self, CaseError, panic_message, run_case};
use crate::{Feature, RunOptions, StoreFactory, Unavailable};

/// The future a case returns.
pub type CaseFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// One conformance case.
pub struct Case<S> {
    /// Its name, the name of its test.
    pub name: &'static str,
    /// What it needs beyond the core contract (`[Feature::Core]` for nothing).
    pub features: &'static [Feature],
    /// Runs it on a fresh store.
    pub run: fn(Arc<S>) -> CaseFuture,
}

impl<S> Clone for Case<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Case<S> {}

impl<S> std::fmt::Debug for Case<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .field("features", &self.features)
            .finish()
    }
}

/// Every case, in the suite's order. Each [`run`](Case::run) erases the store it is
/// given and runs the case compiled once for every store type: its behaviour is the
/// same for every `S`.
///
/// ```
/// let cases = optimist_conformance::cases::all::<optimist_memory::MemoryStore>();
/// assert!(cases.iter().any(|c| c.name == "r13_concurrent_histories_are_linearizable"));
/// ```
pub fn all<S: VersionedStore + 'static>() -> Vec<Case<S>> {
    crate::__suite_cases!(@erasing)
}

/// Every case, in the suite's order, on the erased store: what the suite runs. Not
/// generic, so the cases are compiled here, once.
pub(crate) fn erased() -> Vec<Case<DynStore>> {
    crate::__suite_cases!(@catalog)
}

/// How one case of [`run_all`] ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseOutcome {
    /// It passed.
    Passed,
    /// It failed, with its message.
    Failed(String),
    /// The store's capabilities lack a feature it needs; it did not run.
    Unsupported,
    /// It did not run, for the reason given: the factory ignores it
    /// ([`StoreFactory::ignored_cases`]) or the server cannot be reached.
    Ignored(String),
}

/// Runs every case (or those `select` keeps) against stores from `factory`, each
/// isolated, and reports each outcome by name. A case whose feature the store's
/// capabilities lack is reported [`CaseOutcome::Unsupported`], one the factory ignores
/// [`CaseOutcome::Ignored`]. An unreachable server fails every case when `CI` or
/// `OPTIMIST_REQUIRE_ALL` is set, and otherwise ignores it.
///
/// ```
/// use optimist_conformance::cases::{run_all, CaseOutcome};
/// use optimist_conformance::{factory_fn, RunOptions};
///
/// let factory = factory_fn("memory", || async { Ok(optimist_memory::MemoryStore::new()) });
/// let results = run_all(&factory, &RunOptions::default(), |c| c.name == "r4_get_absent_is_none");
/// assert_eq!(results, vec![("r4_get_absent_is_none", CaseOutcome::Passed)]);
/// ```
pub fn run_all<F>(
    factory: &F,
    options: &RunOptions,
    select: impl Fn(&Case<F::Store>) -> bool,
) -> Vec<(&'static str, CaseOutcome)>
where
    F: StoreFactory,
{
    let factory: &DynFactory<'_> = &Erased(factory);
    // One store, made up front, tells which features the backend has.
    let caps = runner::probe(factory);
    let mut results = Vec::new();
    // The caller chooses on the cases of its store type, each just before it would
    // run; the same case of the erased list runs.
    for (typed, case) in all::<F::Store>().iter().zip(erased()) {
        if select(typed) {
            results.push((case.name, outcome(case, factory, options, &caps)));
        }
    }
    results
}

/// How `case` ends on stores from `factory`: not run (unsupported, ignored, an
/// unreachable server), or run. Not generic, so compiled once.
fn outcome(
    case: Case<DynStore>,
    factory: &DynFactory<'_>,
    options: &RunOptions,
    caps: &Result<Capabilities, Unavailable>,
) -> CaseOutcome {
    match gate::hold(case.name, case.features, factory, caps, false) {
        Some(Hold::Unsupported(_)) => CaseOutcome::Unsupported,
        Some(Hold::Ignore(why)) => CaseOutcome::Ignored(why),
        Some(Hold::Fail(why)) => CaseOutcome::Failed(why),
        None => run_one(case, factory, options),
    }
}

fn run_one(case: Case<DynStore>, factory: &DynFactory<'_>, options: &RunOptions) -> CaseOutcome {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        run_case(case.name, factory, options, case.run)
    }));
    match outcome {
        Ok(Ok(())) => CaseOutcome::Passed,
        Ok(Err(CaseError::Failed(why))) => CaseOutcome::Failed(why),
        Ok(Err(CaseError::Unavailable(why))) => match gate::unavailable(&why) {
            Hold::Fail(why) => CaseOutcome::Failed(why),
            Hold::Ignore(why) | Hold::Unsupported(why) => CaseOutcome::Ignored(why),
        },
        Err(payload) => CaseOutcome::Failed(panic_message(payload.as_ref())),
    }
}

//! The cases as data: the same list `suite!` turns into tests, for running the suite
//! programmatically (the suite's own mutant tests do, to learn which cases catch which
//! bug). Both come from the one list in `__suite_cases!`, so they cannot drift apart.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;

use optimist_core::VersionedStore;

use crate::{Feature, RunOptions, StoreFactory, run_case_with};

/// The future a case returns.
pub type CaseFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// One conformance case.
pub struct Case<S> {
    /// Its name, the name of its test.
    pub name: &'static str,
    /// What it needs beyond the core contract.
    pub feature: Feature,
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
            .field("feature", &self.feature)
            .finish()
    }
}

/// Every case, in `suite!`'s order.
///
/// ```
/// let cases = optimist_conformance::cases::all::<optimist_memory::MemoryStore>();
/// assert!(cases.iter().any(|c| c.name == "r13_concurrent_histories_are_linearizable"));
/// ```
pub fn all<S: VersionedStore + 'static>() -> Vec<Case<S>> {
    crate::__suite_cases!(@catalog)
}

/// How one case of [`run_all`] ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseOutcome {
    /// It passed.
    Passed,
    /// It failed, with its panic message.
    Failed(String),
    /// The store lacks its feature; it did not run.
    Unsupported,
}

/// Runs every case (or those `select` keeps) against stores from `factory`, each
/// isolated by `catch_unwind`, and reports each outcome by name. A case whose feature
/// the store's capabilities lack is reported [`CaseOutcome::Unsupported`].
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
    let mut results = Vec::new();
    // One store, made up front, tells which features the backend has.
    let caps = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()
        .and_then(|rt| rt.block_on(factory.make()).ok())
        .map(|store| store.capabilities().clone());
    for case in all::<F::Store>().into_iter().filter(|c| select(c)) {
        if caps
            .as_ref()
            .is_some_and(|caps| !case.feature.supported_by(caps))
        {
            results.push((case.name, CaseOutcome::Unsupported));
            continue;
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            run_case_with(case.name, case.feature, factory, options, case.run);
        }));
        let outcome = match outcome {
            Ok(()) => CaseOutcome::Passed,
            Err(payload) => CaseOutcome::Failed(panic_message(payload.as_ref())),
        };
        results.push((case.name, outcome));
    }
    results
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "a panic without a message".to_string())
}

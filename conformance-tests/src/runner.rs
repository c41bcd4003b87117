//! Runs one case: makes the store, drives the case on a multi-thread runtime under a
//! timeout, and reports a failure as a message. Which cases run at all is decided
//! before, in [`crate::gate`].

use std::any::Any;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::{mpsc, oneshot};
use futures::future::{self, Either};
use optimist_core::{Capabilities, VersionedStore};

use crate::env;
use crate::verdict::{self, Journal};
use crate::{Reopener, StoreFactory, Unavailable};

/// How the suite runs its cases.
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

/// The way back to the factory of the running case, for cases that need a second
/// store (a cursor of one store must be refused by another of the same factory): a
/// request channel the runner answers with a fresh store. Type-erased here, since the
/// context is not generic; [`another_store`] names the type again.
#[derive(Clone)]
pub(crate) struct Sibling(Arc<dyn Any + Send + Sync>);

impl std::fmt::Debug for Sibling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sibling")
    }
}

type StoreRequest<S> = oneshot::Sender<Result<S, Unavailable>>;

/// What a running case knows about how it was started.
#[derive(Clone, Debug)]
pub(crate) struct CaseContext {
    /// The case's name.
    pub(crate) name: String,
    /// The directory of regression files, see [`RunOptions::regressions`].
    pub(crate) regressions: Option<PathBuf>,
    /// The factory's [`load_percent`](crate::StoreFactory::load_percent).
    pub(crate) load_percent: u32,
    /// Asks the case's factory for another store; `None` outside a case.
    pub(crate) sibling: Option<Sibling>,
    /// The factory's [`Reopener`] for the case's store type, if it has one (the
    /// context is not generic: [`reopener`] gets it back by its type).
    pub(crate) reopen: Option<Arc<dyn Any + Send + Sync>>,
    /// The operations the case ran, listed when it fails.
    pub(crate) journal: Journal,
}

impl Default for CaseContext {
    fn default() -> Self {
        Self {
            name: String::new(),
            regressions: None,
            load_percent: 100,
            sibling: None,
            reopen: None,
            journal: Journal::new(),
        }
    }
}

/// The running case's factory's [`Reopener`] for stores of type `S`; `None` outside a
/// case or when the factory has none.
pub(crate) fn reopener<S: 'static>() -> Option<Reopener<S>> {
    context()
        .reopen
        .and_then(|any| any.downcast_ref::<Reopener<S>>().cloned())
}

tokio::task_local! {
    static CONTEXT: CaseContext;
}

/// The context of the case running on this task; the default outside one.
pub(crate) fn context() -> CaseContext {
    CONTEXT.try_with(Clone::clone).unwrap_or_default()
}

/// Another fresh store from the running case's factory, isolated from the case's own
/// store as the factory promises (another table, key prefix or database). Panics (the
/// case fails) outside a case run by the suite, or when the factory cannot make one.
#[allow(clippy::panic)] // called by cases, which fail by panicking
pub(crate) async fn another_store<S: Send + 'static>() -> S {
    let Some(Sibling(asks)) = context().sibling else {
        panic!("this case needs a second store from its factory, and runs only inside the suite");
    };
    let Some(asks) = asks.downcast_ref::<mpsc::UnboundedSender<StoreRequest<S>>>() else {
        panic!("the suite's factory makes stores of another type than this case's");
    };
    let (reply, answer) = oneshot::channel();
    if asks.unbounded_send(reply).is_err() {
        panic!("the suite's runner no longer answers requests for stores");
    }
    match answer.await {
        Ok(Ok(store)) => store,
        Ok(Err(why)) => panic!("the factory could not make a second store: {why}"),
        Err(_) => panic!("the suite's runner dropped the request for a second store"),
    }
}

/// Runs `f` with `context` as the current case's context.
pub(crate) fn within<T>(context: &CaseContext, f: impl FnOnce() -> T) -> T {
    CONTEXT.sync_scope(context.clone(), f)
}

/// Why a case did not pass.
#[derive(Debug)]
pub(crate) enum CaseError {
    /// The factory could not make a store.
    Unavailable(Unavailable),
    /// The case failed, with its message.
    Failed(String),
}

fn runtime(name: &str, threads: usize) -> Result<tokio::runtime::Runtime, CaseError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(|err| {
            CaseError::Failed(format!("case {name}: cannot build a tokio runtime: {err}"))
        })
}

/// The capabilities of a store from `factory`: one store is made to read them.
pub(crate) fn probe<F: StoreFactory + ?Sized>(factory: &F) -> Result<Capabilities, Unavailable> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Unavailable::new("a tokio runtime", err.to_string()))?;
    // The store is dropped inside the runtime: a pool's drop may need it.
    runtime.block_on(async {
        let store = factory.make().await?;
        Ok(store.capabilities().clone())
    })
}

/// Runs one case against a fresh store from `factory`.
pub(crate) fn run_case<F, C, Fut>(
    name: &str,
    factory: &F,
    options: &RunOptions,
    case: C,
) -> Result<(), CaseError>
where
    F: StoreFactory + ?Sized,
    C: FnOnce(Arc<F::Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let runtime = runtime(name, env::workers())?;
    let store = runtime
        .block_on(factory.make())
        .map_err(CaseError::Unavailable)?;
    let store = Arc::new(store);
    let limit = options
        .timeout
        .unwrap_or_else(|| Duration::from_secs(env::case_timeout_secs()));
    let (asks, mut requests) = mpsc::unbounded::<StoreRequest<F::Store>>();
    let journal = Journal::new();
    let context = CaseContext {
        journal: journal.clone(),
        name: name.to_string(),
        regressions: options.regressions.clone(),
        load_percent: factory.load_percent().max(1),
        sibling: Some(Sibling(Arc::new(asks))),
        reopen: factory
            .reopener()
            .ok()
            .map(|reopener| Arc::new(reopener) as Arc<dyn Any + Send + Sync>),
    };
    let outcome = runtime.block_on(async move {
        let task = tokio::spawn(CONTEXT.scope(context, case(store)));
        // The factory is borrowed, so it serves the case's requests for more stores
        // here, beside the case, rather than from inside the spawned task.
        let serve = async {
            while let Some(reply) = requests.next().await {
                let _ = reply.send(factory.make().await);
            }
            std::future::pending::<()>().await;
        };
        let both = async {
            match future::select(task, Box::pin(serve)).await {
                Either::Left((done, _)) => done,
                Either::Right(((), task)) => task.await,
            }
        };
        tokio::time::timeout(limit, both).await
    });
    // Tasks a failed case left behind (a racing task stuck in a retry loop) must not
    // hold the test thread: stop the runtime without waiting for them.
    runtime.shutdown_background();
    let on = factory.describe();
    let failed = |message: String| {
        Err(CaseError::Failed(verdict::report(
            name, &on, &journal, &message,
        )))
    };
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(join)) => match join.try_into_panic() {
            Ok(payload) => failed(panic_message(payload.as_ref())),
            Err(join) => failed(format!("the case's task was cancelled: {join}")),
        },
        Err(_) => failed(format!(
            "expected: the case finishes within {limit:?} (OPTIMIST_CASE_TIMEOUT_SECS)\n\
             got: it did not; the operations listed are those that answered"
        )),
    }
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "a panic without a message".to_string())
}

#[cfg(test)]
#[allow(clippy::panic)] // tests fail by panicking
mod tests {
    use super::*;
    use crate::factory_fn;

    #[test]
    fn a_factory_load_percent_scales_the_default_knobs() {
        let unset = |name: &str| std::env::var(name).is_err();
        let factory = factory_fn("memory at a tenth of the load", || async {
            Ok::<_, Unavailable>(optimist_memory::MemoryStore::new())
        })
        .with_load_percent(10);
        let checks = (
            unset("OPTIMIST_HISTORIES"),
            unset("OPTIMIST_PROPTEST_CASES"),
            unset("OPTIMIST_RACE_INCREMENTS"),
        );
        let result = run_case(
            "load",
            &factory,
            &RunOptions::default(),
            move |_store| async move {
                if checks.0 {
                    assert_eq!(env::histories(), 10);
                }
                if checks.1 {
                    assert_eq!(env::proptest_cases(), 6);
                }
                if checks.2 {
                    assert_eq!(env::race_increments(), 2);
                }
            },
        );
        assert!(result.is_ok(), "{result:?}");
        // Outside a case, the defaults are unscaled.
        if checks.0 {
            assert_eq!(env::histories(), 100);
        }
    }

    #[test]
    fn a_failing_case_reports_its_message_and_the_store() {
        let factory = factory_fn("memory", || async {
            Ok::<_, Unavailable>(optimist_memory::MemoryStore::new())
        });
        let result = run_case("boom", &factory, &RunOptions::default(), |_store| async {
            panic!("the assertion's message");
        });
        match result {
            Err(CaseError::Failed(message)) => {
                assert!(message.contains("the assertion's message"), "{message}");
                assert!(message.starts_with("boom failed on memory\n"), "{message}");
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn an_unavailable_server_is_reported_as_such() {
        let factory = factory_fn("nothing", || async {
            Err::<optimist_memory::MemoryStore, _>(Unavailable::new("MyServer", "down"))
        });
        let result = run_case("c", &factory, &RunOptions::default(), |_store| async {});
        assert!(
            matches!(result, Err(CaseError::Unavailable(_))),
            "{result:?}"
        );
        assert!(probe(&factory).is_err());
    }
}

//! The test harness [`suite!`](crate::suite!) runs: one trial per case and factory,
//! decided at run time from the store's capabilities, on `libtest-mimic`, so the output,
//! the summary line and the arguments (a name filter, `--exact`, `--skip`, `--list`,
//! `--ignored`, `--include-ignored`, `--test-threads`) are those of `cargo test`.

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use libtest_mimic::{Arguments, Completion, Conclusion, Failed, Trial};
use optimist_core::Capabilities;

use crate::erased::{DynFactory, Erased};
use crate::gate::{self, Hold};
use crate::runner::{self, CaseError, run_case};
use crate::{RunOptions, StoreFactory, Unavailable, cases};

/// The whole suite over one or more factories, run as a test binary's `main`; what
/// [`suite!`](crate::suite!) expands to.
///
/// Each case becomes one test, named after the case (prefixed with the factory's name
/// when there are several: `hash_only::r6_update_stale_version_conflicts`). A case
/// whose [`Feature`](crate::Feature) the store's capabilities lack shows as ignored
/// with the reason, as does a case the factory ignores
/// ([`FnFactory::ignore`](crate::FnFactory::ignore)) and, unless `CI` or
/// `OPTIMIST_REQUIRE_ALL` is set, every case of a factory whose server is unavailable.
///
/// The cases run on the factory's store behind a trait object: they are compiled once,
/// in this crate, and a test binary compiles only its factories.
///
/// ```no_run
/// // tests/conformance.rs, a [[test]] with harness = false
/// use optimist_conformance::{RunOptions, Suite, Unavailable, factory_fn};
///
/// fn main() -> std::process::ExitCode {
///     Suite::new(RunOptions::for_crate(env!("CARGO_MANIFEST_DIR")))
///         .with_factory("", factory_fn("memory", || async {
///             Ok::<_, Unavailable>(optimist_memory::MemoryStore::new())
///         }))
///         .run()
/// }
/// ```
pub struct Suite {
    options: RunOptions,
    /// Each factory with the name prefixing its tests, erased: everything past
    /// [`Suite::with_factory`] is compiled once, here, for every store type.
    groups: Vec<(String, Arc<DynFactory<'static>>)>,
}

impl std::fmt::Debug for Suite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suite")
            .field("options", &self.options)
            .field("factories", &self.groups.len())
            .finish()
    }
}

impl Suite {
    /// A suite with no factory yet.
    pub fn new(options: RunOptions) -> Self {
        Self {
            options,
            groups: Vec::new(),
        }
    }

    /// Runs every case on stores from `factory`; `name` prefixes the tests' names
    /// (`name::case`), or nothing when empty.
    pub fn with_factory<F: StoreFactory + 'static>(mut self, name: &str, factory: F) -> Self {
        let factory: Arc<DynFactory<'static>> = Arc::new(Erased(Box::new(factory)));
        self.groups.push((name.to_string(), factory));
        self
    }

    /// Runs the suite with the process's arguments, prints the results as `cargo test`
    /// does, and returns the exit code.
    pub fn run(self) -> ExitCode {
        self.run_with(&Arguments::from_args()).exit_code()
    }

    fn run_with(self, args: &Arguments) -> Conclusion {
        let run_ignored = args.ignored || args.include_ignored;
        let options = self.options;
        let trials = self
            .groups
            .into_iter()
            .flat_map(|(name, factory)| trials(&name, factory, &options, run_ignored))
            .collect();
        libtest_mimic::run(args, trials)
    }
}

fn trials(
    prefix: &str,
    factory: Arc<DynFactory<'static>>,
    options: &RunOptions,
    run_ignored: bool,
) -> Vec<Trial> {
    let name_of = |case: &str| {
        if prefix.is_empty() {
            case.to_string()
        } else {
            format!("{prefix}::{case}")
        }
    };
    // One store per factory, made when its first case runs, tells the capabilities.
    let caps: Arc<OnceLock<Result<Capabilities, Unavailable>>> = Arc::default();
    let cases = cases::erased();
    let unknown: Vec<String> = factory
        .ignored_cases()
        .iter()
        .filter(|(name, _)| !cases.iter().any(|case| case.name == name))
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    let mut trials: Vec<Trial> = cases
        .into_iter()
        .map(|case| {
            let factory = Arc::clone(&factory);
            let caps = Arc::clone(&caps);
            let options = options.clone();
            let flagged = run_ignored && gate::ignored_by(&*factory, case.name).is_some();
            Trial::ignorable_test(name_of(case.name), move || {
                let caps = caps.get_or_init(|| runner::probe(&*factory));
                match gate::hold(case.name, case.features, &*factory, caps, run_ignored) {
                    Some(hold) => verdict(hold),
                    None => match run_case(case.name, &*factory, &options, case.run) {
                        Ok(()) => Ok(Completion::Completed),
                        Err(CaseError::Failed(why)) => Err(Failed::from(why)),
                        Err(CaseError::Unavailable(why)) => verdict(gate::unavailable(&why)),
                    },
                }
            })
            .with_ignored_flag(flagged)
        })
        .collect();
    if !unknown.is_empty() {
        let message = format!(
            "the factory ignores {}, which no case is named",
            unknown.join(", ")
        );
        trials.push(Trial::test(
            name_of("factory_ignores_only_known_cases"),
            move || Err(Failed::from(message)),
        ));
    }
    trials
}

fn verdict(hold: Hold) -> Result<Completion, Failed> {
    match hold {
        Hold::Unsupported(why) | Hold::Ignore(why) => Ok(Completion::ignored_with(why)),
        Hold::Fail(why) => Err(Failed::from(why)),
    }
}

#[cfg(test)]
mod tests {
    use optimist_core::{Capabilities, KeyShape};
    use optimist_memory::MemoryStore;

    use super::*;
    use crate::factory_fn;

    fn memory(caps: Capabilities) -> impl StoreFactory {
        factory_fn("memory", move || {
            let caps = caps.clone();
            async move { Ok::<_, Unavailable>(MemoryStore::with_capabilities(caps)) }
        })
    }

    fn args(extra: &[&str]) -> Arguments {
        // The nested run prints its report to /dev/null, not into this run's output.
        let mut all = vec![
            "conformance",
            "--test-threads",
            "1",
            "--logfile",
            "/dev/null",
        ];
        all.extend_from_slice(extra);
        Arguments::from_iter(all)
    }

    fn counts(conclusion: &Conclusion) -> (u64, u64, u64) {
        (
            conclusion.num_passed,
            conclusion.num_failed,
            conclusion.num_ignored,
        )
    }

    #[test]
    fn cases_the_capabilities_rule_out_are_ignored_not_passed() {
        let suite = Suite::new(RunOptions::default())
            .with_factory("full", memory(Capabilities::new()))
            .with_factory(
                "no_tx",
                memory(Capabilities::new().with_transactions(false)),
            );
        let conclusion = suite.run_with(&args(&["r10_transact_applies_every_op", "--exact"]));
        assert_eq!(
            counts(&conclusion),
            (0, 0, 0),
            "--exact needs the full name"
        );

        let suite = Suite::new(RunOptions::default())
            .with_factory("full", memory(Capabilities::new()))
            .with_factory(
                "no_tx",
                memory(Capabilities::new().with_transactions(false)),
            );
        let conclusion = suite.run_with(&args(&["::r10_transact_applies_every_op"]));
        assert_eq!(counts(&conclusion), (1, 0, 1));
        // Asking for ignored cases does not run what the store cannot do.
        let suite = Suite::new(RunOptions::default()).with_factory(
            "no_tx",
            memory(Capabilities::new().with_transactions(false)),
        );
        let conclusion = suite.run_with(&args(&[
            "r10_transact_applies_every_op",
            "--include-ignored",
        ]));
        assert_eq!(counts(&conclusion), (0, 0, 1));
    }

    #[test]
    fn typed_cases_follow_the_key_shape() {
        let sorted = Capabilities::new().with_key_shape(KeyShape::PartitionAndSort);
        let suite = Suite::new(RunOptions::default()).with_factory("", memory(sorted));
        let conclusion = suite.run_with(&args(&["r20_"]));
        // The sort-key entity runs; the partition-key-only entities cannot.
        assert!(conclusion.num_passed >= 1, "{conclusion:?}");
        assert!(conclusion.num_ignored >= 1, "{conclusion:?}");
        assert_eq!(conclusion.num_failed, 0, "{conclusion:?}");
    }

    #[test]
    fn a_factory_ignores_a_case_until_ignored_cases_are_asked_for() {
        let make = || {
            Suite::new(RunOptions::default()).with_factory(
                "",
                factory_fn("memory", || async {
                    Ok::<_, Unavailable>(MemoryStore::new())
                })
                .ignore("r4_get_absent_is_none", "a reason"),
            )
        };
        let conclusion = make().run_with(&args(&["r4_get_absent_is_none"]));
        assert_eq!(counts(&conclusion), (0, 0, 1));
        let conclusion = make().run_with(&args(&["r4_get_absent_is_none", "--ignored"]));
        assert_eq!(counts(&conclusion), (1, 0, 0));
        let conclusion = make().run_with(&args(&["r4_get_absent_is_none", "--include-ignored"]));
        assert_eq!(counts(&conclusion), (1, 0, 0));
    }

    #[test]
    fn ignoring_a_case_that_does_not_exist_fails() {
        let suite = Suite::new(RunOptions::default()).with_factory(
            "",
            factory_fn("memory", || async {
                Ok::<_, Unavailable>(MemoryStore::new())
            })
            .ignore("r4_no_such_case", "typo"),
        );
        let conclusion = suite.run_with(&args(&["factory_ignores_only_known_cases"]));
        assert_eq!(counts(&conclusion), (0, 1, 0));
    }
}

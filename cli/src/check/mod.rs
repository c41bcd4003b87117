//! `optimist check URL`: the conformance suite against a live store, each case on a
//! fresh table or prefix removed at the end.

mod report;
mod rule;

use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use optimist::{Capabilities, VersionedStore};
use optimist_conformance::cases::{self, Case, CaseOutcome};
use optimist_conformance::{RunOptions, Unavailable, factory_fn};

use crate::args::CheckArgs;
use crate::exit::{self, Failure};
use crate::io::Io;
use crate::namespace::{Fresh, Removal};
use crate::target::Target;

pub(crate) use report::{CaseResult, Report, Verdict};

type Store = Arc<dyn VersionedStore>;

/// Runs the check and prints its report; the exit code is [`exit::FAILED`] when a case
/// failed.
pub(crate) fn run(target: &Target, args: &CheckArgs, io: &mut Io) -> Result<u8, Failure> {
    let patterns: Vec<String> = args
        .cases
        .as_deref()
        .map(|p| {
            p.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let selected = |case: &Case<Store>| {
        patterns.is_empty() || patterns.iter().any(|p| case.name.contains(p.as_str()))
    };
    let chosen: Vec<Case<Store>> = cases::all::<Store>().into_iter().filter(selected).collect();
    if chosen.is_empty() {
        return Err(Failure::bad_input(format!(
            "no case name contains {}: `optimist check URL` without --cases runs all {} cases",
            args.cases.as_deref().unwrap_or_default(),
            cases::all::<Store>().len()
        )));
    }

    let fresh = Fresh::new(target, "check");
    let runtime = runtime()?;
    // One store first: an unreachable server or bad settings end the run here, as bad
    // input, before any case; its capabilities tell why a case is not run.
    let capabilities = match runtime.block_on(fresh.make()) {
        Ok(store) => store.capabilities().clone(),
        Err(err) => {
            // A table half made (created, then refused) goes too; the server that
            // could not be reached is the one line to print, not each removal's echo.
            let _ = runtime.block_on(fresh.remove_all());
            return Err(Failure::setup(&err));
        }
    };

    let progress = progress_bar(io, chosen.len());
    // The case running now (the suite runs them one at a time), so a store that cannot
    // be made mid-run fails that case instead of being skipped as "unavailable".
    let current: Arc<Mutex<Option<&'static str>>> = Arc::default();
    let make_failures: Arc<Mutex<Vec<(&'static str, String)>>> = Arc::default();
    let factory = {
        let fresh = Arc::clone(&fresh);
        let current = Arc::clone(&current);
        let make_failures = Arc::clone(&make_failures);
        factory_fn(fresh.describe(), move || {
            let fresh = Arc::clone(&fresh);
            let current = Arc::clone(&current);
            let make_failures = Arc::clone(&make_failures);
            async move {
                fresh.make().await.map_err(|err| {
                    let why = exit::one_line(&err);
                    let case = current.lock().ok().and_then(|c| *c);
                    if let (Some(case), Ok(mut failures)) = (case, make_failures.lock()) {
                        failures.push((case, why.clone()));
                    }
                    Unavailable::new("the store", why)
                })
            }
        })
        .with_load_percent(args.load_percent)
    };
    let options = RunOptions {
        regressions: None,
        timeout: args.case_timeout,
    };
    let started = std::cell::Cell::new(0u64);
    let outcomes = cases::run_all(&factory, &options, |case| {
        let run = selected(case);
        if run {
            // The suite asks about the next case only once the one before has ended.
            progress.set_position(started.get());
            progress.set_message(case.name);
            started.set(started.get() + 1);
            if let Ok(mut now) = current.lock() {
                *now = Some(case.name);
            }
        }
        run
    });
    progress.finish_and_clear();
    let removal = runtime.block_on(fresh.remove_all());

    let make_failures = make_failures.lock().map(|f| f.clone()).unwrap_or_default();
    let results = outcomes
        .into_iter()
        .map(|(name, outcome)| {
            let features = chosen
                .iter()
                .find(|case| case.name == name)
                .map(|case| case.features)
                .unwrap_or(&[]);
            let made = make_failures.iter().find(|(case, _)| *case == name);
            result_of(name, outcome, features, &capabilities, made)
        })
        .collect();
    let report = Report::new(fresh.describe(), results, removal);
    if args.json {
        io.out(&report.json());
    } else {
        io.out(&report.table());
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report.junit()).map_err(|err| {
            Failure::failed(format!(
                "cannot write the JUnit report to {}: {err}",
                path.display()
            ))
        })?;
    }
    if !args.json {
        report_leftovers(&report.removal, io);
    }
    Ok(if report.failed() > 0 {
        exit::FAILED
    } else {
        exit::OK
    })
}

fn result_of(
    name: &'static str,
    outcome: CaseOutcome,
    features: &[optimist_conformance::Feature],
    capabilities: &Capabilities,
    made: Option<&(&'static str, String)>,
) -> CaseResult {
    let (verdict, detail) = match (outcome, made) {
        (_, Some((_, why))) => (
            Verdict::Failed,
            format!("could not make a fresh store for the case: {why}"),
        ),
        (CaseOutcome::Passed, None) => (Verdict::Passed, String::new()),
        (CaseOutcome::Failed(why), None) => (Verdict::Failed, why),
        (CaseOutcome::Unsupported, None) => (
            Verdict::Ignored,
            features
                .iter()
                .find_map(|f| f.missing_from(capabilities))
                .unwrap_or_else(|| "the store lacks a feature it needs".to_string()),
        ),
        (CaseOutcome::Ignored(why), None) => (Verdict::Ignored, why),
    };
    CaseResult {
        name,
        rule: rule::of(name),
        verdict,
        detail,
    }
}

fn report_leftovers(removal: &Removal, io: &mut Io) {
    for failure in &removal.failures {
        io.err(&format!("optimist: warning: {failure}\n"));
    }
}

fn progress_bar(io: &Io, cases: usize) -> ProgressBar {
    let target = if io.progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(cases as u64), target);
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {wide_msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| Failure::failed(format!("cannot start a tokio runtime: {err}")))
}

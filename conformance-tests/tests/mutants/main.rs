//! The suite must reject every mutant: a store with one classic optimistic-locking bug.
//! Runs the whole suite, case by case, against the correct copy (which must pass every
//! case, or a case that fails everything would "catch" every mutant) and against each
//! mutant, and names for each mutant the cases that caught it.
//!
//! `cargo test -p optimist-conformance --test mutants -- --nocapture` prints the table;
//! `OPTIMIST_MUTANT_SHOW=<case>` adds that case's failure message for each mutant.

mod reads;
mod store;
mod verdicts;

use std::time::{Duration, Instant};

use optimist_conformance::cases::{CaseOutcome, run_all};
use optimist_conformance::{RunOptions, Unavailable, factory_fn};
use store::{Bug, MutantStore};

fn run_suite(bug: Bug) -> Vec<(&'static str, CaseOutcome)> {
    let factory = factory_fn(format!("mutant {bug:?}"), move || async move {
        Ok::<_, Unavailable>(MutantStore::new(bug))
    });
    let options = RunOptions {
        // Mutants fail on purpose: keep no regression files for them.
        regressions: None,
        timeout: Some(Duration::from_secs(120)),
    };
    run_all(&factory, &options, |_| true)
}

#[test]
fn every_mutant_is_rejected_by_the_suite() {
    let started = Instant::now();
    // The cases' own assertion messages would flood the output: silence panics while
    // the suite runs, and restore the default hook for this test's own verdict.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let results: Vec<(Bug, Vec<(&'static str, CaseOutcome)>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = Bug::ALL
            .iter()
            .map(|&bug| (bug, scope.spawn(move || run_suite(bug))))
            .collect();
        handles
            .into_iter()
            .map(|(bug, h)| (bug, h.join().unwrap_or_default()))
            .collect()
    });
    std::panic::set_hook(default_hook);

    let mut report = String::new();
    let mut problems = Vec::new();
    for (bug, outcomes) in &results {
        let caught: Vec<&str> = outcomes
            .iter()
            .filter(|(_, o)| matches!(o, CaseOutcome::Failed(_)))
            .map(|(name, _)| *name)
            .collect();
        if outcomes.is_empty() {
            problems.push(format!("{bug:?}: the suite did not run"));
        }
        // Every failure explains itself: the rule its case checks and what was expected
        // and what came instead, never a bare assertion.
        for (name, outcome) in outcomes {
            if let CaseOutcome::Failed(why) = outcome {
                problems
                    .extend(unexplained(name, why).map(|lack| {
                        format!("{bug:?}: the failure of {name} lacks {lack}:\n{why}")
                    }));
            }
        }
        if *bug == Bug::None {
            for (name, outcome) in outcomes {
                if let CaseOutcome::Failed(why) = outcome {
                    problems.push(format!("the correct store fails {name}: {why}"));
                }
            }
            report.push_str(&format!(
                "reference (no bug): {} cases, all passed: {}\n",
                outcomes.len(),
                caught.is_empty()
            ));
            continue;
        }
        if caught.is_empty() {
            problems.push(format!("{bug:?} passed every case: the suite is too weak"));
        }
        report.push_str(&format!(
            "{bug:?}: caught by {} of {} cases: {}\n",
            caught.len(),
            outcomes.len(),
            caught.join(", ")
        ));
        // OPTIMIST_MUTANT_SHOW=<case> prints that case's whole failure for each mutant,
        // to see what a backend author would see.
        let show = std::env::var("OPTIMIST_MUTANT_SHOW").unwrap_or_default();
        for (name, outcome) in outcomes {
            if let CaseOutcome::Failed(why) = outcome {
                if *name == show {
                    report.push_str(&format!("--- {bug:?} / {name}:\n{why}\n---\n"));
                }
            }
        }
    }
    report.push_str(&format!("took {:.1?}\n", started.elapsed()));
    println!("{report}");
    assert!(problems.is_empty(), "{}\n\n{report}", problems.join("\n"));
}

/// What a failure message of the case `name` lacks to explain itself, if anything.
fn unexplained(name: &str, message: &str) -> Option<&'static str> {
    if !message.starts_with(&format!("{name} failed on ")) {
        return Some("its first line, naming the case");
    }
    if !message.contains("\nrule R") {
        return Some("the rule it checks");
    }
    if message.contains("assertion") || message.contains("left ==") {
        return Some("anything but a bare assertion");
    }
    if !message.contains("\nexpected: ") || !message.contains("\ngot: ") {
        return Some("what was expected and what came instead");
    }
    None
}

/// A failing property case keeps its seed where `RunOptions::regressions` points, which
/// `suite!` sets to the calling crate's `proptest-regressions/conformance/`.
#[test]
fn a_failing_property_case_keeps_its_seed_for_the_next_run() {
    let dir = std::env::temp_dir().join(format!(
        "optimist-regressions-{}-{}",
        std::process::id(),
        optimist_conformance::rng::SplitMix64::fresh_seed()
    ));
    let factory = factory_fn("mutant PutKeepsVersion", || async {
        Ok::<_, Unavailable>(MutantStore::new(Bug::PutKeepsVersion))
    });
    let options = RunOptions {
        regressions: Some(dir.clone()),
        timeout: Some(Duration::from_secs(120)),
    };
    let results = run_all(&factory, &options, |c| {
        c.name == "model_operations_match_the_model"
    });
    assert!(
        matches!(results.as_slice(), [(_, CaseOutcome::Failed(_))]),
        "the mutant must fail the model case: {results:?}"
    );
    let file = dir.join("model_operations_match_the_model.txt");
    let saved = std::fs::read_to_string(&file).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        saved.contains("cc "),
        "expected a proptest seed line in {}, found {saved:?}",
        file.display()
    );
}

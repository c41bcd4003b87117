//! What a backend author reads when a named case fails: the case, the rule it checks in
//! the contract's words, the operations it ran with their answers, what the contract
//! expected and what the store did instead. Each test runs one case against a mutant
//! with a classic bug and reads the failure message.

#![allow(clippy::panic)] // a test fails by panicking

use std::time::Duration;

use optimist_conformance::cases::{CaseOutcome, run_all};
use optimist_conformance::{RunOptions, Unavailable, factory_fn};

use crate::store::{Bug, MutantStore};

/// The failure message of `case` on a mutant with `bug`; the test fails if it passed.
fn failure_of(bug: Bug, case: &str) -> String {
    let factory = factory_fn(format!("mutant {bug:?}"), move || async move {
        Ok::<_, Unavailable>(MutantStore::new(bug))
    });
    let options = RunOptions {
        regressions: None,
        timeout: Some(Duration::from_secs(120)),
    };
    let results = run_all(&factory, &options, |c| c.name == case);
    match results.as_slice() {
        [(_, CaseOutcome::Failed(message))] => {
            // Shown with --nocapture: what a backend author would read.
            println!("--- {case} on {bug:?}:\n{message}\n---");
            message.clone()
        }
        other => panic!("{case} must fail on the mutant {bug:?}, got {other:?}"),
    }
}

/// Fails unless `message` holds every one of `parts`, showing the whole message.
fn assert_holds(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            message.contains(part),
            "the failure message lacks {part:?}; the whole message:\n{message}"
        );
    }
    assert!(
        !message.contains("assertion") && !message.contains("left =="),
        "the failure message is a bare assertion:\n{message}"
    );
}

#[test]
fn an_update_without_version_check_fails_r6_naming_the_rule_and_the_operations() {
    let message = failure_of(
        Bug::UpdateWithoutVersionCheck,
        "r6_update_stale_version_conflicts",
    );
    assert_holds(
        &message,
        &[
            "r6_update_stale_version_conflicts failed on mutant UpdateWithoutVersionCheck\n",
            "\nrule R6 update (docs/CONTRACT.md): update writes only when the item exists at \
             version `expected`, and returns expected + 1",
            "\noperations:\n",
            "   1. insert \"order\" = {\"deliveries\":[]} -> v1\n",
            "   2. update \"order\" expecting v1 = {\"deliveries\":[\"client 2\"]} -> v2\n",
            "   3. update \"order\" expecting v1 = {\"deliveries\":[\"client 1\"]} -> v3\n",
            "\nexpected: client 1 saves: refused with a conflict, nothing written\n",
            "\ngot: Ok(v3): it was applied\n",
        ],
    );
}

#[test]
fn a_delete_without_version_check_fails_r7_naming_the_rule_and_the_operations() {
    let message = failure_of(
        Bug::DeleteWithoutVersionCheck,
        "r7_delete_stale_version_conflicts",
    );
    assert_holds(
        &message,
        &[
            "r7_delete_stale_version_conflicts failed on mutant DeleteWithoutVersionCheck\n",
            "\nrule R7 delete (docs/CONTRACT.md): delete removes the item only when it exists \
             at version `expected`",
            "\noperations:\n",
            "   1. insert \"k\" = \"one\" -> v1\n",
            "   2. update \"k\" expecting v1 = \"two\" -> v2\n",
            "   3. delete \"k\" expecting v1 -> deleted\n",
            "\nexpected: stale delete: refused with a conflict, nothing written\n",
            "\ngot: Ok(()): it was applied\n",
        ],
    );
}

#[test]
fn a_put_that_keeps_the_version_fails_r8_with_the_version_expected() {
    let message = failure_of(Bug::PutKeepsVersion, "r8_put_creates_then_overwrites");
    assert_holds(
        &message,
        &[
            "r8_put_creates_then_overwrites failed on mutant PutKeepsVersion\n",
            "\nrule R8 put (docs/CONTRACT.md): put writes without a version check",
            "\noperations:\n",
            "   1. put \"k\" = \"a\" -> v1\n",
            "   2. put \"k\" = \"b\" -> v1\n",
            "\nexpected: put on an item at v1 overwrites it and returns v2: v2\n",
            "\ngot: v1\n",
        ],
    );
}

#[test]
fn a_transaction_that_keeps_earlier_ops_fails_r10_listing_the_transaction() {
    let message = failure_of(
        Bug::TransactionAppliesOpsBeforeFailure,
        "r10_transact_failure_applies_nothing",
    );
    assert_holds(
        &message,
        &[
            "r10_transact_failure_applies_nothing failed on mutant \
             TransactionAppliesOpsBeforeFailure\n",
            "\nrule R10 transact (docs/CONTRACT.md): transact applies ops on different keys \
             all together or not at all",
            "\noperations:\n",
            "transact [",
            "-> TransactionConflict[op ",
            "\nexpected: ",
            "\ngot: ",
        ],
    );
}

#[test]
fn get_many_out_of_order_fails_r16_naming_the_entry() {
    let message = failure_of(
        Bug::GetManyOutOfOrder,
        "r16_get_many_answers_in_the_order_asked",
    );
    assert_holds(
        &message,
        &[
            "r16_get_many_answers_in_the_order_asked failed on mutant GetManyOutOfOrder\n",
            "\nrule R16 get_many (docs/CONTRACT.md): get_many returns, for each key in the \
             order asked, its item with its version or None",
            "\noperations:\n",
            "get_many [",
            "\nexpected: mixed order: entry 0 is the item of \"many-absent-0\", the key asked at that position, or None: None\n",
            "\ngot: ",
        ],
    );
}

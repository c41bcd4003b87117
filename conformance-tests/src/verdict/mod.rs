//! Verdicts that explain themselves. A failing case says which rule it checks, in the
//! words of `docs/CONTRACT.md`, the operations it ran with their answers, what the
//! contract expected and what the store did instead:
//!
//! ```text
//! r6_update_stale_version_conflicts failed on mutant UpdateWithoutVersionCheck
//! rule R6 update (docs/CONTRACT.md): update writes only when the item exists at version `expected`, [...]
//! operations:
//!    1. insert "order" = {"deliveries":[]} -> v1
//!    2. update "order" expecting v1 = {"deliveries":["client 2"]} -> v2
//!    3. update "order" expecting v1 = {"deliveries":["client 1"]} -> v3
//! expected: client 1 saves: refused with a conflict, nothing written
//! got: Ok(v3): it was applied
//! checked at conformance-tests/src/cases/single.rs:259
//! ```
//!
//! A case records its operations by running them through [`journaled`], and checks
//! with [`check`], [`check_eq`] and [`fail`], which say what was expected and what came
//! instead; the runner adds the case, the rule ([`rule_of`]) and the operations.

mod describe;
mod journal;
mod rules;

use std::fmt::{Debug, Display, Write as _};
use std::panic::Location;

pub use journal::{Journal, Journaled, journaled};
pub use rules::{RULES, Rule, rule_of};

pub(crate) use describe::{
    conflict as describe_conflict, error as describe_error, item as describe_item,
};

/// Fails the running case: what the contract expected, in its words, and what the
/// store did instead.
///
/// ```should_panic
/// optimist_conformance::verdict::fail("version 1 from an insert", "v2");
/// ```
#[track_caller]
pub fn fail(expected: impl Display, got: impl Display) -> ! {
    let at = Location::caller();
    panic!(
        "expected: {expected}\ngot: {got}\nchecked at {}:{}",
        at.file(),
        at.line()
    )
}

/// Fails unless `holds`; `got` says what happened instead (computed only on failure).
///
/// ```
/// optimist_conformance::verdict::check(1 + 1 == 2, "sums add up", || "they did not".into());
/// ```
#[track_caller]
pub fn check(holds: bool, expected: impl Display, got: impl FnOnce() -> String) {
    if !holds {
        fail(expected, got());
    }
}

/// Fails unless `got` equals `want`; `expected` says what the contract requires, and
/// the verdict adds the value it requires. Both are borrowed, as `assert_eq!` does.
///
/// ```
/// use optimist_core::Version;
/// optimist_conformance::verdict::check_eq(&Version::new(1), &Version::FIRST, "insert gives version 1");
/// ```
#[track_caller]
pub fn check_eq<T, U>(got: &T, want: &U, expected: impl Display)
where
    T: PartialEq<U> + Debug + ?Sized,
    U: Debug + ?Sized,
{
    if got != want {
        fail(format!("{expected}: {want:?}"), format!("{got:?}"));
    }
}

/// The whole failure message of case `case` on `on`: the case, the rule it checks, the
/// operations of its journal, and the panic's message (what was expected and what
/// came instead).
pub(crate) fn report(case: &str, on: &str, journal: &Journal, message: &str) -> String {
    let mut out = format!("{case} failed on {on}\n");
    if let Some(rule) = rule_of(case) {
        let _ = writeln!(
            out,
            "rule {} {} (docs/CONTRACT.md): {}",
            rule.number, rule.title, rule.summary
        );
    }
    if !journal.is_empty() {
        let _ = write!(out, "operations:\n{}", journal.listing());
    }
    if message.starts_with("expected: ") || message.contains("\nexpected: ") {
        out.push_str(message);
    } else {
        // A panic outside the suite's checks (an overflow, a backend's own panic) or a
        // case that never ended: still said as what was expected and what came.
        let _ = write!(
            out,
            "expected: the case runs to its end, every check passing\ngot: {message}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_names_the_case_the_rule_and_the_operations() {
        let journal = Journal::new();
        journal.record("insert \"k\" = 1 -> v1");
        let message = report(
            "r5_insert_absent_gives_version_1",
            "memory",
            &journal,
            "expected: x\ngot: y",
        );
        assert!(
            message.starts_with("r5_insert_absent_gives_version_1 failed on memory\nrule R5 insert (docs/CONTRACT.md): insert writes only"),
            "{message}"
        );
        assert!(
            message.contains("operations:\n   1. insert \"k\" = 1 -> v1\nexpected: x\ngot: y"),
            "{message}"
        );
    }

    #[test]
    fn a_panic_outside_the_checks_is_still_a_verdict() {
        let message = report(
            "r13_race_counter_loses_no_increment",
            "memory",
            &Journal::new(),
            "attempt to add with overflow",
        );
        assert!(
            message.ends_with(
                "\nexpected: the case runs to its end, every check passing\n\
                 got: attempt to add with overflow"
            ),
            "{message}"
        );
        assert!(!message.contains("operations:"), "{message}");
    }

    #[test]
    fn a_long_journal_keeps_its_ends_and_counts_the_middle() {
        let journal = Journal::new();
        for n in 1..=100 {
            journal.record(format!("op {n}"));
        }
        let listing = journal.listing();
        assert!(listing.contains("   1. op 1\n"), "{listing}");
        assert!(listing.contains("  40. op 40\n"), "{listing}");
        assert!(listing.contains("... 20 more operations ..."), "{listing}");
        assert!(listing.contains("  61. op 61\n"), "{listing}");
        assert!(listing.contains(" 100. op 100\n"), "{listing}");
        assert!(!listing.contains("op 50\n"), "{listing}");
    }
}

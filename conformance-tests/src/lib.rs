//! # optimist-conformance
//!
//! The public conformance suite of optimist: add it as a dev-dependency, give it a
//! factory that makes a fresh, isolated store, and [`suite!`] expands to one `#[test]`
//! per case, each named after the contract rule it checks (`r6_update_stale_version_conflicts`),
//! so the test runner shows exactly which rule a backend breaks.
//!
//! ```no_run
//! // tests/conformance.rs of a backend crate
//! use optimist_conformance::{factory_fn, Unavailable};
//!
//! fn factory() -> impl optimist_conformance::StoreFactory {
//!     factory_fn("memory", || async { Ok::<_, Unavailable>(optimist_memory::MemoryStore::new()) })
//! }
//!
//! optimist_conformance::suite!(factory());
//! # fn main() {}
//! ```
//!
//! A backend that lacks a [`Feature`] lists it with a reason, and the cases that need it
//! show as ignored with that reason, never as passed:
//!
//! ```ignore
//! optimist_conformance::suite!(factory(), unsupported: {
//!     mixed_key_shapes: "a DynamoDB table has one key schema",
//! });
//! ```
//!
//! The factory's future may answer [`Unavailable`] when its server cannot be reached:
//! the case then skips with a printed line, or fails when `CI` or
//! `OPTIMIST_REQUIRE_ALL` is set. Sizes are tunable for slow servers: see [`mod@env`].
//!
//! ## What it checks
//!
//! - Named cases per contract rule ([`cases`]), round-trip property tests of keys and values.
//! - A model-based property test: random operation sequences on a few keys, every
//!   operation including transactions and bad input, compared after every step with the
//!   sequential [`model`]; failures shrink to a short, readable list of steps, and the
//!   failing seed is kept in `proptest-regressions/conformance/` of the calling crate.
//! - Races with exact invariants, and recorded concurrent [`history`]s checked by a
//!   [`linearizability`] checker (Wing & Gong / Lowe, memoised, partitioned per group of
//!   keys), also through the fault injector [`faults::FaultyStore`] (`Indeterminate`
//!   calls count as maybe applied).
//!
//! The suite's own tests run it against mutant stores, each with one classic bug, and
//! fail if any mutant passes. [`cases::all`] lists the cases programmatically, from the
//! same list `suite!` expands.

#![deny(missing_docs)]

// A case fails by panicking, like any test assertion; so do the assertion helpers and
// the runner when a case cannot run. Everything else (model, checker, histories,
// faults) returns errors.
#[allow(clippy::panic)]
pub mod cases;
pub mod env;
mod factory;
pub mod faults;
pub mod history;
pub mod linearizability;
pub mod model;
mod property;
pub mod rng;
#[allow(clippy::panic)]
pub mod runner;
#[allow(clippy::panic)]
pub mod support;

pub use factory::{FnFactory, MakeFuture, StoreFactory, Unavailable, factory_fn};
pub use runner::{Feature, RunOptions, run_case, run_case_with};

/// Expands to one `#[test]` per conformance case, each running on a fresh store from
/// the factory expression (evaluated once per case).
///
/// Features the backend lacks are listed with a reason; their cases are
/// `#[ignore = "reason"]`. The features are `transactions`, `mixed_key_shapes` and
/// `sort_keys` (see [`Feature`]). Property cases keep the failures they find in
/// `proptest-regressions/conformance/` of the crate that expands the macro.
#[macro_export]
macro_rules! suite {
    ($factory:expr $(, unsupported: { $($feature:ident : $why:literal),* $(,)? })? $(,)?) => {
        $crate::__suite_cases!(@emit ($factory) [$($($feature : $why),*)?]);
    };
}

/// The list of cases: name and the feature each needs, one line per case. The one
/// source of both `suite!`'s tests (`@emit`) and [`cases::all`] (`@catalog`).
#[doc(hidden)]
#[macro_export]
macro_rules! __suite_cases {
    (@list $mode:tt) => {
        $crate::__suite_cases! {@each $mode
            r1_partition_and_sort_keys_are_distinct: MixedKeyShapes,
            r1_sort_parts_are_distinct: SortKeys,
            r1_unusual_key_strings_round_trip: Core,
            r1_invalid_keys_are_rejected: Core,
            r1_confusable_keys_stay_distinct: Core,
            r2_values_round_trip: Core,
            r2_round_trip_property: Core,
            r2_values_outside_limits_are_rejected: Core,
            r2_number_edges_round_trip: Core,
            r3_every_write_advances_the_version_by_one: Core,
            r4_get_absent_is_none: Core,
            r4_get_sees_every_completed_write: Core,
            r5_insert_absent_gives_version_1: Core,
            r5_insert_present_conflicts_with_current: Core,
            r6_update_at_expected_version: Core,
            r6_update_absent_is_not_found: Core,
            r6_update_stale_version_conflicts: Core,
            r6_update_unissued_version_conflicts: Core,
            r7_delete_at_expected_version: Core,
            r7_delete_absent_is_not_found: Core,
            r7_delete_stale_version_conflicts: Core,
            r8_put_creates_then_overwrites: Core,
            r9_remove_returns_removed_version: Core,
            r10_transact_applies_every_op: Transactions,
            r10_transact_failure_applies_nothing: Transactions,
            r10_transact_reports_each_failing_op: Transactions,
            r10_transact_accepts_max_ops: Transactions,
            r10_transact_invalid_input_writes_nothing: Transactions,
            r11_conflicts_carry_current_item: Core,
            r12_failed_operations_change_nothing: Core,
            r13_race_insert_has_one_winner: Core,
            r13_race_update_has_one_winner: Core,
            r13_race_counter_loses_no_increment: Core,
            r13_race_transfers_keep_the_total: Transactions,
            r15_insert_after_delete_restarts_at_1: Core,
            input_empty_key_is_rejected: Core,
            input_oversized_key_part_is_rejected: Core,
            input_oversized_value_is_rejected: Core,
            input_empty_transaction_is_rejected: Transactions,
            input_duplicate_transaction_keys_are_rejected: Transactions,
            input_too_many_transaction_ops_are_rejected: Transactions,
            model_operations_match_the_model: Core,
            model_transactions_match_the_model: Transactions,
            r13_concurrent_histories_are_linearizable: Core,
            r13_concurrent_transactions_are_linearizable: Transactions,
            r12_faulty_histories_are_linearizable: Core,
            r12_faulty_transaction_histories_are_linearizable: Transactions,
        }
    };
    (@emit ($factory:expr) $unsupported:tt) => {
        $crate::__suite_cases!(@list (emit ($factory) $unsupported));
    };
    (@catalog) => {
        $crate::__suite_cases!(@list (catalog))
    };
    (@each (emit ($factory:expr) $unsupported:tt) $($case:ident : $feature:ident),* $(,)?) => {
        $(
            $crate::__ignore_unsupported! { $feature $unsupported
                #[test]
                fn $case() {
                    $crate::run_case_with(
                        stringify!($case),
                        $crate::Feature::$feature,
                        &$factory,
                        &$crate::RunOptions::for_crate(env!("CARGO_MANIFEST_DIR")),
                        $crate::cases::$case,
                    );
                }
            }
        )*
    };
    (@each (catalog) $($case:ident : $feature:ident),* $(,)?) => {
        vec![$(
            $crate::cases::Case {
                name: stringify!($case),
                feature: $crate::Feature::$feature,
                run: |store| ::std::boxed::Box::pin($crate::cases::$case(store)),
            }
        ),*]
    };
}

/// Puts `#[ignore = "why"]` on a case whose feature is in the unsupported list.
#[doc(hidden)]
#[macro_export]
macro_rules! __ignore_unsupported {
    (Transactions [transactions : $why:literal $(, $f:ident : $w:literal)*] $($item:tt)*) => {
        #[ignore = $why] $($item)*
    };
    (MixedKeyShapes [mixed_key_shapes : $why:literal $(, $f:ident : $w:literal)*] $($item:tt)*) => {
        #[ignore = $why] $($item)*
    };
    (SortKeys [sort_keys : $why:literal $(, $f:ident : $w:literal)*] $($item:tt)*) => {
        #[ignore = $why] $($item)*
    };
    ($feature:ident [$first:ident : $why:literal $(, $f:ident : $w:literal)*] $($item:tt)*) => {
        $crate::__check_feature_name!($first);
        $crate::__ignore_unsupported! { $feature [$($f : $w),*] $($item)* }
    };
    ($feature:ident [] $($item:tt)*) => {
        $($item)*
    };
}

/// Rejects, at compile time, a feature name `suite!` does not know.
#[doc(hidden)]
#[macro_export]
macro_rules! __check_feature_name {
    (transactions) => {};
    (mixed_key_shapes) => {};
    (sort_keys) => {};
    ($other:ident) => {
        compile_error!(concat!(
            "unknown feature `",
            stringify!($other),
            "` in suite!'s unsupported list; known: transactions, mixed_key_shapes, sort_keys"
        ));
    };
}

//! # optimist-conformance
//!
//! The public conformance suite of optimist: add it as a dev-dependency, give it a
//! factory that makes a fresh, isolated store, and [`suite!`] runs every case on it,
//! one test per case, each named after the contract rule it checks
//! (`r6_update_stale_version_conflicts`, `r21_failed_save_leaves_the_entity_unchanged`),
//! so the test runner shows exactly which rule a backend breaks.
//!
//! `suite!` writes the test binary's `main` (a runtime harness on `libtest-mimic`), so
//! `tests/conformance.rs` is declared with `harness = false` in the backend's
//! `Cargo.toml`:
//!
//! ```toml
//! [dev-dependencies]
//! optimist-conformance = "0.1"
//!
//! [[test]]
//! name = "conformance"
//! harness = false
//! ```
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
//! ```
//!
//! The output, the summary line (`test result: ok. N passed; 0 failed; K ignored`) and
//! the arguments are those of `cargo test`: `cargo test --test conformance r6_` runs
//! the cases whose name contains `r6_`.
//!
//! What a backend lacks is declared once, in its
//! [`Capabilities`](optimist_core::Capabilities): a case that needs a [`Feature`] the
//! store's capabilities lack (transactions, sort keys, ...) shows as ignored with the
//! reason, never as passed. A case to skip for another reason (a slow emulator) is
//! named on the factory with [`FnFactory::ignore`] and shows as ignored with that
//! reason; `--ignored` runs it anyway. Several factories run in one binary with a name
//! each, which prefixes their tests' names:
//!
//! ```ignore
//! optimist_conformance::suite!(
//!     hash_only: factory_fn("hash-only table", || fresh_store(false)),
//!     hash_and_range: factory_fn("hash+range table", || fresh_store(true))
//!         .with_load_percent(20)
//!         .ignore("r24_hot_key_16_writers_50_increments_all_land", "the emulator is too slow"),
//! );
//! ```
//!
//! The factory's future may answer [`Unavailable`] when its server cannot be reached:
//! its cases then show as ignored with the server and the reason, or fail when `CI` or
//! `OPTIMIST_REQUIRE_ALL` is set. Sizes are tunable for slow servers: see [`mod@env`]
//! and [`FnFactory::with_load_percent`].
//!
//! ## What it checks
//!
//! - Named cases per contract rule, round-trip property tests of keys and values.
//! - The typed layer (`optimist_core::typed`, R20–R24) on the store: entities saved,
//!   loaded and deleted with their versions, version checks skipped, `update_with`
//!   retries, typed transactions.
//! - A model-based property test: random operation sequences on a few keys, every
//!   operation including transactions and bad input, compared after every step with a
//!   sequential model; failures shrink to a short, readable list of steps, and the
//!   failing seed is kept in `proptest-regressions/conformance/` of the calling crate.
//! - Reads beyond one key (R16–R18): `get_many` in the order asked, `query` in UTF-8
//!   byte order over every kind of range in both directions, `scan`, pages joined
//!   without gaps or duplicates, cursors checked (another read's, another store's),
//!   and paged reads while writers run, checked against the writers' recorded history.
//! - Races with exact invariants, and recorded concurrent histories checked by a
//!   linearizability checker (Wing & Gong / Lowe, memoised, partitioned per group of
//!   keys), also through the fault injector [`faults::FaultyStore`] (`Indeterminate`
//!   calls count as maybe applied).
//!
//! A failing case explains itself ([`verdict`]): it names the rule it checks in the
//! words of the contract, lists the operations it ran with the store's answers, and
//! says what the contract expected and what came instead.
//!
//! The suite's own tests run it against mutant stores, each with one classic bug, and
//! fail if any mutant passes. [`cases::all`] lists the cases programmatically, from the
//! same list `suite!` runs, and [`cases::run_all`] runs them.

#![deny(missing_docs)]

// A case fails by panicking, like any test assertion; so do the assertion helpers.
// Everything else (model, checker, histories, faults, the harness) returns errors.
#[allow(clippy::panic)]
pub mod cases;
pub mod env;
mod erased;
mod factory;
pub mod faults;
mod feature;
mod gate;
#[doc(hidden)]
pub mod history;
#[doc(hidden)]
pub mod linearizability;
#[doc(hidden)]
pub mod model;
pub mod network;
mod poll_budget;
mod property;
// Test helpers: they fail by panicking, like the cases.
#[allow(clippy::panic)]
pub mod reference;
#[doc(hidden)]
pub mod rng;
mod runner;
mod suite;
#[doc(hidden)]
#[allow(clippy::panic)]
pub mod support;
// Checks fail the running case by panicking, like any test assertion.
#[allow(clippy::panic)]
pub mod verdict;
pub mod workloads;

pub use factory::{
    FnFactory, MakeFuture, NoReopen, ReopenSlot, Reopener, StoreFactory, Unavailable, factory_fn,
};
pub use feature::Feature;
pub use poll_budget::PollBudget;
pub use runner::RunOptions;
pub use suite::Suite;

/// Writes the test binary's `main`: every case on stores from the factory (or from each
/// named factory), one test each, as [`Suite`] runs them. The test target must be
/// declared with `harness = false`.
///
/// `suite!(factory)` runs the cases under their own names; `suite!(a: factory_a,
/// b: factory_b)` runs them on both, as `a::case` and `b::case`. Each factory
/// expression is evaluated once. Which cases are ignored comes from the stores'
/// capabilities and the factory's [`ignore`](FnFactory::ignore) list, never from here.
/// Property cases keep the failures they find in `proptest-regressions/conformance/` of
/// the crate that expands the macro.
#[macro_export]
macro_rules! suite {
    ($($name:ident : $factory:expr),+ $(,)?) => {
        $crate::__suite_main!($(::core::stringify!($name) => $factory),+);
    };
    ($factory:expr, unsupported: $($rest:tt)*) => {
        ::core::compile_error!(
            "suite! takes no `unsupported` list any more: what a store lacks comes from its \
             capabilities(), and the cases that need it show as ignored with the reason; \
             for other reasons, use factory_fn(..).ignore(\"case\", \"why\")"
        );
    };
    ($factory:expr $(,)?) => {
        $crate::__suite_main!("" => $factory);
    };
}

/// The `main` `suite!` writes, and a test that fails when the target still runs under
/// the default harness (which would ignore that `main` and run nothing).
#[doc(hidden)]
#[macro_export]
macro_rules! __suite_main {
    ($($name:expr => $factory:expr),+) => {
        fn main() -> ::std::process::ExitCode {
            $crate::Suite::new($crate::RunOptions::for_crate(::core::env!("CARGO_MANIFEST_DIR")))
                $(.with_factory($name, $factory))+
                .run()
        }

        #[test]
        #[allow(clippy::panic)]
        fn the_conformance_test_target_needs_harness_false() {
            ::core::panic!(
                "optimist_conformance::suite! writes this test binary's main, which the default \
                 test harness ignores: declare the target in Cargo.toml as \
                 [[test]] name = \"conformance\" harness = false"
            );
        }
    };
}

/// The list of cases: name and the features each needs (`A + B`), one line per case.
/// The one source of the erased list `suite!` runs (`@catalog`, on the one store type
/// the cases are compiled for) and of [`cases::all`] (`@erasing`, for any store type).
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
            r4_completed_writes_survive_reopening_the_store: Core + Reopen,
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
            r10_transact_applies_every_op: CrossPartitionTransactions,
            r10_transact_failure_applies_nothing: CrossPartitionTransactions,
            r10_transact_reports_each_failing_op: CrossPartitionTransactions,
            r10_transact_accepts_max_ops: CrossPartitionTransactions,
            r10_transact_invalid_input_writes_nothing: Transactions,
            r10_transact_spanning_partitions_is_refused_where_declared: SinglePartitionTransactions + SortKeys,
            r11_conflicts_carry_current_item: Core,
            r12_failed_operations_change_nothing: Core,
            r13_race_insert_has_one_winner: Core,
            r13_race_update_has_one_winner: Core,
            r13_race_counter_loses_no_increment: Core,
            r13_race_transfers_keep_the_total: CrossPartitionTransactions,
            r15_insert_after_delete_restarts_at_1: NoTombstones,
            r15_tombstones_keep_the_version_counting: Tombstones,
            r15_stale_writes_cannot_match_a_tombstone: Tombstones,
            r15_purge_removes_old_tombstones_only: Tombstones,
            r16_get_many_answers_in_the_order_asked: Core,
            r16_get_many_sees_every_completed_write: Core,
            r16_get_many_accepts_the_declared_maximum: Core,
            r16_get_many_bad_input_is_rejected: Core,
            r17_query_orders_by_utf8_bytes: Query,
            r17_query_range_kinds_select_by_bytes: Query,
            r17_query_pages_join_without_gaps_or_duplicates: Query,
            r17_query_items_carry_their_versions: Query,
            r17_deleted_items_never_appear_in_query: Query,
            r17_query_bad_input_is_rejected: Query,
            r17_query_is_unsupported_without_sort_keys: NoQuery,
            r17_paged_queries_under_concurrent_writes_keep_their_guarantees: Query,
            r18_scan_pages_cover_the_store_exactly_once: Scan,
            r18_deleted_items_never_appear_in_scan: Scan,
            r18_scan_bad_input_is_rejected: Scan,
            r18_paged_scans_under_concurrent_writes_keep_their_guarantees: Scan,
            input_empty_key_is_rejected: Core,
            input_oversized_key_part_is_rejected: Core,
            input_oversized_value_is_rejected: Core,
            input_empty_transaction_is_rejected: Transactions,
            input_duplicate_transaction_keys_are_rejected: Transactions,
            input_too_many_transaction_ops_are_rejected: Transactions,
            model_operations_match_the_model: Core,
            model_transactions_match_the_model: Transactions,
            r13_concurrent_histories_are_linearizable: Core,
            r13_concurrent_transactions_are_linearizable: CrossPartitionTransactions,
            r12_faulty_histories_are_linearizable: Core,
            r12_faulty_transaction_histories_are_linearizable: CrossPartitionTransactions,
            r12_cancelled_writes_apply_whole_or_not_at_all: Core,
            r12_cancelled_transactions_apply_whole_or_not_at_all: CrossPartitionTransactions,
            r20_stored_document_holds_neither_key_nor_version: PartitionOnlyKeys,
            r20_sort_key_entity_round_trips: SortKeys,
            r20_context_works_over_a_dyn_store: PartitionOnlyKeys,
            r21_first_save_inserts_at_version_1: PartitionOnlyKeys,
            r21_successful_save_writes_the_version_back: PartitionOnlyKeys,
            r21_failed_save_leaves_the_entity_unchanged: PartitionOnlyKeys,
            r21_stale_save_conflicts_with_the_current_entity: PartitionOnlyKeys,
            r21_new_entity_over_an_existing_item_already_exists: PartitionOnlyKeys,
            r21_typed_transaction_writes_versions_back: CrossPartitionTransactions + PartitionOnlyKeys,
            r21_typed_transaction_with_one_stale_entity_changes_nothing: CrossPartitionTransactions + PartitionOnlyKeys,
            r22_load_fills_the_version: PartitionOnlyKeys,
            r22_delete_of_a_stale_entity_conflicts: PartitionOnlyKeys,
            r22_delete_of_a_never_saved_entity_is_invalid_input: PartitionOnlyKeys,
            r22_delete_key_needs_no_version: PartitionOnlyKeys,
            r23_context_without_checks_puts_and_removes: PartitionOnlyKeys,
            r23_per_operation_skip_puts_and_removes: PartitionOnlyKeys,
            r23_typed_transaction_skip_per_op_puts_and_removes: CrossPartitionTransactions + PartitionOnlyKeys,
            r24_update_with_applies_the_change: PartitionOnlyKeys,
            r24_update_with_reapplies_to_the_conflict_item_without_reading: PartitionOnlyKeys,
            r24_update_with_exhausts_with_the_last_conflict: PartitionOnlyKeys,
            r24_update_with_abort_writes_nothing: PartitionOnlyKeys,
            r24_update_with_missing_item_is_not_found: PartitionOnlyKeys,
            r24_update_or_insert_with_creates_explicitly: PartitionOnlyKeys,
            r24_hot_key_16_writers_50_increments_all_land: PartitionOnlyKeys,
            r25_write_combining_lands_every_change_exactly_once: PartitionOnlyKeys,
            r16_typed_load_many_answers_in_the_order_asked: PartitionOnlyKeys,
            r17_typed_query_pages_and_stream_agree: Query,
            r19_acquire_renew_release_and_tokens_grow: Core,
            r19_crashed_holder_is_taken_over_after_the_duration: Core,
            r19_paused_holder_writes_are_all_refused: CrossPartitionTransactions,
            r19_contenders_never_interleave_guarded_writes: CrossPartitionTransactions,
            r19_own_renewals_do_not_lose_the_lease: CrossPartitionTransactions,
            r19_bad_lease_input_writes_nothing: Core,
            r19_guarded_bad_input_writes_nothing: Transactions,
            r19_typed_guarded_writes_follow_the_lease: CrossPartitionTransactions + PartitionOnlyKeys,
        }
    };
    (@catalog) => {
        $crate::__suite_cases!(@list (catalog))
    };
    (@erasing) => {
        $crate::__suite_cases!(@list (erasing))
    };
    (@each (catalog) $($case:ident : $feature:ident $(+ $more:ident)*),* $(,)?) => {
        vec![$(
            $crate::cases::Case {
                name: stringify!($case),
                features: &[$crate::Feature::$feature $(, $crate::Feature::$more)*],
                run: |store| ::std::boxed::Box::pin($crate::cases::$case(store)),
            }
        ),*]
    };
    // The same cases for any store type: each erases its store and runs the case
    // compiled for the erased store, so no case is compiled again for the type.
    (@each (erasing) $($case:ident : $feature:ident $(+ $more:ident)*),* $(,)?) => {
        vec![$(
            $crate::cases::Case {
                name: stringify!($case),
                features: &[$crate::Feature::$feature $(, $crate::Feature::$more)*],
                run: |store| ::std::boxed::Box::pin(
                    $crate::cases::$case($crate::erased::erase_shared(store)),
                ),
            }
        ),*]
    };
}

//! The conformance cases, grouped by the rules they check: [`all`] lists them (name,
//! the [`Feature`](crate::Feature)s each needs, the function running it on a fresh
//! store), and [`run_all`] runs them; `suite!` runs each as a test of the same name.

mod cancellation;
mod catalog;
mod confusable_keys;
mod durability;
mod histories;
mod input;
mod keys;
mod leases;
mod model_based;
mod number_edges;
mod races;
mod reads_history;
mod reads_many;
mod reads_pages;
mod reads_query;
mod reads_scan;
mod single;
mod tombstones;
mod transactions;
mod typed;
mod values;

pub(crate) use catalog::erased;
pub use catalog::{Case, CaseFuture, CaseOutcome, all, run_all};
// The case functions are reached through `all()`, not by name.
pub(crate) use cancellation::*;
pub(crate) use confusable_keys::*;
pub(crate) use durability::*;
pub(crate) use histories::*;
pub(crate) use input::*;
pub(crate) use keys::*;
pub(crate) use leases::*;
pub(crate) use model_based::*;
pub(crate) use number_edges::*;
pub(crate) use races::*;
pub(crate) use reads_history::*;
pub(crate) use reads_many::*;
pub(crate) use reads_query::*;
pub(crate) use reads_scan::*;
pub(crate) use single::*;
pub(crate) use tombstones::*;
pub(crate) use transactions::*;
pub(crate) use typed::*;
pub(crate) use values::*;

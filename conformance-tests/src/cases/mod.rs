//! The conformance cases, one `pub async fn` per case, grouped by the rules they check.
//! Each takes a fresh store; `suite!` turns each into a `#[test]` of the same name.
//! A backend's own tests may call them directly through [`run_case`](crate::run_case).

mod catalog;
mod confusable_keys;
mod histories;
mod input;
mod keys;
mod model_based;
mod number_edges;
mod races;
mod single;
mod transactions;
mod values;

pub use catalog::{Case, CaseFuture, CaseOutcome, all, run_all};
pub use confusable_keys::*;
pub use histories::*;
pub use input::*;
pub use keys::*;
pub use model_based::*;
pub use number_edges::*;
pub use races::*;
pub use single::*;
pub use transactions::*;
pub use values::*;

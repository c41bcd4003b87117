//! # optimist-derive
//!
//! `#[derive(Entity)]` for optimist's typed layer. Use it through `optimist-core`
//! (feature `derive`, on by default), which re-exports it beside the trait as
//! `optimist_core::typed::Entity`:
//!
//! ```
//! use optimist_core::typed::Entity;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Entity, Serialize, Deserialize)]
//! struct Chapter {
//!     #[entity(partition_key)]
//!     book: String,
//!     #[entity(sort_key)]
//!     number: u32,
//!     text: String,
//!     #[entity(version)]
//!     version: Option<u64>,
//! }
//!
//! let chapter = Chapter { book: "dune".into(), number: 3, text: String::new(), version: None };
//! assert_eq!(chapter.key(), optimist_core::Key::with_sort("dune", "3"));
//! ```
//!
//! The generated code names `::optimist_core::...`: a proc macro cannot know the name
//! a crate was given in `Cargo.toml`, so depend on `optimist-core` without renaming it.
//! Misuse (no key field, a version field that is not `Option<u64>`, a field marked
//! twice) fails to compile with a message that points at the field.

#![deny(missing_docs)]

mod attrs;
mod case;
mod expand;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Implements `optimist_core::typed::Entity` for a struct with named fields.
///
/// Field attributes: `#[entity(partition_key)]` (exactly one), `#[entity(sort_key)]`
/// (at most one) and `#[entity(version)]` (exactly one, of type `Option<u64>`). Key
/// fields must implement `optimist_core::typed::KeyPart` (`String` and integers do).
/// See the crate documentation for an example.
#[proc_macro_derive(Entity, attributes(entity))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::entity(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

//! R22: `load(key)` fills the version; `delete(&e)` checks it; `delete_key(key)` does
//! not.

use std::sync::Arc;

use optimist_core::VersionedStore;
use optimist_core::typed::Context;

use super::entities::Book;
use super::{assert_mismatch, done, failure};
use crate::verdict::{check, check_eq};

/// R22: load fills the version; a missing key loads as `None`.
pub async fn r22_load_fills_the_version<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // R22
    let ctx = Context::new(store);
    check_eq(
        &done(ctx.load::<Book>(5u64).await, "load a missing key"),
        &None,
        "R22: load of a key that holds nothing is None",
    );
    let mut book = Book::new(5, "Dune");
    done(ctx.save(&mut book).await, "save");
    done(ctx.save(&mut book).await, "save again");
    let loaded = done(ctx.load::<Book>(5u64).await, "load");
    check_eq(
        &loaded,
        &Some(book),
        "R22: load fills the version; a missing key loads as `None`",
    );
    check_eq(
        &loaded.and_then(|b| b.version),
        &Some(2),
        "R22: load fills the version; a missing key loads as `None`",
    );
}

/// R22: `delete(&stale)` is a version mismatch and the item stays; the current copy
/// deletes it.
pub async fn r22_delete_of_a_stale_entity_conflicts<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // R22
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    done(ctx.save(&mut book).await, "save");
    let stale = book.clone();
    done(ctx.save(&mut book).await, "save again");

    let err = failure(ctx.delete(&stale).await, "delete of a stale copy");
    assert_mismatch(&err, 1, 2);
    check_eq(
        &done(ctx.load::<Book>(1u64).await, "load"),
        &Some(book.clone()),
        "R22: a refused delete of a stale entity leaves the item as it was",
    );
    done(ctx.delete(&book).await, "delete");
    check_eq(
        &done(ctx.load::<Book>(1u64).await, "load after delete"),
        &None,
        "R22: a delete of the current entity removes it: load answers None",
    );
}

/// R22: a checked delete of an entity that was never saved has no version to check:
/// `InvalidInput`, and nothing is deleted.
pub async fn r22_delete_of_a_never_saved_entity_is_invalid_input<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R22
    let ctx = Context::new(store);
    done(ctx.save(&mut Book::new(1, "Dune")).await, "save");
    let err = failure(
        ctx.delete(&Book::new(1, "Dune")).await,
        "delete of a new copy",
    );
    check(
        err.store_error().is_some_and(|e| e.is_invalid_input()),
        "R22: a checked delete of an entity that was never saved has no version to check: `InvalidInput`, and nothing is deleted",
        || format!("{err:?}"),
    );
    check(
        done(ctx.load::<Book>(1u64).await, "load").is_some(),
        "R22: the refused delete of a never-saved entity deleted nothing: the stored entity still loads",
        || "load answered None".to_string(),
    );
}

/// R22: `delete_key` deletes without a version and says which version it removed.
pub async fn r22_delete_key_needs_no_version<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // R22
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    done(ctx.save(&mut book).await, "save");
    done(ctx.save(&mut book).await, "save again");
    check_eq(
        &done(ctx.delete_key(1u64).await, "delete_key"),
        &Some(2),
        "R22: `delete_key` deletes without a version and says which version it removed",
    );
    check_eq(
        &done(ctx.load::<Book>(1u64).await, "load"),
        &None,
        "R22: `delete_key` deletes without a version and says which version it removed",
    );
    check_eq(
        &done(ctx.delete_key(1u64).await, "delete_key again"),
        &None,
        "R22: `delete_key` deletes without a version and says which version it removed",
    );
}

//! R21: `save(&mut e)` inserts a never-saved entity and updates a saved one expecting
//! its version; on success the new version is written back, on any error the entity
//! is unchanged.

use std::sync::Arc;

use optimist_core::typed::Context;
use optimist_core::{Conflict, ConflictKind, Key, Version, VersionedStore};

use super::entities::Book;
use super::{assert_mismatch, done, failure, raw};
use crate::verdict::check_eq;

/// R21: the first save of a never-saved entity inserts at version 1.
pub async fn r21_first_save_inserts_at_version_1<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // R21
    let ctx = Context::new(store);
    let mut book = Book::new(111, "Dune");
    done(ctx.save(&mut book).await, "save");
    check_eq(
        &book.version,
        &Some(1),
        "R21: the first save of a never-saved entity inserts, and writes version 1 back into the entity",
    );
    let stored = raw(ctx.store(), &Key::new("111")).await;
    check_eq(
        &stored.version,
        &Version::FIRST,
        "R21: the item the first save inserted is at version 1",
    );
}

/// R21: each successful save writes the new version back, equal to the store's.
pub async fn r21_successful_save_writes_the_version_back<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R21
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    for expected in 1..=4 {
        done(ctx.save(&mut book).await, "save");
        check_eq(
            &book.version,
            &Some(expected),
            "R21: a successful save writes the new version back into the entity",
        );
        let stored = raw(ctx.store(), &Key::new("1")).await;
        check_eq(
            &stored.version.get(),
            &expected,
            "R21: the version written back equals the stored item's",
        );
    }
}

/// R21: after a failed save the entity is exactly as before the call, whether the
/// save was an update (stale version) or an insert (the key is taken).
pub async fn r21_failed_save_leaves_the_entity_unchanged<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R21
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    done(ctx.save(&mut book).await, "save");
    let mut stale = book.clone();
    done(ctx.save(&mut book).await, "save again");

    stale.title = "Edited".into();
    let before = stale.clone();
    failure(ctx.save(&mut stale).await, "save of a stale copy");
    check_eq(
        &stale,
        &before,
        "R21: after a failed save of a stale copy (an update), the entity is exactly as before the call",
    );

    // An insert that conflicts leaves the version None too.
    let mut copy = Book::new(1, "Copy");
    failure(ctx.save(&mut copy).await, "save of a new copy");
    check_eq(
        &copy,
        &Book::new(1, "Copy"),
        "R21: after a failed save of a never-saved copy over a taken key (an insert), the entity is exactly as before, version None",
    );
}

/// R21, R11: saving a stale copy fails with a version mismatch that carries the
/// current item, decoded as the entity.
pub async fn r21_stale_save_conflicts_with_the_current_entity<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R21
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    done(ctx.save(&mut book).await, "save");
    let mut stale = book.clone();
    book.title = "Dune Messiah".into();
    done(ctx.save(&mut book).await, "save again");

    stale.title = "Children of Dune".into();
    let err = failure(ctx.save(&mut stale).await, "save of a stale copy");
    assert_mismatch(&err, 1, 2);
    check_eq(
        &done(err.current::<Book>(), "decode the current item"),
        &Some(book),
        "R21, R11: saving a stale copy fails with a version mismatch that carries the current item, decoded as the entity",
    );
}

/// R5, R21: a never-saved entity over an existing item is refused, with the item.
pub async fn r21_new_entity_over_an_existing_item_already_exists<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R21
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    done(ctx.save(&mut book).await, "save");
    let err = failure(
        ctx.save(&mut Book::new(1, "Other")).await,
        "save of a new copy",
    );
    check_eq(
        &err.conflict().map(Conflict::kind),
        &Some(ConflictKind::AlreadyExists),
        "R5, R21: a never-saved entity over an existing item is refused, with the item",
    );
    check_eq(
        &done(err.current::<Book>(), "decode the current item"),
        &Some(book),
        "R5, R21: a never-saved entity over an existing item is refused, with the item",
    );
}

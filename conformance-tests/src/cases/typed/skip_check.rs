//! R23: the version check skipped on the context (every operation) or per operation:
//! `save` becomes a put and `delete` a remove, and the version still advances.

use std::sync::Arc;

use optimist_core::VersionedStore;
use optimist_core::typed::{Context, VersionCheck};

use super::entities::Book;
use super::{done, failure};
use crate::verdict::check_eq;

/// R23: a context that skips the check overwrites stale and never-saved copies (last
/// writer wins, the version still advances) and deletes whatever is there.
pub async fn r23_context_without_checks_puts_and_removes<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R23
    let ctx = Context::new(store).with_version_check(VersionCheck::Skip);
    let mut book = Book::new(1, "Dune");
    done(ctx.save(&mut book).await, "save");
    check_eq(
        &book.version,
        &Some(1),
        "R23: a save without the check on a never-saved entity puts it at version 1",
    );
    let mut stale = book.clone();
    done(ctx.save(&mut book).await, "save again");
    check_eq(
        &book.version,
        &Some(2),
        "R23: a save without the check advances the version: 2",
    );

    stale.title = "Overwrite".into();
    done(ctx.save(&mut stale).await, "save of a stale copy");
    check_eq(
        &stale.version,
        &Some(3),
        "R23: a save without the check of a stale copy overwrites (last writer wins) and advances the version: 3",
    );
    let mut fresh = Book::new(1, "Fresh");
    done(ctx.save(&mut fresh).await, "save of a new copy");
    check_eq(
        &fresh.version,
        &Some(4),
        "R23: a save without the check of a never-saved copy over an existing item overwrites it and advances the version: 4",
    );
    check_eq(
        &done(ctx.load::<Book>(1u64).await, "load"),
        &Some(fresh),
        "R23: the last copy saved without the check is what the store holds",
    );

    done(ctx.delete(&book).await, "delete of a stale copy");
    check_eq(
        &done(ctx.load::<Book>(1u64).await, "load after delete"),
        &None,
        "R23: a delete without the check removes whatever is there",
    );
}

/// R23: skipping per operation on a context that checks; the next operation checks
/// again.
pub async fn r23_per_operation_skip_puts_and_removes<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // R23
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    done(ctx.save(&mut book).await, "save");
    let mut stale = book.clone();
    done(ctx.save(&mut book).await, "save again");

    stale.title = "Blind".into();
    failure(ctx.save(&mut stale).await, "checked save of a stale copy");
    done(
        ctx.save_with(&mut stale, VersionCheck::Skip).await,
        "unchecked save of a stale copy",
    );
    check_eq(
        &stale.version,
        &Some(3),
        "R23: skipping per operation on a context that checks; the next operation checks again",
    );

    failure(ctx.delete(&book).await, "checked delete of a stale copy");
    done(
        ctx.delete_with(&book, VersionCheck::Skip).await,
        "unchecked delete of a stale copy",
    );
    check_eq(
        &done(ctx.load::<Book>(1u64).await, "load"),
        &None,
        "R23: skipping per operation on a context that checks; the next operation checks again",
    );
}

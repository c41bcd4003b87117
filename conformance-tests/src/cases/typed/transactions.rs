//! Typed transactions: entities of several types saved, deleted and checked all or
//! nothing (R10), with R21's write-back and R23's per-operation skip.

use std::sync::Arc;

use optimist_core::typed::{Context, VersionCheck};
use optimist_core::{ConflictKind, VersionedStore};

use super::entities::{Book, Counter};
use super::{done, failure};
use crate::verdict::{check, check_eq, fail};

/// R10, R21: on success every saved entity gets its new version; deletes and checks
/// apply as well; a failing check stops the writes and leaves the entities alone.
pub async fn r21_typed_transaction_writes_versions_back<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R21
    let ctx = Context::new(store);
    let mut dune = Book::new(1, "Dune");
    let mut gone = Book::new(2, "Gone");
    let mut rules = Counter::new("rules");
    done(
        ctx.transaction()
            .save(&mut dune)
            .save(&mut gone)
            .save(&mut rules)
            .commit()
            .await,
        "first transaction",
    );
    check_eq(
        &(dune.version, gone.version, rules.version),
        &(Some(1), Some(1), Some(1)),
        "R10, R21: a committed typed transaction writes each saved entity's new version back: all at v1 after their first save",
    );

    let mut sales = Counter::new("sales");
    done(
        ctx.transaction()
            .save(&mut dune)
            .delete(&gone)
            .check(&rules)
            .save(&mut sales)
            .commit()
            .await,
        "second transaction",
    );
    check_eq(
        &(dune.version, rules.version, sales.version),
        &(Some(2), Some(1), Some(1)),
        "R10, R21: a committed typed transaction writes each saved entity's new version back; a checked entity keeps its own",
    );
    check_eq(
        &done(ctx.load::<Book>(2u64).await, "load the deleted"),
        &None,
        "R10, R22: the entity a committed typed transaction deleted loads as None",
    );

    done(ctx.save(&mut rules).await, "save");
    let mut stale_rules = rules.clone();
    stale_rules.version = Some(1);
    let err = failure(
        ctx.transaction()
            .check(&stale_rules)
            .save(&mut dune)
            .commit()
            .await,
        "transaction with a stale check",
    );
    check(
        err.is_conflict(),
        "R10: a typed transaction with a stale check is refused with a conflict",
        || format!("{err:?}"),
    );
    check_eq(
        &dune.version,
        &Some(2),
        "R21: the entity of a refused typed transaction keeps its version",
    );
    let stored = done(ctx.load::<Book>(1u64).await, "load");
    check_eq(
        &stored.and_then(|b| b.version),
        &Some(2),
        "R10: a refused typed transaction writes nothing: the stored item keeps its version",
    );
}

/// R10, R21: three entities of two types, one stale: the store is unchanged and all
/// three entities stay as they were; the failure names the stale one.
pub async fn r21_typed_transaction_with_one_stale_entity_changes_nothing<
    S: VersionedStore + 'static,
>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R21
    let ctx = Context::new(store);
    let mut dune = Book::new(1, "Dune");
    let mut messiah = Book::new(2, "Dune Messiah");
    let mut counter = Counter::new("sales");
    done(
        ctx.transaction()
            .save(&mut dune)
            .save(&mut messiah)
            .save(&mut counter)
            .commit()
            .await,
        "first transaction",
    );
    let mut stale_messiah = messiah.clone();
    done(ctx.save(&mut messiah).await, "save");

    dune.title = "Dune (2nd ed.)".into();
    stale_messiah.title = "stale".into();
    counter.count = 2;
    let before = (dune.clone(), stale_messiah.clone(), counter.clone());
    let err = failure(
        ctx.transaction()
            .save(&mut dune)
            .save(&mut stale_messiah)
            .save(&mut counter)
            .commit()
            .await,
        "transaction with one stale entity",
    );
    let Some(failures) = err.transaction_failures() else {
        fail(
            "R10: a typed transaction with one stale entity is refused with TransactionConflict",
            format!("expected a transaction conflict, got {err:?}"),
        );
    };
    check_eq(
        &failures.len(),
        &1,
        "R10: exactly one failing op, the stale entity's",
    );
    check_eq(
        &failures[0].index,
        &1,
        "R10: the failing op's index is the stale entity's (1)",
    );
    check_eq(
        &failures[0].conflict.kind(),
        &ConflictKind::VersionMismatch,
        "R10, R11: the stale entity's op fails with a version mismatch",
    );
    check_eq(
        &(dune, stale_messiah, counter),
        &before,
        "R21: after a refused typed transaction all three entities are exactly as before",
    );

    let stored = done(ctx.load::<Book>(1u64).await, "load dune");
    check_eq(
        &stored.and_then(|b| b.version),
        &Some(1),
        "R10: the refused transaction wrote nothing: the first book keeps version 1",
    );
    check_eq(
        &done(ctx.load::<Book>(2u64).await, "load messiah"),
        &Some(messiah),
        "R10: the refused transaction wrote nothing: the stale book's item is unchanged",
    );
    let stored = done(ctx.load::<Counter>("sales").await, "load the counter");
    check_eq(
        &stored.map(|c| (c.count, c.version)),
        &Some((0, Some(1))),
        "R10: the refused transaction wrote nothing: the counter is still 0 at version 1",
    );
}

/// R23 in a transaction: a per-op skip puts and removes whatever is there.
pub async fn r23_typed_transaction_skip_per_op_puts_and_removes<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R23
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    let mut other = Book::new(2, "Other");
    done(
        ctx.transaction()
            .save(&mut book)
            .save(&mut other)
            .commit()
            .await,
        "first transaction",
    );
    done(ctx.save(&mut book).await, "save the book");
    done(ctx.save(&mut other).await, "save the other");

    let mut blind = Book::new(1, "Blind");
    let stale_other = Book {
        version: Some(1),
        ..other.clone()
    };
    done(
        ctx.transaction()
            .save_with(&mut blind, VersionCheck::Skip)
            .delete_with(&stale_other, VersionCheck::Skip)
            .commit()
            .await,
        "transaction without checks",
    );
    check_eq(
        &blind.version,
        &Some(3),
        "R23: a save skipping the check in a typed transaction puts the stale copy and advances the version: 3",
    );
    check_eq(
        &done(ctx.load::<Book>(1u64).await, "load"),
        &Some(blind),
        "R23: the copy saved without the check is what the store holds",
    );
    check_eq(
        &done(ctx.load::<Book>(2u64).await, "load the removed"),
        &None,
        "R23: a delete skipping the check in a typed transaction removes whatever is there",
    );
}

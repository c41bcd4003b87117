//! The typed-layer cases (contract R20–R24), generic over the store so every backend runs
//! the same ones. `typed_cases!(factory)` turns them into one test per case.

use std::convert::Infallible;
use std::sync::Arc;

use optimist_core::retry::RetryPolicy;
use optimist_core::typed::{Context, Entity, Error, VersionCheck};
use optimist_core::{Conflict, ConflictKind, Key, Version, VersionedStore};
use serde_json::json;

use super::counting::{Counting, Interfere};
use super::entities::{Book, Chapter, Counter};

/// One `#[tokio::test]` per case, each with a fresh store from `$factory().await`
/// (an `Option`: `None` when the server is absent and the case may skip).
#[macro_export]
macro_rules! typed_cases {
    ($factory:path) => {
        $crate::typed_cases!($factory; sort_key_entity_round_trips);
        $crate::typed_cases!(partition_only: $factory);
    };
    // Every case but the one that needs sort keys.
    (partition_only: $factory:path) => {
        $crate::typed_cases!($factory; hot_key_16_writers_50_increments);
        $crate::typed_cases!(partition_only_no_race: $factory);
    };
    // ... and but the 16-writer race.
    (partition_only_no_race: $factory:path) => {
        $crate::typed_cases!($factory;
            first_save_gives_version_1,
            stale_save_is_a_version_mismatch_carrying_the_current_entity,
            successful_save_writes_the_version_back,
            failed_save_leaves_the_entity_unchanged,
            new_copy_over_an_existing_item_is_already_exists,
            load_fills_the_version,
            stored_document_holds_neither_key_nor_version,
            delete_of_a_stale_copy_fails,
            delete_of_a_never_saved_entity_is_invalid_input,
            delete_key_works_without_a_version,
            skip_check_on_the_context,
            skip_check_per_operation,
            context_over_arc_dyn_store,
            update_with_applies_the_change,
            update_with_does_not_read_after_a_conflict,
            update_with_exhausts_with_the_last_conflict,
            update_with_abort_writes_nothing,
            update_with_missing_item_is_not_found,
            update_or_insert_with_creates_explicitly,
            transaction_with_one_stale_entity_changes_nothing,
            transaction_writes_versions_back,
            transaction_skip_check_per_op,
        );
    };
    ($factory:path; $($case:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $case() {
            // A factory returns None (after printing why) when its server is absent.
            if let Some(store) = $factory().await {
                $crate::common::cases::$case(store).await;
            }
        }
    )*};
}

fn assert_mismatch(err: &Error, expected: u64, current: u64) {
    match err.conflict() {
        Some(Conflict::VersionMismatch {
            expected: e,
            current: c,
        }) => {
            assert_eq!(e.get(), expected, "expected version in {err}");
            assert_eq!(c.version.get(), current, "current version in {err}");
        }
        other => panic!("wanted a version mismatch, got {other:?} from {err:?}"),
    }
}

// contract R21: the first save of a never-saved entity inserts at version 1.
pub async fn first_save_gives_version_1<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    let mut book = Book::new(111, "Dune");
    ctx.save(&mut book).await.unwrap();
    assert_eq!(book.version, Some(1));
    let stored = ctx.store().get(&Key::new("111")).await.unwrap().unwrap();
    assert_eq!(stored.version, Version::FIRST);
}

// contract R21, R11: saving a stale copy fails with a version mismatch that carries the
// current item, decoded as the entity.
pub async fn stale_save_is_a_version_mismatch_carrying_the_current_entity<S: VersionedStore>(
    store: S,
) {
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    ctx.save(&mut book).await.unwrap();
    let mut stale = book.clone();
    book.title = "Dune Messiah".into();
    ctx.save(&mut book).await.unwrap();

    stale.title = "Children of Dune".into();
    let err = ctx.save(&mut stale).await.unwrap_err();
    assert_mismatch(&err, 1, 2);
    assert_eq!(err.current::<Book>().unwrap(), Some(book));
}

// contract R21: a successful save writes the new version back, equal to the store's.
pub async fn successful_save_writes_the_version_back<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    for expected in 1..=4 {
        ctx.save(&mut book).await.unwrap();
        assert_eq!(book.version, Some(expected));
        let stored = ctx.store().get(&book.key()).await.unwrap().unwrap();
        assert_eq!(stored.version.get(), expected);
    }
}

// contract R21: after a failed save the entity is exactly as before the call.
pub async fn failed_save_leaves_the_entity_unchanged<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    ctx.save(&mut book).await.unwrap();
    let mut stale = book.clone();
    ctx.save(&mut book).await.unwrap();

    stale.title = "Edited".into();
    let before = stale.clone();
    assert!(ctx.save(&mut stale).await.is_err());
    assert_eq!(stale, before);

    // An insert that conflicts leaves the version None too.
    let mut copy = Book::new(1, "Copy");
    assert!(ctx.save(&mut copy).await.is_err());
    assert_eq!(copy, Book::new(1, "Copy"));
}

// contract R5, R21: a never-saved copy of an existing item is refused, with the item.
pub async fn new_copy_over_an_existing_item_is_already_exists<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    ctx.save(&mut book).await.unwrap();
    let err = ctx.save(&mut Book::new(1, "Other")).await.unwrap_err();
    assert_eq!(
        err.conflict().map(Conflict::kind),
        Some(ConflictKind::AlreadyExists)
    );
    assert_eq!(err.current::<Book>().unwrap(), Some(book));
}

// contract R22: load fills the version; a missing key loads as None.
pub async fn load_fills_the_version<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    assert_eq!(ctx.load::<Book>(5u64).await.unwrap(), None);
    let mut book = Book::new(5, "Dune");
    ctx.save(&mut book).await.unwrap();
    ctx.save(&mut book).await.unwrap();
    let loaded: Book = ctx.load(5u64).await.unwrap().unwrap();
    assert_eq!(loaded, book);
    assert_eq!(loaded.version, Some(2));
}

// The key and the version are not duplicated inside the stored document.
pub async fn stored_document_holds_neither_key_nor_version<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    let mut book = Book::new(9, "Dune");
    ctx.save(&mut book).await.unwrap();
    let stored = ctx.store().get(&Key::new("9")).await.unwrap().unwrap();
    assert_eq!(
        stored.value,
        json!({"title": "Dune", "authors": ["Frank Herbert"]})
    );
}

// Sort keys, serde renames and a skipped version round-trip through the store.
pub async fn sort_key_entity_round_trips<S: VersionedStore>(store: S) {
    assert!(
        store.capabilities().key_shape.accepts(true),
        "a store with sort keys"
    );
    let ctx = Context::new(store);
    let mut chapter = Chapter {
        book_id: "dune".into(),
        chapter_no: 3,
        page_count: 12,
        version: None,
    };
    ctx.save(&mut chapter).await.unwrap();
    let key = Key::with_sort("dune", "3");
    let stored = ctx.store().get(&key).await.unwrap().unwrap();
    assert_eq!(stored.value, json!({"pageCount": 12}));
    let loaded: Chapter = ctx.load(("dune", 3u32)).await.unwrap().unwrap();
    assert_eq!(
        loaded,
        Chapter {
            version: Some(1),
            ..chapter
        }
    );
}

// contract R22: delete(&stale) fails and the item stays.
pub async fn delete_of_a_stale_copy_fails<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    ctx.save(&mut book).await.unwrap();
    let stale = book.clone();
    ctx.save(&mut book).await.unwrap();

    let err = ctx.delete(&stale).await.unwrap_err();
    assert_mismatch(&err, 1, 2);
    assert_eq!(ctx.load::<Book>(1u64).await.unwrap(), Some(book.clone()));
    ctx.delete(&book).await.unwrap();
    assert_eq!(ctx.load::<Book>(1u64).await.unwrap(), None);
}

// A checked delete of an entity that was never saved has no version to check.
pub async fn delete_of_a_never_saved_entity_is_invalid_input<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    ctx.save(&mut Book::new(1, "Dune")).await.unwrap();
    let err = ctx.delete(&Book::new(1, "Dune")).await.unwrap_err();
    assert!(
        err.store_error().is_some_and(|e| e.is_invalid_input()),
        "{err:?}"
    );
    assert!(ctx.load::<Book>(1u64).await.unwrap().is_some());
}

// contract R22: delete_key deletes without a version and says what it removed.
pub async fn delete_key_works_without_a_version<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    ctx.save(&mut book).await.unwrap();
    ctx.save(&mut book).await.unwrap();
    assert_eq!(ctx.delete_key(1u64).await.unwrap(), Some(2));
    assert_eq!(ctx.load::<Book>(1u64).await.unwrap(), None);
    assert_eq!(ctx.delete_key(1u64).await.unwrap(), None);
}

// contract R23: a context that skips the check puts and removes; the version advances.
pub async fn skip_check_on_the_context<S: VersionedStore>(store: S) {
    let ctx = Context::new(store).with_version_check(VersionCheck::Skip);
    let mut book = Book::new(1, "Dune");
    ctx.save(&mut book).await.unwrap();
    assert_eq!(book.version, Some(1));
    let mut stale = book.clone();
    ctx.save(&mut book).await.unwrap();
    assert_eq!(book.version, Some(2));

    // A stale copy overwrites: last writer wins, and the version still advances.
    stale.title = "Overwrite".into();
    ctx.save(&mut stale).await.unwrap();
    assert_eq!(stale.version, Some(3));
    // A never-saved copy overwrites too.
    let mut fresh = Book::new(1, "Fresh");
    ctx.save(&mut fresh).await.unwrap();
    assert_eq!(fresh.version, Some(4));
    assert_eq!(ctx.load::<Book>(1u64).await.unwrap(), Some(fresh));

    // delete(&stale) removes whatever is there.
    ctx.delete(&book).await.unwrap();
    assert_eq!(ctx.load::<Book>(1u64).await.unwrap(), None);
}

// contract R23: per operation, on a context that checks.
pub async fn skip_check_per_operation<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    ctx.save(&mut book).await.unwrap();
    let mut stale = book.clone();
    ctx.save(&mut book).await.unwrap();

    stale.title = "Blind".into();
    assert!(ctx.save(&mut stale).await.is_err());
    ctx.save_with(&mut stale, VersionCheck::Skip).await.unwrap();
    assert_eq!(stale.version, Some(3));

    // The context still checks the next operation.
    assert!(ctx.delete(&book).await.is_err());
    ctx.delete_with(&book, VersionCheck::Skip).await.unwrap();
    assert_eq!(ctx.load::<Book>(1u64).await.unwrap(), None);
}

// A context works over `Arc<dyn VersionedStore>`.
pub async fn context_over_arc_dyn_store<S: VersionedStore + 'static>(store: S) {
    let store: Arc<dyn VersionedStore> = Arc::new(store);
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    ctx.save(&mut book).await.unwrap();
    assert_eq!(ctx.load::<Book>(1u64).await.unwrap(), Some(book));
}

fn increment(counter: &mut Counter) -> Result<(), Infallible> {
    counter.count += 1;
    Ok(())
}

// contract R24: load, change, save; the saved entity comes back with its version.
pub async fn update_with_applies_the_change<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    ctx.save(&mut Counter::new("c")).await.unwrap();
    let policy = RetryPolicy::default();
    let saved: Counter = ctx.update_with("c", &policy, increment).await.unwrap();
    assert_eq!((saved.count, saved.version), (1, Some(2)));
    assert_eq!(ctx.load::<Counter>("c").await.unwrap(), Some(saved));
}

// contract R24, R11: after a conflict the change is re-applied to the conflict's item:
// one read in all, whatever the number of conflicts.
pub async fn update_with_does_not_read_after_a_conflict<S: VersionedStore>(store: S) {
    let ctx = Context::new(Counting::new(store));
    ctx.save(&mut Counter::new("c")).await.unwrap();
    // The other writer adds 100 before each of the next two updates.
    ctx.store().interfere(Interfere::Next(2));
    let saved: Counter = ctx
        .update_with("c", &RetryPolicy::default(), increment)
        .await
        .unwrap();
    let calls = &ctx.store().calls;
    assert_eq!(calls.gets(), 1, "one read, none after the conflicts");
    assert_eq!(calls.updates(), 3, "two conflicts, then success");
    // The change was applied to the other writer's item, not lost nor doubled.
    assert_eq!((saved.count, saved.version), (201, Some(4)));
}

// contract R24: bounded attempts, RetryExhausted with the last conflict.
pub async fn update_with_exhausts_with_the_last_conflict<S: VersionedStore>(store: S) {
    let ctx = Context::new(Counting::new(store));
    ctx.save(&mut Counter::new("c")).await.unwrap();
    ctx.store().interfere(Interfere::Next(usize::MAX));
    let policy = RetryPolicy::default().with_max_attempts(3);
    let err = ctx
        .update_with::<Counter, _, _>("c", &policy, increment)
        .await
        .unwrap_err();
    match &err {
        Error::RetryExhausted { attempts, last } => {
            assert_eq!(*attempts, 3);
            assert_mismatch(last, 3, 4);
        }
        other => panic!("wanted RetryExhausted, got {other:?}"),
    }
    assert_eq!(ctx.store().calls.updates(), 3);
    assert_eq!(ctx.store().calls.gets(), 1);
    // Only the other writer's changes landed.
    let stored: Counter = ctx.load("c").await.unwrap().unwrap();
    assert_eq!(stored.count, 300);
}

#[derive(Debug, thiserror::Error)]
#[error("limit reached")]
struct LimitReached;

// contract R24: the closure can abort with its own error; nothing is written.
pub async fn update_with_abort_writes_nothing<S: VersionedStore>(store: S) {
    let ctx = Context::new(Counting::new(store));
    ctx.save(&mut Counter::new("c")).await.unwrap();
    let err = ctx
        .update_with("c", &RetryPolicy::default(), |_: &mut Counter| {
            Err(LimitReached)
        })
        .await
        .unwrap_err();
    assert!(err.aborted::<LimitReached>().is_some(), "{err:?}");
    assert_eq!(ctx.store().calls.updates(), 0);
    assert_eq!(
        ctx.load::<Counter>("c").await.unwrap().unwrap().version,
        Some(1)
    );
}

// contract R24: a missing item is NotFound, never created silently.
pub async fn update_with_missing_item_is_not_found<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    let err = ctx
        .update_with::<Counter, _, _>("nope", &RetryPolicy::default(), increment)
        .await
        .unwrap_err();
    assert_eq!(
        err.conflict().map(Conflict::kind),
        Some(ConflictKind::NotFound)
    );
    assert_eq!(ctx.load::<Counter>("nope").await.unwrap(), None);
}

// contract R24: creating a missing item is an explicit option.
pub async fn update_or_insert_with_creates_explicitly<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    let policy = RetryPolicy::default();
    let created = ctx
        .update_or_insert_with("n", &policy, || Counter::new("n"), increment)
        .await
        .unwrap();
    assert_eq!((created.count, created.version), (1, Some(1)));
    let again = ctx
        .update_or_insert_with("n", &policy, || Counter::new("n"), increment)
        .await
        .unwrap();
    assert_eq!((again.count, again.version), (2, Some(2)));
    // A default with another key is refused, not written under the wrong key.
    let err = ctx
        .update_or_insert_with("m", &policy, || Counter::new("x"), increment)
        .await
        .unwrap_err();
    assert!(
        err.store_error().is_some_and(|e| e.is_invalid_input()),
        "{err:?}"
    );
}

// contract R24: 16 writers × 50 increments on one key with the default policy: every
// increment lands once and no writer runs out of attempts.
pub async fn hot_key_16_writers_50_increments<S: VersionedStore + 'static>(store: S) {
    const WRITERS: u64 = 16;
    const INCREMENTS: u64 = 50;
    let ctx = Arc::new(Context::new(store));
    ctx.save(&mut Counter::new("hot")).await.unwrap();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|_| {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let policy = RetryPolicy::default();
                for _ in 0..INCREMENTS {
                    ctx.update_with::<Counter, _, _>("hot", &policy, increment)
                        .await?;
                }
                Ok::<(), Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let counter: Counter = ctx.load("hot").await.unwrap().unwrap();
    assert_eq!(counter.count, WRITERS * INCREMENTS);
    assert_eq!(counter.version, Some(WRITERS * INCREMENTS + 1));
}

// contract R10: three entities of two types, one stale: nothing changes in the store
// and all three entities stay as they were.
pub async fn transaction_with_one_stale_entity_changes_nothing<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    let mut dune = Book::new(1, "Dune");
    let mut messiah = Book::new(2, "Dune Messiah");
    let mut counter = Counter::new("sales");
    ctx.transaction()
        .save(&mut dune)
        .save(&mut messiah)
        .save(&mut counter)
        .commit()
        .await
        .unwrap();
    let mut stale_messiah = messiah.clone();
    ctx.save(&mut messiah).await.unwrap();

    dune.title = "Dune (2nd ed.)".into();
    stale_messiah.title = "stale".into();
    counter.count = 2;
    let before = (dune.clone(), stale_messiah.clone(), counter.clone());
    let err = ctx
        .transaction()
        .save(&mut dune)
        .save(&mut stale_messiah)
        .save(&mut counter)
        .commit()
        .await
        .unwrap_err();
    let failures = err.transaction_failures().expect("a transaction conflict");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].index, 1);
    assert_eq!(failures[0].conflict.kind(), ConflictKind::VersionMismatch);
    assert_eq!(
        (dune.clone(), stale_messiah.clone(), counter.clone()),
        before
    );

    assert_eq!(
        ctx.load::<Book>(1u64).await.unwrap().unwrap().version,
        Some(1)
    );
    assert_eq!(ctx.load::<Book>(2u64).await.unwrap(), Some(messiah));
    let stored: Counter = ctx.load("sales").await.unwrap().unwrap();
    assert_eq!((stored.count, stored.version), (0, Some(1)));
}

// contract R10: on success every saved entity gets its new version; deletes and checks
// apply as well.
pub async fn transaction_writes_versions_back<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    let mut dune = Book::new(1, "Dune");
    let mut gone = Book::new(2, "Gone");
    let mut rules = Counter::new("rules");
    ctx.transaction()
        .save(&mut dune)
        .save(&mut gone)
        .save(&mut rules)
        .commit()
        .await
        .unwrap();
    assert_eq!(
        (dune.version, gone.version, rules.version),
        (Some(1), Some(1), Some(1))
    );

    let mut sales = Counter::new("sales");
    ctx.transaction()
        .save(&mut dune)
        .delete(&gone)
        .check(&rules)
        .save(&mut sales)
        .commit()
        .await
        .unwrap();
    assert_eq!(
        (dune.version, rules.version, sales.version),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(ctx.load::<Book>(2u64).await.unwrap(), None);

    // A failing check stops the writes.
    ctx.save(&mut rules).await.unwrap();
    let mut stale_rules = rules.clone();
    stale_rules.version = Some(1);
    let err = ctx
        .transaction()
        .check(&stale_rules)
        .save(&mut dune)
        .commit()
        .await
        .unwrap_err();
    assert!(err.is_conflict());
    assert_eq!(dune.version, Some(2));
}

// contract R23 inside a transaction: per-op skip puts and removes.
pub async fn transaction_skip_check_per_op<S: VersionedStore>(store: S) {
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    let mut other = Book::new(2, "Other");
    ctx.transaction()
        .save(&mut book)
        .save(&mut other)
        .commit()
        .await
        .unwrap();
    ctx.save(&mut book).await.unwrap();
    ctx.save(&mut other).await.unwrap();

    let mut blind = Book::new(1, "Blind");
    let stale_other = Book {
        version: Some(1),
        ..other.clone()
    };
    ctx.transaction()
        .save_with(&mut blind, VersionCheck::Skip)
        .delete_with(&stale_other, VersionCheck::Skip)
        .commit()
        .await
        .unwrap();
    assert_eq!(blind.version, Some(3));
    assert_eq!(ctx.load::<Book>(1u64).await.unwrap(), Some(blind));
    assert_eq!(ctx.load::<Book>(2u64).await.unwrap(), None);
}

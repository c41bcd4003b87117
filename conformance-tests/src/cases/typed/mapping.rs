//! R20: an entity is a plain serde struct; its key fields make the item's key and its
//! version field the item's version, neither copied into the stored document.

use std::sync::Arc;

use optimist_core::typed::Context;
use optimist_core::{Key, VersionedStore};
use serde_json::json;

use super::entities::{Book, Chapter};
use super::{done, raw};
use crate::support::assert_same_value;
use crate::verdict::check_eq;

/// R20: the stored document holds the other fields only; the key is the item's key
/// and the version the item's version.
pub async fn r20_stored_document_holds_neither_key_nor_version<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R20
    let ctx = Context::new(store);
    let mut book = Book::new(9, "Dune");
    done(ctx.save(&mut book).await, "save");
    done(ctx.save(&mut book).await, "save again");
    let stored = raw(ctx.store(), &Key::new("9")).await;
    assert_same_value(
        ctx.store().capabilities(),
        &stored.value,
        &json!({"title": "Dune", "authors": ["Frank Herbert"]}),
        "the stored document",
    );
    check_eq(
        &stored.version.get(),
        &2,
        "the item's version is the entity's",
    );
}

/// R20: a partition and a sort key, serde renames and a version skipped when `None`
/// round-trip through the store.
pub async fn r20_sort_key_entity_round_trips<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // R20
    let ctx = Context::new(store);
    let mut chapter = Chapter {
        book_id: "dune".into(),
        chapter_no: 3,
        page_count: 12,
        version: None,
    };
    done(ctx.save(&mut chapter).await, "save");
    let stored = raw(ctx.store(), &Key::with_sort("dune", "3")).await;
    assert_same_value(
        ctx.store().capabilities(),
        &stored.value,
        &json!({"pageCount": 12}),
        "the stored document",
    );
    let loaded: Option<Chapter> = done(ctx.load(("dune", 3u32)).await, "load");
    check_eq(
        &loaded,
        &Some(Chapter {
            version: Some(1),
            ..chapter
        }),
        "R20: a partition and a sort key, serde renames and a version skipped when `None` round-trip through the store",
    );
}

/// R20: a context works over `Arc<dyn VersionedStore>`, as an application holding
/// its store behind a trait object does.
pub async fn r20_context_works_over_a_dyn_store<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // R20
    let store: Arc<dyn VersionedStore> = store;
    let ctx = Context::new(store);
    let mut book = Book::new(1, "Dune");
    done(ctx.save(&mut book).await, "save");
    check_eq(
        &done(ctx.load::<Book>(1u64).await, "load"),
        &Some(book),
        "R20: a context works over `Arc<dyn VersionedStore>`, as an application holding its store behind a trait object does",
    );
}

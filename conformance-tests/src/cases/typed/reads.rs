//! R16, R17 through the typed layer: `load_many` and `query::<T>`, as pages and as a
//! stream, on the store under test.

use std::sync::Arc;

use futures::TryStreamExt;
use optimist_core::typed::Context;
use optimist_core::{QueryOptions, SortRange, VersionedStore};

use super::done;
use super::entities::{Book, Chapter};
use crate::verdict::{check, check_eq};

/// R16: `load_many` answers the entities in the order asked, `None` for a key without
/// one, each with its version.
pub async fn r16_typed_load_many_answers_in_the_order_asked<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // R16
    let ctx = Context::new(store);
    for id in 1..=3 {
        done(
            ctx.save(&mut Book::new(id, &format!("book {id}"))).await,
            "save",
        );
    }
    let mut second = done(ctx.load::<Book>(2).await, "load").unwrap_or_else(|| Book::new(2, ""));
    second.title = "second edition".into();
    done(ctx.save(&mut second).await, "save again");

    let books = done(ctx.load_many::<Book, _>([3u64, 4, 1, 2]).await, "load_many");
    let seen: Vec<Option<(u64, &str, Option<u64>)>> = books
        .iter()
        .map(|b| b.as_ref().map(|b| (b.id, b.title.as_str(), b.version)))
        .collect();
    check_eq(
        &seen,
        &vec![
            Some((3, "book 3", Some(1))),
            None,
            Some((1, "book 1", Some(1))),
            Some((2, "second edition", Some(2))),
        ],
        "R16: `load_many` answers the entities in the order asked, `None` for a key without one, each with its version",
    );
}

/// R17: a typed query reads one partition's entities in the byte order of their sort
/// key's text (chapter "10" before "2"), page by page or as a stream fetching the
/// pages, in both directions, with their versions.
pub async fn r17_typed_query_pages_and_stream_agree<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // R17
    let ctx = Context::new(store);
    for (book, chapters) in [("dune", 12u32), ("emma", 3)] {
        for chapter_no in 1..=chapters {
            let mut chapter = Chapter {
                book_id: book.into(),
                chapter_no,
                page_count: chapter_no * 10,
                version: None,
            };
            done(ctx.save(&mut chapter).await, "save");
        }
    }
    let mut expected: Vec<u32> = (1..=12).collect();
    expected.sort_by_key(u32::to_string);

    let mut paged = Vec::new();
    let mut cursor = None;
    for _ in 0..100 {
        let options = QueryOptions::new().limit(5).cursor(cursor);
        let page = done(
            ctx.query::<Chapter>("dune", SortRange::All, options).await,
            "query",
        );
        check(
            page.entities.len() <= 5,
            "R17: a typed query reads one partition's entities in the byte order of their sort key's text (chapter \"10\" before \"2\"), page by page or as a stream fetching the pages, in both directions, with their versions",
            || "a page holds up to its limit".to_string(),
        );
        paged.extend(page.entities);
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    let numbers: Vec<u32> = paged.iter().map(|c| c.chapter_no).collect();
    check_eq(&numbers, &expected, "by the bytes of the sort key's text");
    check(
        paged
            .iter()
            .all(|c| c.version == Some(1) && c.book_id == "dune"),
        "R17: every entity a typed query answers is of the partition asked, with its version (v1)",
        || format!("{paged:?}"),
    );
    check(
        paged.iter().all(|c| c.page_count == c.chapter_no * 10),
        "R17: every entity a typed query answers holds the fields it was saved with",
        || format!("{paged:?}"),
    );

    let streamed: Vec<Chapter> = done(
        ctx.query_stream::<Chapter>("dune", SortRange::All, QueryOptions::new().limit(5))
            .try_collect()
            .await,
        "query_stream",
    );
    check_eq(&streamed, &paged, "the stream gives what the pages give");

    let newest_first: Vec<u32> = done(
        ctx.query_stream::<Chapter>(
            "dune",
            SortRange::prefix("1"),
            QueryOptions::new().limit(2).descending(),
        )
        .try_collect::<Vec<Chapter>>()
        .await,
        "query_stream descending",
    )
    .iter()
    .map(|c| c.chapter_no)
    .collect();
    check_eq(
        &newest_first,
        &vec![12, 11, 10, 1],
        "R17: a typed query reads one partition's entities in the byte order of their sort key's text (chapter \"10\" before \"2\"), page by page or as a stream fetching the pages, in both directions, with their versions",
    );
}

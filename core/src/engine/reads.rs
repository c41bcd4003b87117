//! Reads beyond one key (contract R16–R18): input checked once here, the backend's
//! page turned into the public one, its position wrapped in a cursor that only the same
//! read on the same store accepts. Reads apply nothing, so a transient failure is
//! always sent again, within the store's retry policy.

use serde_json::Value;

use super::settle;
use super::single::public;
use super::span;
use crate::reads::{CursorKind, Position};
use crate::retry::retry_transient;
use crate::{
    Direction, Error, Key, Operation, Page, QueryOptions, RangePage, RangeRequest, RangeScope,
    Result, ScanOptions, SortRange, Storage, StorageError, Versioned, validate,
};

/// `get_many`: one `read_many`, items in the order asked.
pub(super) async fn get_many<S: Storage + ?Sized>(
    store: &S,
    keys: &[Key],
) -> Result<Vec<Option<Versioned<Value>>>> {
    let operation = Operation::GetMany;
    let span = span::open(store.backend_name(), operation, None, None);
    span::run(span, async {
        match validate::get_many(keys, store.capabilities()) {
            Err(invalid) => (Err(invalid), 0),
            Ok(()) => {
                let done = retry_transient(store.retry_policy(), || async {
                    let records = store.read_many(keys).await.map_err(settle::not_applied)?;
                    if records.len() != keys.len() {
                        return Err(StorageError::corrupt(format!(
                            "the backend answered {} records for {} keys",
                            records.len(),
                            keys.len()
                        )));
                    }
                    Ok(records)
                })
                .await;
                let result = done
                    .result
                    .map(|records| {
                        records
                            .into_iter()
                            .map(|record| record.and_then(|record| record.into_item()))
                            .collect()
                    })
                    .map_err(|e| public(store, operation, None, e, done.exhausted));
                (result, done.attempts)
            }
        }
    })
    .await
}

/// `query`: one page of a partition.
pub(super) async fn query<S: Storage + ?Sized>(
    store: &S,
    partition: &str,
    range: &SortRange,
    options: &QueryOptions,
) -> Result<Page> {
    let operation = Operation::Query;
    let span = span::open(store.backend_name(), operation, None, None);
    span::run(span, async {
        let checked = validate::query(partition, range, options.page_limit(), store.capabilities());
        let scope = RangeScope::Partition {
            partition,
            range,
            direction: options.direction(),
        };
        let fingerprint = fingerprint(store, CursorKind::Query, &scope);
        match checked.and_then(|()| {
            after(
                operation,
                CursorKind::Query,
                fingerprint,
                options.page_cursor(),
            )
        }) {
            Err(invalid) => (Err(invalid), 0),
            Ok(after) => {
                // A cursor passed the checksum and the fingerprint; its key must still lie
                // where this query reads, or it was made by hand.
                let request = RangeRequest {
                    scope,
                    after: after.as_ref(),
                    limit: options.page_limit(),
                };
                if after.as_ref().is_some_and(|key| {
                    key.partition() != partition || !key.sort().is_some_and(|s| range.contains(s))
                }) {
                    (Err(foreign(operation)), 0)
                } else {
                    page(store, operation, CursorKind::Query, fingerprint, &request).await
                }
            }
        }
    })
    .await
}

/// `scan`: one page of the whole store.
pub(super) async fn scan<S: Storage + ?Sized>(store: &S, options: &ScanOptions) -> Result<Page> {
    let operation = Operation::Scan;
    let span = span::open(store.backend_name(), operation, None, None);
    span::run(span, async {
        let fingerprint = fingerprint(store, CursorKind::Scan, &RangeScope::Store);
        match validate::scan(options.page_limit(), store.capabilities()).and_then(|()| {
            after(
                operation,
                CursorKind::Scan,
                fingerprint,
                options.page_cursor(),
            )
        }) {
            Err(invalid) => (Err(invalid), 0),
            Ok(after) => {
                let request = RangeRequest {
                    scope: RangeScope::Store,
                    after: after.as_ref(),
                    limit: options.page_limit(),
                };
                page(store, operation, CursorKind::Scan, fingerprint, &request).await
            }
        }
    })
    .await
}

/// Reads one page and turns it into the public one: tombstones dropped, the position
/// wrapped in a cursor.
async fn page<S: Storage + ?Sized>(
    store: &S,
    operation: Operation,
    kind: CursorKind,
    fingerprint: u64,
    request: &RangeRequest<'_>,
) -> (Result<Page>, u32) {
    let done = retry_transient(store.retry_policy(), || async {
        let page = store
            .read_range(request)
            .await
            .map_err(settle::not_applied)?;
        if page.records.len() > request.limit {
            return Err(StorageError::corrupt(format!(
                "the backend answered {} records for a page of at most {}",
                page.records.len(),
                request.limit
            )));
        }
        Ok(page)
    })
    .await;
    let result = done
        .result
        .map(
            |RangePage {
                 records,
                 resume_after,
             }| {
                let items = records
                    .into_iter()
                    .filter_map(|(key, record)| record.into_item().map(|item| (key, item)))
                    .collect();
                let next = resume_after.map(|after| {
                    Position {
                        kind,
                        fingerprint,
                        after,
                    }
                    .encode()
                });
                Page::new(items, next)
            },
        )
        .map_err(|e| public(store, operation, None, e, done.exhausted));
    (result, done.attempts)
}

/// The key a cursor continues after, checked to belong to this read.
fn after(
    operation: Operation,
    kind: CursorKind,
    fingerprint: u64,
    cursor: Option<&crate::Cursor>,
) -> Result<Option<Key>> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let position = Position::decode(cursor)
        .map_err(|reason| Error::invalid(operation, None, format!("bad cursor: {reason}")))?;
    if position.kind != kind || position.fingerprint != fingerprint {
        return Err(foreign(operation));
    }
    Ok(Some(position.after))
}

fn foreign(operation: Operation) -> Error {
    Error::invalid(
        operation,
        None,
        "bad cursor: it belongs to another query or store (a cursor continues only the read that made it)",
    )
}

/// What a cursor is bound to: the store's data, the kind of read, and for a query its
/// partition, range and order.
fn fingerprint<S: Storage + ?Sized>(store: &S, kind: CursorKind, scope: &RangeScope<'_>) -> u64 {
    let identity = store.identity();
    let kind_tag = [kind as u8];
    let mut parts: Vec<&[u8]> = vec![
        store.backend_name().as_bytes(),
        identity.as_bytes(),
        &kind_tag,
    ];
    let range_tag;
    let direction_tag;
    if let RangeScope::Partition {
        partition,
        range,
        direction,
    } = scope
    {
        range_tag = [match range {
            SortRange::All => 0u8,
            SortRange::Prefix(_) => 1,
            SortRange::Between { .. } => 2,
            SortRange::After(_) => 3,
            SortRange::Before(_) => 4,
        }];
        direction_tag = [match direction {
            Direction::Ascending => 0u8,
            Direction::Descending => 1,
        }];
        parts.push(partition.as_bytes());
        parts.push(&range_tag);
        for (_, bound) in range.parts() {
            parts.push(bound.as_bytes());
        }
        parts.push(&direction_tag);
    }
    crate::reads::fnv1a(&parts)
}

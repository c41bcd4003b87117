//! [`Storage::read_range`](optimist_core::Storage::read_range): a page of one
//! partition (`query.lua`, from the partition's index) or of the whole store
//! (`scan.lua`, from the partitions set and each partition's index). On one server each
//! page is one script, so one round trip, and reads every record it answers at one
//! moment; on a cluster a scan page reads bucket after bucket (a script reads one hash
//! slot), several buckets at once, until the page is full.

use std::ops::Bound;

use futures_util::future::try_join_all;
use optimist_core::{
    Applied, Direction, ErrorKind, Key, RangePage, RangeRequest, RangeScope, StorageError,
};
use redis::Value as Reply;

use crate::RedisStore;
use crate::error::from_redis;
use crate::reply::{malformed, record, strings};
use crate::scripts::scripts;

/// One page of `request`'s scope.
pub(crate) async fn read(
    store: &RedisStore,
    request: &RangeRequest<'_>,
) -> Result<RangePage, StorageError> {
    match request.scope {
        RangeScope::Partition {
            partition,
            direction,
            ..
        } => query(store, request, partition, direction).await,
        RangeScope::Store => scan(store, request).await,
        // `RangeScope` is non-exhaustive: a scope this backend does not know reads
        // nothing.
        _ => Err(StorageError::not_applied(
            ErrorKind::Rejected,
            "a range this version of the Redis backend does not know",
        )),
    }
}

/// A page of one partition: the interval `sort_bounds` leaves (the range and the
/// previous page's end together) read from the partition's index in the asked order.
async fn query(
    store: &RedisStore,
    request: &RangeRequest<'_>,
    partition: &str,
    direction: Direction,
) -> Result<RangePage, StorageError> {
    let (lower, upper) = request.sort_bounds();
    // With no lower bound, the interval starts after the member '' (the partition's
    // key without a sort part), which is not part of any query.
    let min = lex_bound(lower, b"(");
    let max = lex_bound(upper, b"+");
    let order: &[u8] = match direction {
        Direction::Ascending => b"asc",
        Direction::Descending => b"desc",
    };
    let spell = store.keys();
    let keys = [spell.index(partition)];
    let base = spell.item(&Key::new(partition));
    let limit = request.limit.to_string();
    let args: [&[u8]; 5] = [&base, order, &min, &max, limit.as_bytes()];
    let reply = store
        .run(&scripts().query, &keys, &args)
        .await
        .map_err(|err| from_redis(err, Applied::No))?;
    page(reply, 1, |parts| {
        let [sort] = parts else {
            return Err(malformed(
                Applied::No,
                "a query entry without its sort part",
            ));
        };
        Ok(Key::with_sort(partition, utf8(sort)?))
    })
}

/// How many buckets of a cluster a scan page reads at once, while its page has room.
const BUCKET_WINDOW: u16 = 32;

/// A page of the whole store, in the order of `scan.lua` bucket by bucket: buckets by
/// number (one server has one), in each the partitions by their bytes, in each the key
/// without a sort part first, then the sort parts by their bytes. A cursor's key names
/// its bucket, so a page continues exactly after it.
async fn scan(store: &RedisStore, request: &RangeRequest<'_>) -> Result<RangePage, StorageError> {
    let spell = store.keys();
    let limit = request.limit;
    let first = request
        .after
        .map_or(0, |after| spell.bucket(after.partition()));
    let page = scan_bucket(store, first, request.after, limit).await?;
    if page.resume_after.is_some() {
        return Ok(page);
    }
    let mut records = page.records;
    let mut next = first.saturating_add(1);
    while next < spell.buckets() {
        if records.len() >= limit {
            // Full, and later buckets not looked at: the next page goes on from here.
            let last = records.last().map(|(key, _)| key.clone());
            return Ok(RangePage::new(records, last));
        }
        let end = next.saturating_add(BUCKET_WINDOW).min(spell.buckets());
        let want = limit - records.len();
        let pages =
            try_join_all((next..end).map(|bucket| scan_bucket(store, bucket, None, want))).await?;
        for page in pages {
            let room = limit - records.len();
            if page.records.len() >= room {
                records.extend(page.records.into_iter().take(room));
                let last = records.last().map(|(key, _)| key.clone());
                return Ok(RangePage::new(records, last));
            }
            records.extend(page.records);
            if page.resume_after.is_some() {
                // The bucket has more than it answered (entries without an item were
                // skipped): the next page continues inside it.
                return Ok(RangePage::new(records, page.resume_after));
            }
        }
        next = end;
    }
    Ok(RangePage::new(records, None))
}

/// One page of one bucket (`scan.lua` on its partitions set), from its first key or
/// after `after` (a key of this bucket).
async fn scan_bucket(
    store: &RedisStore,
    bucket: u16,
    after: Option<&Key>,
    limit: usize,
) -> Result<RangePage, StorageError> {
    let spell = store.keys();
    let keys = [spell.bucket_partitions(bucket)];
    let tag = spell.bucket_tag(bucket);
    let limit = limit.to_string();
    let (start, partition, sort): (&[u8], &str, &str) = match after {
        Some(after) => (
            b"after",
            after.partition(),
            after.sort().unwrap_or_default(),
        ),
        None => (b"first", "", ""),
    };
    let args: [&[u8]; 5] = [
        &tag,
        start,
        partition.as_bytes(),
        sort.as_bytes(),
        limit.as_bytes(),
    ];
    let reply = store
        .run(&scripts().scan, &keys, &args)
        .await
        .map_err(|err| from_redis(err, Applied::No))?;
    page(reply, 2, |parts| {
        let [partition, sort] = parts else {
            return Err(malformed(Applied::No, "a scan entry without its key"));
        };
        let partition = utf8(partition)?;
        if sort.is_empty() {
            Ok(Key::new(partition))
        } else {
            Ok(Key::with_sort(partition, utf8(sort)?))
        }
    })
}

/// A page reply: `{{where the next page continues}, entry...}`, where the position
/// is the `key_parts` parts of a key (none when nothing follows) and each entry those
/// parts followed by the item's record.
fn page(
    reply: Reply,
    key_parts: usize,
    key: impl Fn(&[Vec<u8>]) -> Result<Key, StorageError>,
) -> Result<RangePage, StorageError> {
    let Reply::Array(parts) = reply else {
        return Err(malformed(Applied::No, "not an array"));
    };
    let mut parts = parts.into_iter();
    let resume = parts
        .next()
        .and_then(strings)
        .ok_or_else(|| malformed(Applied::No, "no position"))?;
    let resume_after = if resume.is_empty() {
        None
    } else {
        Some(key(&resume)?)
    };
    let records = parts
        .map(|part| {
            let fields =
                strings(part).ok_or_else(|| malformed(Applied::No, "an entry is not an array"))?;
            if fields.len() < key_parts {
                return Err(malformed(Applied::No, "an entry without its key"));
            }
            let (names, rest) = fields.split_at(key_parts);
            let item = record(rest, Applied::No)?
                .ok_or_else(|| malformed(Applied::No, "an entry without its record"))?;
            Ok((key(names)?, item))
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    Ok(RangePage::new(records, resume_after))
}

/// A `ZRANGEBYLEX` bound: `[s` included, `(s` excluded, `unbounded` otherwise.
fn lex_bound(bound: Bound<String>, unbounded: &[u8]) -> Vec<u8> {
    let (mark, sort) = match bound {
        Bound::Included(sort) => (b'[', sort),
        Bound::Excluded(sort) => (b'(', sort),
        Bound::Unbounded => return unbounded.to_vec(),
    };
    let mut out = Vec::with_capacity(1 + sort.len());
    out.push(mark);
    out.extend_from_slice(sort.as_bytes());
    out
}

/// A key part read from an index: UTF-8, as every key this store writes. Anything
/// else was put there by another client.
fn utf8(bytes: &[u8]) -> Result<String, StorageError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        StorageError::corrupt("an index entry is not UTF-8 (not a key this store wrote)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Reply {
        Reply::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn lex_bounds_mark_inclusion() {
        assert_eq!(lex_bound(Bound::Included("a".into()), b"-"), b"[a");
        assert_eq!(lex_bound(Bound::Excluded("a".into()), b"-"), b"(a");
        assert_eq!(lex_bound(Bound::Unbounded, b"("), b"(");
    }

    #[test]
    fn scan_pages_read_keys_with_and_without_sort_parts() {
        let reply = Reply::Array(vec![
            Reply::Array(vec![bulk("p"), bulk("s")]),
            Reply::Array(vec![bulk("p"), bulk(""), bulk("1"), bulk(""), bulk("7")]),
            Reply::Array(vec![bulk("p"), bulk("s"), bulk("2"), bulk(""), bulk("8")]),
        ]);
        let page = page(reply, 2, |parts| {
            let [p, s] = parts else { unreachable!() };
            let p = utf8(p)?;
            Ok(if s.is_empty() {
                Key::new(p)
            } else {
                Key::with_sort(p, utf8(s)?)
            })
        });
        let page = page.ok();
        assert_eq!(
            page.as_ref().and_then(|p| p.resume_after.clone()),
            Some(Key::with_sort("p", "s"))
        );
        let keys: Option<Vec<Key>> =
            page.map(|p| p.records.into_iter().map(|(key, _)| key).collect());
        assert_eq!(keys, Some(vec![Key::new("p"), Key::with_sort("p", "s")]));
    }

    #[test]
    fn an_entry_without_a_record_or_a_reply_without_a_position_is_malformed() {
        let last = Reply::Array(vec![Reply::Array(vec![])]);
        assert_eq!(
            page(last, 1, |_| Ok(Key::new("x"))).ok(),
            Some(RangePage::new(Vec::new(), None))
        );
        let bare = Reply::Array(vec![Reply::Array(vec![]), Reply::Array(vec![bulk("s")])]);
        let err = page(bare, 1, |_| Ok(Key::new("x"))).err();
        assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::Other));
        let err = page(bulk("x"), 1, |_| Ok(Key::new("x"))).err();
        assert_eq!(err.map(|e| e.applied()), Some(Applied::No));
    }
}

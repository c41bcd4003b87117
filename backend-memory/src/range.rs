//! Query and scan pages: one interval of the ordered keys.

use std::ops::Bound;

use optimist_core::{Direction, Key, RangePage, RangeRequest, RangeScope};

use crate::store::{Entry, Items};

/// One page: the records `request` admits, in its order, at most `limit`, and the last
/// key answered if anything follows it.
pub(crate) fn read(items: &Items, request: &RangeRequest<'_>) -> RangePage {
    let limit = request.limit;
    // One more than asked, to learn whether the page is the last.
    let mut taken: Vec<(&Key, &Entry)> = match request.scope {
        RangeScope::Partition {
            partition,
            direction,
            ..
        } => {
            let (lower, upper) = request.sort_bounds();
            let lower = match lower {
                Bound::Included(sort) => Bound::Included(Key::with_sort(partition, sort)),
                Bound::Excluded(sort) => Bound::Excluded(Key::with_sort(partition, sort)),
                // The partition's key without a sort part sorts first: start after it.
                Bound::Unbounded => Bound::Excluded(Key::new(partition)),
            };
            let upper = match upper {
                Bound::Included(sort) => Bound::Included(Key::with_sort(partition, sort)),
                Bound::Excluded(sort) => Bound::Excluded(Key::with_sort(partition, sort)),
                // No partition lies between `partition` and `partition` + NUL.
                Bound::Unbounded => Bound::Excluded(Key::new(format!("{partition}\0"))),
            };
            if !interval_is_valid(&lower, &upper) {
                return RangePage::default();
            }
            let interval = items.order.range((lower, upper));
            match direction {
                Direction::Ascending => first(items, interval, limit + 1),
                Direction::Descending => first(items, interval.rev(), limit + 1),
            }
        }
        _ => {
            let lower = request
                .after
                .map_or(Bound::Unbounded, |after| Bound::Excluded(after.clone()));
            first(
                items,
                items.order.range((lower, Bound::Unbounded)),
                limit + 1,
            )
        }
    };
    let more = taken.len() > limit;
    taken.truncate(limit);
    let resume_after = if more {
        taken.last().map(|(key, _)| (*key).clone())
    } else {
        None
    };
    let records = taken
        .into_iter()
        .map(|(key, entry)| (key.clone(), entry.record.clone()))
        .collect();
    RangePage::new(records, resume_after)
}

/// The first `count` keys of `keys`, each with its entry (the order and the entries
/// hold the same keys).
fn first<'a>(
    items: &'a Items,
    keys: impl Iterator<Item = &'a Key>,
    count: usize,
) -> Vec<(&'a Key, &'a Entry)> {
    keys.filter_map(|key| items.entries.get(key).map(|entry| (key, entry)))
        .take(count)
        .collect()
}

/// `BTreeSet::range` panics on an empty or inverted interval given as excluded bounds on
/// one key, or as a lower bound above the upper one: those read nothing.
fn interval_is_valid(lower: &Bound<Key>, upper: &Bound<Key>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l <= u,
        (Bound::Included(l) | Bound::Excluded(l), Bound::Included(u) | Bound::Excluded(u)) => l < u,
        _ => true,
    }
}

//! contract R17, R18 under concurrent writes: paged queries and scans run while
//! writers change some of the keys read, every call stamped from one global atomic
//! counter; afterwards each read is checked against the writers' recorded history:
//! an item present and unchanged throughout the read came exactly once, an item absent
//! throughout never came, and every item that came is a state (value and version) its
//! key held while its page was being read. A query's items also come in order.
//!
//! Each key has one writer, so its history is a plain sequence of states; a state took
//! effect somewhere between its call's start and answer.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use optimist_core::{Direction, Error, Key, SortRange, Version, VersionedStore};

use super::reads_pages::{Read, in_range};
use crate::env;
use crate::history::{item_of, value_for};
use crate::model::{Item, ValueId};
use crate::rng::SplitMix64;
use crate::support::{key2, ok};
use crate::verdict::{check, fail};

const PARTITION: &str = "hist";
const WRITERS: usize = 3;

/// One state of a key: the item it held (or none) from a write whose call started at
/// `call` and answered at `at`.
#[derive(Clone, Copy, Debug)]
struct Change {
    call: u64,
    at: u64,
    state: Option<Item>,
}

/// A key's history, and the write whose answer was lost, if any: from its call on, the
/// key may hold that write's value too (any version), and the writer left the key.
#[derive(Clone, Debug, Default)]
struct Timeline {
    changes: Vec<Change>,
    uncertain: Option<(u64, Option<ValueId>)>,
}

/// One item of one page, as a read saw it.
#[derive(Clone, Debug)]
struct Seen {
    key: Key,
    item: Item,
    page_call: u64,
    page_at: u64,
}

/// One whole read: its pages' items, and when it started and ended.
#[derive(Clone, Debug)]
struct Round {
    read: Read,
    limit: usize,
    start: u64,
    end: u64,
    seen: Vec<Seen>,
}

/// The keys of the case, each with its sort part: cold ones (written before the reads
/// and never again; some deleted) and hot ones (changed throughout), interleaved in
/// sort order so page boundaries fall on both.
fn sorts() -> Vec<(String, bool)> {
    let names = ["a", "b", "c", "é", "z", "中", "Z", "m"];
    let mut sorts = Vec::new();
    for (i, name) in names.iter().enumerate() {
        for j in 0..2 {
            sorts.push((format!("{name}{j}"), (i + j) % 2 == 0));
        }
    }
    sorts
}

struct Shared {
    clock: AtomicU64,
    stop: AtomicBool,
}

impl Shared {
    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst)
    }
}

/// Writes one key's next state, recording it; `false` when the key's state is no
/// longer known (an `Indeterminate` answer) and the writer must leave it.
async fn write_once<S: VersionedStore + ?Sized>(
    store: &S,
    shared: &Shared,
    key: &Key,
    timeline: &mut Timeline,
    rng: &mut SplitMix64,
    next_value: &mut ValueId,
) -> bool {
    let current = timeline.changes.last().and_then(|c| c.state);
    *next_value += WRITERS as u64;
    let id = *next_value;
    let value = value_for(store.capabilities(), id);
    let roll = rng.below(100);
    let call = shared.tick();
    let (result, written): (optimist_core::Result<Option<Version>>, Option<ValueId>) = match current
    {
        Some(item) if roll < 50 => (
            store
                .update(key, Version::new(item.version), value)
                .await
                .map(Some),
            Some(id),
        ),
        Some(_) if roll < 70 => (store.put(key, value).await.map(Some), Some(id)),
        Some(item) if roll < 85 => (
            store
                .delete(key, Version::new(item.version))
                .await
                .map(|()| None),
            None,
        ),
        Some(_) => (store.remove(key).await.map(|_| None), None),
        None if roll < 60 => (store.insert(key, value).await.map(Some), Some(id)),
        None => (store.put(key, value).await.map(Some), Some(id)),
    };
    let at = shared.tick();
    match result {
        Ok(version) => {
            let state = version.map(|v| Item {
                value: id,
                version: v.get(),
            });
            timeline.changes.push(Change { call, at, state });
            true
        }
        // Nothing was applied (contract R12): the key is as it was.
        Err(Error::Backend { .. }) => true,
        Err(Error::Indeterminate { .. }) => {
            timeline.uncertain = Some((call, written));
            false
        }
        Err(err) => fail(
            "a write of a key's only writer answers, or fails with a backend error that applied nothing, or Indeterminate",
            format!(
                "{key} has one writer, so its write cannot fail with {err} ({err:?}); \
             its history: {timeline:?}"
            ),
        ),
    }
}

/// One writer: changes its own keys, one at a time, until told to stop.
async fn writer<S: VersionedStore + ?Sized>(
    store: Arc<S>,
    shared: Arc<Shared>,
    mut keys: Vec<(Key, Timeline)>,
    seed: u64,
    first_value: ValueId,
) -> Vec<(Key, Timeline)> {
    let mut rng = SplitMix64::new(seed);
    let mut next_value = first_value;
    while !shared.stop.load(Ordering::SeqCst) {
        let live: Vec<usize> = (0..keys.len())
            .filter(|&i| keys[i].1.uncertain.is_none())
            .collect();
        if live.is_empty() {
            break;
        }
        let (key, timeline) = &mut keys[live[rng.index(live.len())]];
        write_once(&*store, &shared, key, timeline, &mut rng, &mut next_value).await;
        tokio::task::yield_now().await;
    }
    keys
}

/// Runs `read` to its end in pages of `limit`, stamping each page.
async fn run_read<S: VersionedStore + ?Sized>(
    store: &S,
    shared: &Shared,
    read: Read,
    limit: usize,
    max_pages: usize,
) -> Round {
    let start = shared.tick();
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut end = start;
    for n in 0..max_pages {
        let page_call = shared.tick();
        let page = ok(
            read.page(store, limit, cursor).await,
            &format!("page {n} of {read:?} in pages of {limit}"),
        );
        let page_at = shared.tick();
        end = page_at;
        check(
            page.items.len() <= limit,
            format!("a page holds at most its limit of {limit} items"),
            || {
                format!(
                    "page {n} of {read:?} holds {} items, over its limit of {limit}",
                    page.items.len()
                )
            },
        );
        for (key, item) in &page.items {
            seen.push(Seen {
                key: key.clone(),
                item: item_of(item),
                page_call,
                page_at,
            });
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => {
                return Round {
                    read,
                    limit,
                    start,
                    end,
                    seen,
                };
            }
        }
    }
    fail(
        "a paged read ends, its last page with no next cursor",
        format!(
            "{read:?} in pages of {limit} did not end within {max_pages} pages (ended at {end})"
        ),
    );
}

/// Whether `key` is read by `read`.
fn in_scope(read: &Read, key: &Key) -> bool {
    match read {
        Read::Scan => true,
        Read::Query {
            partition, range, ..
        } => key.partition() == partition && key.sort().is_some_and(|s| in_range(range, s)),
    }
}

/// Whether the state `j` of `timeline` may have been the key's state at some moment
/// of `[from, to]`: it may have taken effect by `to`, and the next may not have
/// taken effect before `from`.
fn may_hold(timeline: &Timeline, j: usize, from: u64, to: u64) -> bool {
    let starts = timeline.changes[j].call;
    let ends = timeline.changes.get(j + 1).map_or(u64::MAX, |next| next.at);
    starts <= to && ends >= from
}

/// The state the key held for certain from before `from` to after `to`, if any.
fn held_throughout(timeline: &Timeline, from: u64, to: u64) -> Option<Option<Item>> {
    if timeline.uncertain.is_some_and(|(call, _)| call <= to) {
        return None;
    }
    let j = timeline.changes.iter().rposition(|c| c.at < from)?;
    let next_starts = timeline
        .changes
        .get(j + 1)
        .map_or(u64::MAX, |next| next.call);
    (next_starts > to).then_some(timeline.changes[j].state)
}

/// Every problem of one read against the recorded histories.
fn problems(round: &Round, timelines: &HashMap<Key, Timeline>) -> Vec<String> {
    let mut found = Vec::new();
    let mut counts: HashMap<&Key, usize> = HashMap::new();
    for seen in &round.seen {
        *counts.entry(&seen.key).or_default() += 1;
        let Some(timeline) = timelines.get(&seen.key) else {
            found.push(format!("{} came, but the case never wrote it", seen.key));
            continue;
        };
        if !in_scope(&round.read, &seen.key) {
            found.push(format!(
                "{} came, but it is not in the read's scope",
                seen.key
            ));
        }
        let real = (0..timeline.changes.len()).any(|j| {
            timeline.changes[j].state == Some(seen.item)
                && may_hold(timeline, j, seen.page_call, seen.page_at)
        });
        let maybe = timeline
            .uncertain
            .is_some_and(|(call, value)| call <= seen.page_at && value == Some(seen.item.value));
        if !real && !maybe {
            found.push(format!(
                "{} came as {} (page called at {}, answered at {}), a state it never held \
                 while that page was read; its history: {:?}",
                seen.key, seen.item, seen.page_call, seen.page_at, timeline.changes
            ));
        }
    }
    for (key, timeline) in timelines {
        if !in_scope(&round.read, key) {
            continue;
        }
        let count = counts.get(key).copied().unwrap_or(0);
        match held_throughout(timeline, round.start, round.end) {
            Some(Some(item)) if count != 1 => found.push(format!(
                "{key} held {item} throughout the read, but came {count} times"
            )),
            Some(None) if count != 0 => found.push(format!(
                "{key} was absent throughout the read, but came {count} times"
            )),
            _ => {}
        }
    }
    if let Read::Query { direction, .. } = &round.read {
        for pair in round.seen.windows(2) {
            let (a, b) = (
                pair[0].key.sort().unwrap_or_default(),
                pair[1].key.sort().unwrap_or_default(),
            );
            let ordered = match direction {
                Direction::Ascending => a.as_bytes() < b.as_bytes(),
                Direction::Descending => a.as_bytes() > b.as_bytes(),
            };
            if !ordered {
                found.push(format!("{a:?} came before {b:?} in a {direction:?} query"));
            }
        }
    }
    found
}

/// A read of the case's keys, drawn from `rng`: a scan, or a query of the partition
/// with any kind of range in either direction.
fn draw_read(rng: &mut SplitMix64, scan: bool) -> Read {
    if scan {
        return Read::Scan;
    }
    let direction = if rng.chance(50) {
        Direction::Ascending
    } else {
        Direction::Descending
    };
    let range = match rng.below(5) {
        0 => SortRange::All,
        1 => SortRange::prefix(["a", "é", "中", "z"][rng.index(4)]),
        2 => SortRange::between("b", "z1"),
        3 => SortRange::after("c0"),
        _ => SortRange::before("m1"),
    };
    Read::query(PARTITION, range, direction)
}

async fn reads_under_writes<S: VersionedStore + 'static>(store: Arc<S>, scan: bool) {
    let s = &*store;
    let seed = env::seed().unwrap_or_else(SplitMix64::fresh_seed);
    let mut rng = SplitMix64::new(seed);
    let shared = Arc::new(Shared {
        clock: AtomicU64::new(1),
        stop: AtomicBool::new(false),
    });
    // Set up: every key inserted (its first state), a third of the cold ones deleted;
    // keys of another partition are written too, and must never come in a query.
    let mut hot = Vec::new();
    let mut cold = Vec::new();
    let mut next_value: ValueId = 0;
    let mut keys: Vec<(Key, bool)> = sorts()
        .into_iter()
        .map(|(sort, is_hot)| (key2(s, PARTITION, &sort), is_hot))
        .collect();
    keys.extend((0..3).map(|i| (key2(s, "hist-other", &format!("a{i}")), i == 0)));
    for (n, (key, is_hot)) in keys.into_iter().enumerate() {
        next_value += 1;
        let call = shared.tick();
        let version = ok(
            s.insert(&key, value_for(s.capabilities(), next_value))
                .await,
            &format!("insert {key}"),
        );
        let mut changes = vec![Change {
            call,
            at: shared.tick(),
            state: Some(Item {
                value: next_value,
                version: version.get(),
            }),
        }];
        if !is_hot && n % 3 == 0 {
            let call = shared.tick();
            ok(s.delete(&key, version).await, &format!("delete {key}"));
            changes.push(Change {
                call,
                at: shared.tick(),
                state: None,
            });
        }
        let timeline = Timeline {
            changes,
            uncertain: None,
        };
        if is_hot {
            hot.push((key, timeline));
        } else {
            cold.push((key, timeline));
        }
    }
    let written = hot.len() + cold.len();

    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let mine: Vec<(Key, Timeline)> = hot
            .iter()
            .enumerate()
            .filter(|(i, _)| i % WRITERS == w)
            .map(|(_, entry)| entry.clone())
            .collect();
        let (store, shared) = (Arc::clone(&store), Arc::clone(&shared));
        let first_value = 1_000_000 + w as u64;
        let seed = seed.wrapping_add(w as u64 + 1);
        tasks.push(tokio::spawn(writer(store, shared, mine, seed, first_value)));
    }
    let reads = (env::histories() / 4).max(3);
    let mut rounds = Vec::with_capacity(reads);
    for _ in 0..reads {
        let read = draw_read(&mut rng, scan);
        let limit = 1 + rng.index(3);
        rounds.push(run_read(s, &shared, read, limit, written * 8 + 16).await);
    }
    shared.stop.store(true, Ordering::SeqCst);
    let mut timelines: HashMap<Key, Timeline> = cold.into_iter().collect();
    for task in tasks {
        match task.await {
            Ok(done) => timelines.extend(done),
            Err(join) => fail(
                "every writer finishes (its task was not cancelled)",
                format!("a writer failed: {join}"),
            ),
        }
    }
    let writes: usize = timelines.values().map(|t| t.changes.len()).sum();
    let mut report = String::new();
    for (n, round) in rounds.iter().enumerate() {
        let found = problems(round, &timelines);
        if !found.is_empty() {
            let _ = writeln!(
                report,
                "read {n}: {:?} in pages of {} (from {} to {}):",
                round.read, round.limit, round.start, round.end
            );
            for problem in found {
                let _ = writeln!(report, "  - {problem}");
            }
        }
    }
    check(
        report.is_empty(),
        "over the pages of one read while others write: an item present and unchanged the whole time comes exactly once, an item absent the whole time never comes, and every item that comes is a state it really held, with that state's version",
        || {
            format!(
                "paged reads under concurrent writes broke their guarantees (OPTIMIST_SEED={seed}, \
         {writes} states recorded; times from one global counter):\n{report}"
            )
        },
    );
}

/// contract R17, R13: paged queries (every kind of range, both directions, pages of 1 to
/// 3) while three writers change half the keys: an item present and unchanged
/// throughout comes exactly once, one absent throughout never, every item is a state it
/// held while its page was read, in sort order.
pub async fn r17_paged_queries_under_concurrent_writes_keep_their_guarantees<
    S: VersionedStore + 'static,
>(
    store: Arc<S>,
) {
    // contract R17 R13
    reads_under_writes(store, false).await;
}

/// contract R18, R13: the same for paged scans of the whole store.
pub async fn r18_paged_scans_under_concurrent_writes_keep_their_guarantees<
    S: VersionedStore + 'static,
>(
    store: Arc<S>,
) {
    // contract R18 R13
    reads_under_writes(store, true).await;
}

//! contract R4 (with R3 and R15): what a store answered survives the store. The case
//! writes (inserts, updates, puts, deletes, removes, a transaction), drops the store,
//! opens its storage again with the factory's reopen, and checks every item and
//! version; then writes on and checks that versions keep counting where they stood.
//! Runs on factories that offer a reopen ([`Feature::Reopen`](crate::Feature::Reopen)).

use std::sync::Arc;

use optimist_core::{Conflict, Key, TxOp, Value, Version, VersionedStore};
use serde_json::json;

use crate::Reopener;
use crate::runner;
use crate::support::{conflict_of, doc, key, same_value};
use crate::verdict::{check, describe_error, fail};

/// What the case expects each key to hold; the operations it ran go to the running
/// case's journal ([`crate::verdict::Journal`]), which a failure lists.
struct Journal {
    /// The running case's journal.
    done: crate::verdict::Journal,
    /// Each key and what it must hold: `None` for absent.
    expected: Vec<(Key, Option<(Value, Version)>)>,
}

impl Journal {
    fn new() -> Self {
        Self {
            done: runner::context().journal,
            expected: Vec::new(),
        }
    }

    fn did(&mut self, what: String) {
        self.done.record(what);
    }

    fn expect(&mut self, key: &Key, item: Option<(Value, Version)>) {
        match self.expected.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = item,
            None => self.expected.push((key.clone(), item)),
        }
    }
}

/// Drops `store` and opens its storage again. The case holds the only reference.
async fn reopened<S: VersionedStore + 'static>(
    store: Arc<S>,
    reopener: &Reopener<S>,
    journal: &mut Journal,
) -> Arc<S> {
    let Ok(store) = Arc::try_unwrap(store) else {
        panic!("the durability case holds its store twice and cannot drop it (a bug of the suite)");
    };
    let store = match reopener.reopen(store).await {
        Ok(store) => store,
        Err(why) => fail(
            format!(
                "contract R4: reopening the store ({}) succeeds",
                reopener.what()
            ),
            why,
        ),
    };
    journal.did(format!("reopen: {}", reopener.what()));
    Arc::new(store)
}

/// Checks every key the journal knows after a reopen.
async fn check_all<S: VersionedStore + 'static>(
    store: &S,
    journal: &Journal,
    reopener: &Reopener<S>,
) {
    let caps = store.capabilities();
    for (key, expected) in &journal.expected {
        let got = match store.get(key).await {
            Ok(got) => got,
            Err(err) => fail(
                format!(
                    "contract R4: after reopening ({}), get {key} succeeds",
                    reopener.what()
                ),
                describe_error(&err),
            ),
        };
        let matches = match (&got, expected) {
            (None, None) => true,
            (Some(item), Some((value, version))) => {
                item.version == *version && same_value(caps, &item.value, value)
            }
            _ => false,
        };
        if !matches {
            let want = match expected {
                Some((value, version)) => format!("{value} at version {}", version.get()),
                None => "nothing (it was deleted)".to_string(),
            };
            let found = match &got {
                Some(item) => format!("{} at version {}", item.value, item.version.get()),
                None => "nothing".to_string(),
            };
            fail(
                format!(
                    "contract R4: a store keeps every completed write across a reopen ({}): \
                     get {key} answers {want}",
                    reopener.what()
                ),
                found,
            );
        }
    }
}

/// Runs a write and records it; a failure names the operations so far.
fn step<T: std::fmt::Debug>(
    journal: &mut Journal,
    what: String,
    result: optimist_core::Result<T>,
) -> T {
    match result {
        Ok(answer) => {
            journal.did(format!("{what} -> {answer:?}"));
            answer
        }
        Err(err) => fail(format!("{what} succeeds"), describe_error(&err)),
    }
}

/// contract R4, R3, R15: every write the store answered survives dropping the store
/// and opening its storage again (the factory's reopen: the same file, table or key
/// prefix), items with their values and versions, deleted items stay deleted, and the
/// versions keep counting where they stood (an update expects the version read before
/// the reopen; in tombstone mode a deleted key continues after its tombstone). What a
/// reopen covers is the factory's to say: a server is not restarted by it.
pub async fn r4_completed_writes_survive_reopening_the_store<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    // contract R4 R3 R15
    let Some(reopener) = runner::reopener::<S>() else {
        panic!(
            "the factory offers no reopen for this store type (the suite holds this case without one)"
        );
    };
    let mut j = Journal::new();
    let s = &*store;
    let tombstones = s.capabilities().tombstones;
    let [updated, put_twice, deleted, removed, tx_new, tx_gone] = [
        "updated",
        "put-twice",
        "deleted",
        "removed",
        "tx-new",
        "tx-gone",
    ]
    .map(|n| key(s, n));

    let v1 = doc(
        s,
        json!({"n": 1, "text": "first", "f": 1.000_000_000_000_000_2}),
    );
    let v = step(
        &mut j,
        format!("insert {updated} {v1}"),
        s.insert(&updated, v1).await,
    );
    let v2 = doc(
        s,
        json!({"n": 2, "big": u64::MAX, "neg": i64::MIN, "list": [1, "two", null]}),
    );
    let v = step(
        &mut j,
        format!("update {updated} at {} {v2}", v.get()),
        s.update(&updated, v, v2.clone()).await,
    );
    j.expect(&updated, Some((v2, v)));

    let p1 = doc(s, json!("put once"));
    step(
        &mut j,
        format!("put {put_twice} {p1}"),
        s.put(&put_twice, p1).await,
    );
    let p2 = doc(s, json!("put twice: ünïcödé ✓"));
    let v = step(
        &mut j,
        format!("put {put_twice} {p2}"),
        s.put(&put_twice, p2.clone()).await,
    );
    j.expect(&put_twice, Some((p2, v)));

    let d = doc(s, json!(0.1));
    let v = step(
        &mut j,
        format!("insert {deleted} {d}"),
        s.insert(&deleted, d).await,
    );
    step(
        &mut j,
        format!("delete {deleted} at {}", v.get()),
        s.delete(&deleted, v).await,
    );
    j.expect(&deleted, None);

    let r = doc(s, json!([]));
    step(
        &mut j,
        format!("insert {removed} {r}"),
        s.insert(&removed, r).await,
    );
    step(
        &mut j,
        format!("remove {removed}"),
        s.remove(&removed).await,
    );
    j.expect(&removed, None);

    // Enough items that a store keeping only the last few would show it.
    for n in 0..16 {
        let k = key(s, &format!("bulk-{n}"));
        let value = doc(s, json!({"bulk": n}));
        let v = step(
            &mut j,
            format!("put {k} {value}"),
            s.put(&k, value.clone()).await,
        );
        j.expect(&k, Some((value, v)));
    }

    // Its transaction spans partitions (the keys are the store's usual ones).
    let caps = s.capabilities();
    if caps.transactions && caps.transactions_span_partitions {
        let gone = doc(s, json!("deleted in a transaction"));
        let vg = step(
            &mut j,
            format!("insert {tx_gone} {gone}"),
            s.insert(&tx_gone, gone).await,
        );
        let current = j
            .expected
            .iter()
            .find(|(k, _)| *k == put_twice)
            .and_then(|(_, item)| item.as_ref().map(|(_, v)| *v))
            .unwrap_or(Version::FIRST);
        let new_value = doc(s, json!({"tx": "inserted"}));
        let moved = doc(s, json!({"tx": "updated"}));
        let ops = vec![
            TxOp::insert(tx_new.clone(), new_value.clone()),
            TxOp::update(put_twice.clone(), current, moved.clone()),
            TxOp::delete(tx_gone.clone(), vg),
        ];
        let versions = step(
            &mut j,
            format!(
                "transact [insert {tx_new}, update {put_twice} at {}, delete {tx_gone} at {}]",
                current.get(),
                vg.get()
            ),
            s.transact(ops).await,
        );
        j.expect(
            &tx_new,
            versions.first().copied().flatten().map(|v| (new_value, v)),
        );
        j.expect(
            &put_twice,
            versions.get(1).copied().flatten().map(|v| (moved, v)),
        );
        j.expect(&tx_gone, None);
    }

    let store = reopened(store, &reopener, &mut j).await;
    let s = &*store;
    check_all(s, &j, &reopener).await;

    // The versions keep counting from where they stood.
    let at = |j: &Journal, k: &Key| {
        j.expected
            .iter()
            .find(|(key, _)| key == k)
            .and_then(|(_, item)| item.as_ref().map(|(_, v)| *v))
            .unwrap_or(Version::FIRST)
    };
    let before = at(&j, &updated);
    let v3 = doc(s, json!({"n": 3}));
    let v = step(
        &mut j,
        format!(
            "update {updated} at {} (read before the reopen) {v3}",
            before.get()
        ),
        s.update(&updated, before, v3.clone()).await,
    );
    check(
        v == Version::new(before.get() + 1),
        format!(
            "contract R3: an update after a reopen expecting version {} gives {}",
            before.get(),
            before.get() + 1
        ),
        || v.to_string(),
    );
    j.expect(&updated, Some((v3, v)));
    let stale = conflict_of(
        s.update(&updated, before, doc(s, json!("stale"))).await,
        &format!(
            "contract R6: update {updated} at the stale version {} after the reopen",
            before.get()
        ),
    );
    check(
        matches!(&stale, Conflict::VersionMismatch { current, .. } if current.version == v),
        format!(
            "contract R11: the stale update's conflict carries the current item at version {}",
            v.get()
        ),
        || format!("{stale:?}"),
    );
    j.did(format!(
        "update {updated} at {} -> conflict (stale)",
        before.get()
    ));

    let again = doc(s, json!("inserted again"));
    let v = step(
        &mut j,
        format!("insert {deleted} {again}"),
        s.insert(&deleted, again.clone()).await,
    );
    // Deleted at version 1: the default mode starts again at 1, a tombstone continues.
    let want = if tombstones { 2 } else { 1 };
    check(
        v.get() == want,
        format!(
            "contract R15: insert after a delete at version 1 and a reopen gives version {want} \
             (tombstone mode: {tombstones})"
        ),
        || v.to_string(),
    );
    j.expect(&deleted, Some((again, v)));

    let store = reopened(store, &reopener, &mut j).await;
    check_all(&*store, &j, &reopener).await;
}

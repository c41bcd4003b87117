//! Contract R15 in tombstone mode: a delete leaves a tombstone that keeps the version
//! counting, reads never show it, a stale write cannot match it, and purging removes
//! old ones only. Run on stores that declare `Capabilities::tombstones`.

use std::sync::Arc;
use std::time::Duration;

use optimist_core::{Conflict, Error, TxOp, Version, VersionedStore};
use serde_json::json;

use crate::support::{assert_absent, assert_item, conflict_of, doc, key, must_get, ok};
use crate::verdict::{check, check_eq, fail};

/// contract R15: after a delete or remove, the next write on the key continues the
/// version of the deleted item; reads see nothing in between.
pub async fn r15_tombstones_keep_the_version_counting<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R15
    let s = &*store;
    let k = key(s, "k");
    let v1 = ok(s.insert(&k, doc(s, json!(1))).await, "insert");
    let v2 = ok(s.update(&k, v1, doc(s, json!(2))).await, "update");
    ok(s.delete(&k, v2).await, "delete at v2");
    assert_absent(s, &k, "after delete").await;
    check_eq(
        &ok(s.remove(&k).await, "remove over the tombstone"),
        &None,
        "remove finds no item where a tombstone is",
    );
    let v3 = ok(s.insert(&k, doc(s, json!(3))).await, "insert again");
    check_eq(
        &v3,
        &Version::new(3),
        "insert after deleting v2 continues at v3, not at v1",
    );
    assert_item(s, &k, &doc(s, json!(3)), v3, "after insert again").await;
    check_eq(
        &ok(s.remove(&k).await, "remove"),
        &Some(v3),
        "remove returns the removed item's version",
    );
    check_eq(
        &ok(s.put(&k, doc(s, json!(4))).await, "put over the tombstone"),
        &Version::new(4),
        "put after removing v3 continues at v4",
    );
}

/// contract R15: a write expecting a version the key held before its delete conflicts
/// with the key's absence; an insert is the only way back.
pub async fn r15_stale_writes_cannot_match_a_tombstone<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R15
    let s = &*store;
    let k = key(s, "k");
    let v1 = ok(s.insert(&k, doc(s, json!(1))).await, "insert");
    ok(s.delete(&k, v1).await, "delete");
    check_eq(
        &conflict_of(
            s.update(&k, v1, doc(s, json!(2))).await,
            "update at the deleted version",
        ),
        &Conflict::NotFound,
        "in tombstone mode, an update expecting the deleted item's version meets the tombstone as Conflict::NotFound",
    );
    check_eq(
        &conflict_of(s.delete(&k, v1).await, "delete at the deleted version"),
        &Conflict::NotFound,
        "in tombstone mode, a delete expecting the deleted item's version meets the tombstone as Conflict::NotFound",
    );
    assert_absent(s, &k, "after the refused writes").await;
    if s.capabilities().transactions {
        match s.transact(vec![TxOp::check(k.clone(), v1)]).await {
            Err(Error::TransactionConflict { failures }) => {
                check_eq(
                    &failures.len(),
                    &1,
                    "a transaction expecting the deleted item's version is refused with exactly one failing op",
                );
                check_eq(
                    &failures[0].conflict,
                    &Conflict::NotFound,
                    "the transaction op expecting the deleted item's version meets the tombstone as Conflict::NotFound",
                );
            }
            other => fail(
                "a transaction expecting the deleted item's version is refused with TransactionConflict",
                format!("check at the deleted version: expected a conflict, got {other:?}"),
            ),
        }
        let versions = ok(
            s.transact(vec![TxOp::insert(k.clone(), doc(s, json!(3)))])
                .await,
            "insert over the tombstone in a transaction",
        );
        check_eq(
            &versions,
            &vec![Some(Version::new(2))],
            "the item put over the tombstone continues the version count",
        );
    }
}

/// contract R15: purging removes tombstones older than the bound, and only those: a
/// younger one stays, a key written since keeps its item. A purged key starts again
/// at version 1.
pub async fn r15_purge_removes_old_tombstones_only<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R15
    let s = &*store;
    let (gone, live) = (key(s, "gone"), key(s, "live"));
    let v1 = ok(s.insert(&gone, doc(s, json!(1))).await, "insert gone");
    let v2 = ok(s.update(&gone, v1, doc(s, json!(2))).await, "update gone");
    ok(s.delete(&gone, v2).await, "delete gone");
    let l1 = ok(s.insert(&live, doc(s, json!(1))).await, "insert live");
    ok(s.delete(&live, l1).await, "delete live");
    let l2 = ok(s.insert(&live, doc(s, json!(2))).await, "insert live again");
    // Nothing is older than a day: nothing to purge, the counter keeps going.
    ok(
        s.purge_tombstones(Duration::from_secs(86_400)).await,
        "purge tombstones older than a day",
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let purged = ok(
        s.purge_tombstones(Duration::ZERO).await,
        "purge every tombstone",
    );
    check(
        purged >= 1,
        "purging removes tombstones older than the bound, and only those: a younger one stays, a key written since keeps its item",
        || format!("the tombstone of `gone` was purged: {purged}"),
    );
    let item = must_get(s, &live).await;
    check_eq(
        &item.version,
        &l2,
        "a key written since its delete keeps its item",
    );
    check_eq(
        &ok(
            s.insert(&gone, doc(s, json!(3))).await,
            "insert after purge",
        ),
        &Version::FIRST,
        "a purged key starts again at version 1",
    );
}

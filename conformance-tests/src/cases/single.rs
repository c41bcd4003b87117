//! contract R3–R9, R11, R12, R15: single-item operations.

use std::sync::Arc;

use optimist_core::{Conflict, Error, Operation, Version, VersionedStore};
use serde_json::json;

use crate::support::{
    assert_absent, assert_exists, assert_item, assert_mismatch, conflict_of, doc, key, must_get, ok,
};
use crate::verdict::{check_eq, fail};

/// contract R3: insert gives version 1 and every successful write to an existing item, checked
/// or not, sets previous + 1.
pub async fn r3_every_write_advances_the_version_by_one<S: VersionedStore + 'static>(
    store: Arc<S>,
) {
    let store = crate::verdict::journaled(store);
    // contract R3
    let s = &*store;
    let k = key(s, "counter");
    check_eq(
        &ok(s.insert(&k, doc(s, json!(1))).await, "insert"),
        &Version::new(1),
        "insert on an absent key returns version 1",
    );
    check_eq(
        &ok(
            s.update(&k, Version::new(1), doc(s, json!(2))).await,
            "update",
        ),
        &Version::new(2),
        "update of an item at v1 returns the previous version plus one",
    );
    check_eq(
        &ok(s.put(&k, doc(s, json!(3))).await, "put"),
        &Version::new(3),
        "put on an item at v2 returns the previous version plus one",
    );
    check_eq(
        &ok(s.put(&k, doc(s, json!(3))).await, "put of the same value"),
        &Version::new(4),
        "put of the same value still advances the version by one",
    );
    check_eq(
        &ok(
            s.update(&k, Version::new(4), doc(s, json!(4))).await,
            "update",
        ),
        &Version::new(5),
        "update of an item at v4 returns the previous version plus one",
    );
    assert_item(
        s,
        &k,
        &doc(s, json!(4)),
        Version::new(5),
        "after five writes",
    )
    .await;
    for expected in 6..=30 {
        check_eq(
            &ok(
                s.update(&k, Version::new(expected - 1), doc(s, json!(expected)))
                    .await,
                "update",
            ),
            &Version::new(expected),
            format!(
                "update of an item at v{} returns the previous version plus one",
                expected - 1
            ),
        );
    }
    assert_item(
        s,
        &k,
        &doc(s, json!(30)),
        Version::new(30),
        "after thirty writes",
    )
    .await;
}

/// contract R4: a key that was never written reads as `None`.
pub async fn r4_get_absent_is_none<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R4
    assert_absent(&*store, &key(&*store, "never-written"), "get").await;
}

/// contract R4: a get sees every write that completed before it started.
pub async fn r4_get_sees_every_completed_write<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R4
    let s = &*store;
    let k = key(s, "k");
    let v = ok(s.insert(&k, doc(s, json!("a"))).await, "insert");
    assert_item(s, &k, &doc(s, json!("a")), v, "after insert").await;
    let v = ok(s.update(&k, v, doc(s, json!("b"))).await, "update");
    assert_item(s, &k, &doc(s, json!("b")), v, "after update").await;
    let v = ok(s.put(&k, doc(s, json!("c"))).await, "put");
    assert_item(s, &k, &doc(s, json!("c")), v, "after put").await;
    ok(s.delete(&k, v).await, "delete");
    assert_absent(s, &k, "after delete").await;
    ok(s.put(&k, doc(s, json!("d"))).await, "put");
    ok(s.remove(&k).await, "remove");
    assert_absent(s, &k, "after remove").await;
}

/// contract R5: insert on an absent key creates version 1.
pub async fn r5_insert_absent_gives_version_1<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R5
    let s = &*store;
    let k = key(s, "new");
    check_eq(
        &ok(s.insert(&k, doc(s, json!({"n": 1}))).await, "insert"),
        &Version::FIRST,
        "insert on an absent key returns version 1",
    );
    assert_item(
        s,
        &k,
        &doc(s, json!({"n": 1})),
        Version::FIRST,
        "after insert",
    )
    .await;
}

/// contract R5, R11: insert on a present key is `AlreadyExists` carrying the current item,
/// and changes nothing.
pub async fn r5_insert_present_conflicts_with_current<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R5
    let s = &*store;
    let k = key(s, "taken");
    let v1 = ok(s.insert(&k, doc(s, json!("first"))).await, "insert");
    let v2 = ok(s.update(&k, v1, doc(s, json!("second"))).await, "update");
    let result = s.insert(&k, doc(s, json!("intruder"))).await;
    match &result {
        Err(Error::Conflict {
            operation,
            key: err_key,
            ..
        }) => {
            check_eq(
                operation,
                &Operation::Insert,
                "the conflict error of an insert names the insert operation",
            );
            check_eq(
                &err_key,
                &&k,
                "the conflict error names the key it was refused on",
            );
        }
        other => fail(
            "insert on a present key is refused with Conflict::AlreadyExists carrying the current item",
            format!("insert on a present key: expected a conflict, got {other:?}"),
        ),
    }
    let conflict = conflict_of(result, "insert on a present key");
    assert_exists(
        s.capabilities(),
        &conflict,
        &doc(s, json!("second")),
        v2,
        "insert on a present key",
    );
    assert_item(
        s,
        &k,
        &doc(s, json!("second")),
        v2,
        "after the refused insert",
    )
    .await;
}

/// contract R6: update at the expected version replaces the value and returns expected + 1.
pub async fn r6_update_at_expected_version<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R6
    let s = &*store;
    let k = key(s, "k");
    let v1 = ok(
        s.insert(&k, doc(s, json!({"title": "Dune"}))).await,
        "insert",
    );
    let v2 = ok(
        s.update(&k, v1, doc(s, json!({"title": "Dune", "read": true})))
            .await,
        "update",
    );
    check_eq(
        &v2,
        &Version::new(2),
        "update at the expected version v1 returns expected + 1",
    );
    assert_item(
        s,
        &k,
        &doc(s, json!({"read": true, "title": "Dune"})),
        v2,
        "after update",
    )
    .await;
}

/// contract R6: update of an absent key is `NotFound`, and creates nothing.
pub async fn r6_update_absent_is_not_found<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R6
    let s = &*store;
    let k = key(s, "absent");
    for expected in [Version::UNVERSIONED, Version::FIRST, Version::new(7)] {
        let conflict = conflict_of(
            s.update(&k, expected, doc(s, json!(1))).await,
            "update absent",
        );
        check_eq(
            &conflict,
            &Conflict::NotFound,
            format!("update of an absent key expecting {expected} is Conflict::NotFound"),
        );
        assert_absent(s, &k, "after update of an absent key").await;
    }
    // A deleted item is absent too.
    let v = ok(s.insert(&k, doc(s, json!(1))).await, "insert");
    ok(s.delete(&k, v).await, "delete");
    let conflict = conflict_of(s.update(&k, v, doc(s, json!(2))).await, "update deleted");
    check_eq(
        &conflict,
        &Conflict::NotFound,
        "update of a deleted key is Conflict::NotFound (a deleted item is absent)",
    );
    assert_absent(s, &k, "after update of a deleted key").await;
}

/// contract R6, R11: update expecting an older version is `VersionMismatch` carrying the
/// current item, and changes nothing: the classic lost update, refused.
pub async fn r6_update_stale_version_conflicts<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R6
    let s = &*store;
    let k = key(s, "order");
    let v1 = ok(
        s.insert(&k, doc(s, json!({"deliveries": []}))).await,
        "insert",
    );
    // Two clients read v1; client 2 saves first.
    let v2 = ok(
        s.update(&k, v1, doc(s, json!({"deliveries": ["client 2"]})))
            .await,
        "client 2 saves",
    );
    let conflict = conflict_of(
        s.update(&k, v1, doc(s, json!({"deliveries": ["client 1"]})))
            .await,
        "client 1 saves",
    );
    assert_mismatch(
        s.capabilities(),
        &conflict,
        v1,
        &doc(s, json!({"deliveries": ["client 2"]})),
        v2,
        "stale update",
    );
    assert_item(
        s,
        &k,
        &doc(s, json!({"deliveries": ["client 2"]})),
        v2,
        "client 2's write survives",
    )
    .await;
    // Client 1 re-applies its change to the item the conflict carried, and succeeds.
    let current = conflict
        .current()
        .map(|c| c.version)
        .unwrap_or(Version::UNVERSIONED);
    let v3 = ok(
        s.update(
            &k,
            current,
            doc(s, json!({"deliveries": ["client 2", "client 1"]})),
        )
        .await,
        "retry",
    );
    check_eq(
        &v3,
        &Version::new(3),
        "after a conflict, an update expecting the version the conflict carried succeeds and returns it plus one",
    );
}

/// contract R6: update expecting a version never issued (0, ahead, u64::MAX) is
/// `VersionMismatch`, and changes nothing.
pub async fn r6_update_unissued_version_conflicts<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R6
    let s = &*store;
    let k = key(s, "k");
    let v1 = ok(s.insert(&k, doc(s, json!("v"))).await, "insert");
    for expected in [
        Version::UNVERSIONED,
        Version::new(2),
        Version::new(10),
        Version::new(u64::MAX),
    ] {
        let conflict = conflict_of(
            s.update(&k, expected, doc(s, json!("x"))).await,
            "update unissued",
        );
        assert_mismatch(
            s.capabilities(),
            &conflict,
            expected,
            &doc(s, json!("v")),
            v1,
            &format!("update expecting {expected}"),
        );
    }
    assert_item(s, &k, &doc(s, json!("v")), v1, "after refused updates").await;
}

/// contract R7: delete at the expected version removes the item.
pub async fn r7_delete_at_expected_version<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R7
    let s = &*store;
    let k = key(s, "k");
    let v1 = ok(s.insert(&k, doc(s, json!(1))).await, "insert");
    let v2 = ok(s.update(&k, v1, doc(s, json!(2))).await, "update");
    ok(s.delete(&k, v2).await, "delete at the current version");
    assert_absent(s, &k, "after delete").await;
}

/// contract R7: delete of an absent key is `NotFound`.
pub async fn r7_delete_absent_is_not_found<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R7
    let s = &*store;
    let k = key(s, "absent");
    let conflict = conflict_of(s.delete(&k, Version::FIRST).await, "delete absent");
    check_eq(
        &conflict,
        &Conflict::NotFound,
        "delete of an absent key is Conflict::NotFound",
    );
    let conflict = conflict_of(
        s.delete(&k, Version::UNVERSIONED).await,
        "delete absent expecting 0",
    );
    check_eq(
        &conflict,
        &Conflict::NotFound,
        "delete of an absent key expecting v0 is Conflict::NotFound",
    );
}

/// contract R7, R11: delete expecting another version is `VersionMismatch` carrying the
/// current item, and deletes nothing (the unchecked delete the Java mappers shipped).
pub async fn r7_delete_stale_version_conflicts<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R7
    let s = &*store;
    let k = key(s, "k");
    let v1 = ok(s.insert(&k, doc(s, json!("one"))).await, "insert");
    let v2 = ok(s.update(&k, v1, doc(s, json!("two"))).await, "update");
    for expected in [v1, Version::new(3), Version::UNVERSIONED] {
        let conflict = conflict_of(s.delete(&k, expected).await, "stale delete");
        assert_mismatch(
            s.capabilities(),
            &conflict,
            expected,
            &doc(s, json!("two")),
            v2,
            "stale delete",
        );
    }
    assert_item(s, &k, &doc(s, json!("two")), v2, "after refused deletes").await;
}

/// contract R8: put creates at version 1 and overwrites at previous + 1, never a conflict.
pub async fn r8_put_creates_then_overwrites<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R8
    let s = &*store;
    let k = key(s, "k");
    check_eq(
        &ok(s.put(&k, doc(s, json!("a"))).await, "put absent"),
        &Version::FIRST,
        "put on an absent key creates version 1",
    );
    check_eq(
        &ok(s.put(&k, doc(s, json!("b"))).await, "put present"),
        &Version::new(2),
        "put on an item at v1 overwrites it and returns v2",
    );
    let v3 = ok(
        s.update(&k, Version::new(2), doc(s, json!("c"))).await,
        "update",
    );
    check_eq(
        &ok(s.put(&k, doc(s, json!("d"))).await, "put after update"),
        &v3.next().unwrap_or(v3),
        "put on an item overwrites it and returns the previous version plus one",
    );
    assert_item(s, &k, &doc(s, json!("d")), Version::new(4), "after put").await;
    // A checked writer holding an older version is refused after a put.
    let conflict = conflict_of(
        s.update(&k, v3, doc(s, json!("e"))).await,
        "update after put",
    );
    assert_mismatch(
        s.capabilities(),
        &conflict,
        v3,
        &doc(s, json!("d")),
        Version::new(4),
        "update after put",
    );
}

/// contract R9: remove returns the removed item's version, `None` when there was none, and
/// never conflicts.
pub async fn r9_remove_returns_removed_version<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R9
    let s = &*store;
    let k = key(s, "k");
    check_eq(
        &ok(s.remove(&k).await, "remove absent"),
        &None,
        "remove of an absent key returns None, never a conflict",
    );
    let v1 = ok(s.insert(&k, doc(s, json!(1))).await, "insert");
    let v2 = ok(s.update(&k, v1, doc(s, json!(2))).await, "update");
    check_eq(
        &ok(s.remove(&k).await, "remove present"),
        &Some(v2),
        "remove returns the version of the item it removed",
    );
    assert_absent(s, &k, "after remove").await;
    check_eq(
        &ok(s.remove(&k).await, "remove again"),
        &None,
        "remove of a key already removed returns None, never a conflict",
    );
}

/// contract R11: every conflict of a single operation carries the item as it was when the
/// condition failed; `None` only for `NotFound`.
pub async fn r11_conflicts_carry_current_item<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R11
    let s = &*store;
    let caps = s.capabilities();
    let k = key(s, "k");
    let value = doc(s, json!({"state": "current", "n": [1, 2.5, -3]}));
    let v1 = ok(s.insert(&k, doc(s, json!("old"))).await, "insert");
    let v2 = ok(s.update(&k, v1, value.clone()).await, "update");
    let insert = conflict_of(s.insert(&k, doc(s, json!(0))).await, "insert");
    assert_exists(caps, &insert, &value, v2, "insert conflict");
    let update = conflict_of(s.update(&k, v1, doc(s, json!(0))).await, "update");
    assert_mismatch(caps, &update, v1, &value, v2, "update conflict");
    let delete = conflict_of(s.delete(&k, v1).await, "delete");
    assert_mismatch(caps, &delete, v1, &value, v2, "delete conflict");
    let absent = key(s, "absent");
    check_eq(
        &conflict_of(
            s.update(&absent, v1, doc(s, json!(0))).await,
            "update absent",
        )
        .current(),
        &None,
        "a NotFound conflict of an update carries no item (only NotFound holds none)",
    );
    check_eq(
        &conflict_of(s.delete(&absent, v1).await, "delete absent").current(),
        &None,
        "a NotFound conflict of a delete carries no item (only NotFound holds none)",
    );
}

/// contract R12: a failed operation has no effect: after conflicts and invalid input, the
/// store holds exactly what it held before.
pub async fn r12_failed_operations_change_nothing<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R12
    let s = &*store;
    let a = key(s, "a");
    let b = key(s, "b");
    let va = ok(s.insert(&a, doc(s, json!("a"))).await, "insert a");
    let vb = ok(s.insert(&b, doc(s, json!("b"))).await, "insert b");
    let vb = ok(s.update(&b, vb, doc(s, json!("b2"))).await, "update b");
    let stale = Version::FIRST;
    let _ = conflict_of(s.insert(&a, doc(s, json!("x"))).await, "insert");
    let _ = conflict_of(s.update(&b, stale, doc(s, json!("x"))).await, "update");
    let _ = conflict_of(s.delete(&b, stale).await, "delete");
    let _ = conflict_of(
        s.update(&key(s, "c"), stale, doc(s, json!("x"))).await,
        "update absent",
    );
    let _ = conflict_of(s.delete(&key(s, "c"), stale).await, "delete absent");
    crate::support::assert_invalid(
        s.put(&optimist_core::Key::new(""), doc(s, json!("x")))
            .await,
        "put empty key",
    );
    assert_item(s, &a, &doc(s, json!("a")), va, "a after failed operations").await;
    assert_item(s, &b, &doc(s, json!("b2")), vb, "b after failed operations").await;
    assert_absent(s, &key(s, "c"), "c after failed operations").await;
    // The versions did not move either: the next writes land exactly where expected.
    check_eq(
        &ok(s.update(&a, va, doc(s, json!("a2"))).await, "update a"),
        &Version::new(2),
        "the failed operations moved no version: an update of a at v1 returns v2",
    );
    check_eq(
        &ok(s.update(&b, vb, doc(s, json!("b3"))).await, "update b"),
        &Version::new(3),
        "the failed operations moved no version: an update of b at v2 returns v3",
    );
}

/// contract R15: after a delete, insert starts again at version 1 (documented limit).
pub async fn r15_insert_after_delete_restarts_at_1<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R15
    let s = &*store;
    let k = key(s, "k");
    let v1 = ok(s.insert(&k, doc(s, json!(1))).await, "insert");
    let v2 = ok(s.update(&k, v1, doc(s, json!(2))).await, "update");
    ok(s.delete(&k, v2).await, "delete");
    check_eq(
        &ok(s.insert(&k, doc(s, json!(3))).await, "insert again"),
        &Version::FIRST,
        "insert after a delete starts again at version 1 (no tombstones)",
    );
    let item = must_get(s, &k).await;
    check_eq(
        &item.version,
        &Version::FIRST,
        "the item inserted again after a delete reads at version 1",
    );
    ok(s.remove(&k).await, "remove");
    check_eq(
        &ok(s.put(&k, doc(s, json!(4))).await, "put after remove"),
        &Version::FIRST,
        "put after a remove starts again at version 1 (no tombstones)",
    );
}

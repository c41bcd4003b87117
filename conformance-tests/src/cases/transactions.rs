//! contract R10: transactions.

use std::sync::Arc;

use optimist_core::{Conflict, Error, Key, OpFailure, TxOp, Version, VersionedStore};
use serde_json::json;

use crate::support::{
    assert_absent, assert_exists, assert_invalid, assert_item, assert_mismatch, doc, key, ok,
};
use crate::verdict::{check, check_eq, fail};

/// The failures of a transaction that must be refused.
#[track_caller]
fn failures_of(
    result: optimist_core::Result<Vec<Option<Version>>>,
    context: &str,
) -> Vec<OpFailure> {
    match result {
        Err(Error::TransactionConflict { failures }) => failures,
        other => fail(
            format!(
                "{context}: refused as a whole with TransactionConflict, one entry per failing op"
            ),
            format!("{context}: expected TransactionConflict, got {other:?}"),
        ),
    }
}

/// contract R10: every kind of op in one transaction, each applied, with the documented
/// per-op results.
pub async fn r10_transact_applies_every_op<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R10
    let s = &*store;
    let [new, upd, del, chk, put, rem, put_new, rem_absent] = [
        "new",
        "upd",
        "del",
        "chk",
        "put",
        "rem",
        "put-new",
        "rem-absent",
    ]
    .map(|n| key(s, n));
    let v_upd = ok(s.insert(&upd, doc(s, json!("u1"))).await, "insert");
    let v_del = ok(s.insert(&del, doc(s, json!("d1"))).await, "insert");
    let v_chk = ok(s.insert(&chk, doc(s, json!("c1"))).await, "insert");
    let v_chk = ok(s.update(&chk, v_chk, doc(s, json!("c2"))).await, "update");
    ok(s.insert(&put, doc(s, json!("p1"))).await, "insert");
    ok(s.insert(&rem, doc(s, json!("r1"))).await, "insert");
    let results = ok(
        s.transact(vec![
            TxOp::insert(new.clone(), doc(s, json!("n"))),
            TxOp::update(upd.clone(), v_upd, doc(s, json!("u2"))),
            TxOp::delete(del.clone(), v_del),
            TxOp::check(chk.clone(), v_chk),
            TxOp::put(put.clone(), doc(s, json!("p2"))),
            TxOp::remove(rem.clone()),
            TxOp::put(put_new.clone(), doc(s, json!("pn"))),
            TxOp::remove(rem_absent.clone()),
        ])
        .await,
        "transact",
    );
    let v = |n| Some(Version::new(n));
    check_eq(
        &results,
        &vec![v(1), v(2), None, v(2), v(2), None, v(1), None],
        "one result per op, in order: the new version for insert, update and put, the checked version for check, None for delete and remove",
    );
    assert_item(s, &new, &doc(s, json!("n")), Version::new(1), "inserted").await;
    assert_item(s, &upd, &doc(s, json!("u2")), Version::new(2), "updated").await;
    assert_absent(s, &del, "deleted").await;
    assert_item(
        s,
        &chk,
        &doc(s, json!("c2")),
        Version::new(2),
        "checked, left alone",
    )
    .await;
    assert_item(s, &put, &doc(s, json!("p2")), Version::new(2), "put").await;
    assert_absent(s, &rem, "removed").await;
    assert_item(
        s,
        &put_new,
        &doc(s, json!("pn")),
        Version::new(1),
        "put new",
    )
    .await;
    assert_absent(s, &rem_absent, "removed absent").await;
}

/// contract R10, R12: when one condition fails, no op is applied, whatever its position.
pub async fn r10_transact_failure_applies_nothing<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R10
    let s = &*store;
    let a = key(s, "a");
    let b = key(s, "b");
    let c = key(s, "c");
    let fresh = key(s, "fresh");
    let va = ok(s.insert(&a, doc(s, json!("a"))).await, "insert a");
    let vb = ok(s.insert(&b, doc(s, json!("b"))).await, "insert b");
    let vc = ok(s.insert(&c, doc(s, json!("c"))).await, "insert c");
    let stale = Version::new(9);
    let failing: Vec<(&str, TxOp)> = vec![
        (
            "stale update",
            TxOp::update(c.clone(), stale, doc(s, json!("x"))),
        ),
        ("stale delete", TxOp::delete(c.clone(), stale)),
        ("stale check", TxOp::check(c.clone(), stale)),
        (
            "insert present",
            TxOp::insert(c.clone(), doc(s, json!("x"))),
        ),
        (
            "update absent",
            TxOp::update(key(s, "absent"), Version::FIRST, doc(s, json!("x"))),
        ),
        (
            "check absent",
            TxOp::check(key(s, "absent"), Version::FIRST),
        ),
    ];
    for (what, bad) in failing {
        for position in 0..=4 {
            let mut ops = vec![
                TxOp::update(a.clone(), va, doc(s, json!("a changed"))),
                TxOp::delete(b.clone(), vb),
                TxOp::insert(fresh.clone(), doc(s, json!("fresh"))),
                TxOp::put(key(s, "put"), doc(s, json!("put"))),
            ];
            ops.insert(position, bad.clone());
            let failures = failures_of(s.transact(ops).await, what);
            check_eq(
                &failures.len(),
                &1,
                format!(
                    "{what} at position {position}: TransactionConflict with exactly one entry, for the one failing op"
                ),
            );
            check_eq(
                &failures[0].index,
                &position,
                format!("{what}: the entry names the failing op's index"),
            );
            assert_item(s, &a, &doc(s, json!("a")), va, what).await;
            assert_item(s, &b, &doc(s, json!("b")), vb, what).await;
            assert_item(s, &c, &doc(s, json!("c")), vc, what).await;
            assert_absent(s, &fresh, what).await;
            assert_absent(s, &key(s, "put"), what).await;
            assert_absent(s, &key(s, "absent"), what).await;
        }
    }
}

/// contract R10, R11: a refused transaction reports every failing op, in op order, each
/// with its index and the same conflict, current item included, a single op would give.
pub async fn r10_transact_reports_each_failing_op<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R10
    let s = &*store;
    let caps = s.capabilities().clone();
    let [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map(|n| key(s, n));
    let va = ok(s.insert(&a, doc(s, json!("a"))).await, "insert");
    let vb = ok(s.insert(&b, doc(s, json!("b"))).await, "insert");
    let vb2 = ok(s.update(&b, vb, doc(s, json!("b2"))).await, "update");
    let vc = ok(s.insert(&c, doc(s, json!("c"))).await, "insert");
    // Ops 0, 1, 3 and 5 fail: AlreadyExists, VersionMismatch, NotFound, NotFound.
    let failures = failures_of(
        s.transact(vec![
            TxOp::insert(a.clone(), doc(s, json!("x"))),
            TxOp::update(b.clone(), vb, doc(s, json!("x"))),
            TxOp::check(c.clone(), vc),
            TxOp::delete(d.clone(), Version::FIRST),
            TxOp::put(e.clone(), doc(s, json!("e"))),
            TxOp::check(key(s, "f"), Version::FIRST),
        ])
        .await,
        "transaction with failing ops",
    );
    let indexes: Vec<usize> = failures.iter().map(|f| f.index).collect();
    check_eq(
        &indexes,
        &vec![0, 1, 3, 5],
        "TransactionConflict with one entry per failing op, in op order (indexes)",
    );
    check_eq(&failures[0].key, &a, "the entry of op 0 names its key");
    assert_exists(
        &caps,
        &failures[0].conflict,
        &doc(s, json!("a")),
        va,
        "op 0",
    );
    check_eq(&failures[1].key, &b, "the entry of op 1 names its key");
    assert_mismatch(
        &caps,
        &failures[1].conflict,
        vb,
        &doc(s, json!("b2")),
        vb2,
        "op 1",
    );
    check_eq(&failures[2].key, &d, "the entry of op 3 names its key");
    check_eq(
        &failures[2].conflict,
        &Conflict::NotFound,
        "op 3 (delete of an absent key) fails with the conflict it would alone: Conflict::NotFound",
    );
    check_eq(
        &failures[3].conflict,
        &Conflict::NotFound,
        "op 5 (check of an absent key) fails with the conflict it would alone: Conflict::NotFound",
    );
    assert_absent(s, &e, "the put of a refused transaction").await;
}

/// contract R10: a transaction of exactly `max_transaction_ops` ops (at least 25) succeeds.
pub async fn r10_transact_accepts_max_ops<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R10
    let s = &*store;
    let max = s.capabilities().max_transaction_ops;
    check(
        max >= 25,
        "a transaction of exactly `max_transaction_ops` ops (at least 25) succeeds",
        || {
            format!(
                "every backend supports at least 25 ops per transaction, this one declares {max}"
            )
        },
    );
    let keys: Vec<Key> = (0..max).map(|i| key(s, &format!("k{i}"))).collect();
    let ops = keys
        .iter()
        .map(|k| TxOp::insert(k.clone(), doc(s, json!(k.partition()))))
        .collect();
    let results = ok(s.transact(ops).await, "transaction of max ops");
    check_eq(
        &results,
        &vec![Some(Version::FIRST); max],
        "a transaction of max_transaction_ops inserts returns version 1 for each op",
    );
    let ops = keys
        .iter()
        .map(|k| TxOp::update(k.clone(), Version::FIRST, doc(s, json!(2))))
        .collect();
    let results = ok(s.transact(ops).await, "transaction of max updates");
    check_eq(
        &results,
        &vec![Some(Version::new(2)); max],
        "a transaction of max_transaction_ops updates returns version 2 for each op",
    );
    for k in &keys {
        assert_item(
            s,
            k,
            &doc(s, json!(2)),
            Version::new(2),
            "after max updates",
        )
        .await;
    }
}

/// contract R10: an empty list, a key twice, too many ops or an invalid op are
/// `InvalidInput`, and nothing is written.
pub async fn r10_transact_invalid_input_writes_nothing<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R10
    let s = &*store;
    let a = key(s, "a");
    let b = key(s, "b");
    let va = ok(s.insert(&a, doc(s, json!("a"))).await, "insert");
    let max = s.capabilities().max_transaction_ops;
    let put_b = || TxOp::put(b.clone(), doc(s, json!("b")));
    let cases: Vec<(&str, Vec<TxOp>)> = vec![
        ("no ops", vec![]),
        (
            "a key twice",
            vec![
                put_b(),
                TxOp::update(a.clone(), va, doc(s, json!(1))),
                TxOp::check(a.clone(), va),
            ],
        ),
        ("a key twice, both puts", vec![put_b(), put_b()]),
        (
            "one op over the limit",
            std::iter::once(put_b())
                .chain((0..max).map(|i| TxOp::put(key(s, &format!("k{i}")), doc(s, json!(i)))))
                .collect(),
        ),
        (
            "an empty key",
            vec![put_b(), TxOp::put(Key::new(""), doc(s, json!(1)))],
        ),
        (
            "a key part over 1024 bytes",
            vec![put_b(), TxOp::remove(Key::new("x".repeat(1025)))],
        ),
        (
            "a value over the size limit",
            vec![
                put_b(),
                TxOp::put(
                    key(s, "big"),
                    super::values::sized(
                        s.capabilities(),
                        &key(s, "big"),
                        s.capabilities().max_item_bytes + 1,
                    ),
                ),
            ],
        ),
    ];
    for (what, ops) in cases {
        assert_invalid(s.transact(ops).await, what);
        assert_absent(s, &b, what).await;
        assert_absent(s, &key(s, "k0"), what).await;
        assert_item(s, &a, &doc(s, json!("a")), va, what).await;
    }
}

/// contract R10: on a store that runs a transaction within one partition
/// (`Capabilities::transactions_span_partitions` false), a transaction whose keys span
/// partitions is `InvalidInput` and writes nothing, while one within a partition
/// applies every op.
pub async fn r10_transact_spanning_partitions_is_refused_where_declared<
    S: VersionedStore + 'static,
>(
    store: Arc<S>,
) {
    // contract R10
    let store = crate::verdict::journaled(store);
    let s = &*store;
    let a = Key::with_sort("left", "a");
    let c = Key::with_sort("left", "c");
    let b = Key::with_sort("right", "b");
    let va = ok(s.insert(&a, doc(s, json!("a"))).await, "insert a");
    let across = vec![
        TxOp::update(a.clone(), va, doc(s, json!("a2"))),
        TxOp::put(b.clone(), doc(s, json!("b"))),
    ];
    assert_invalid(s.transact(across).await, "two partitions");
    assert_item(s, &a, &doc(s, json!("a")), va, "two partitions").await;
    assert_absent(s, &b, "two partitions").await;
    let within = vec![
        TxOp::update(a.clone(), va, doc(s, json!("a2"))),
        TxOp::insert(c.clone(), doc(s, json!("c"))),
    ];
    let versions = ok(s.transact(within).await, "one partition");
    let va2 = Version::new(va.get() + 1);
    check_eq(
        &versions,
        &vec![Some(va2), Some(Version::FIRST)],
        "a transaction within one partition applies: the updated item's next version, version 1 for the insert",
    );
    assert_item(s, &a, &doc(s, json!("a2")), va2, "one partition").await;
    assert_item(s, &c, &doc(s, json!("c")), Version::FIRST, "one partition").await;
}

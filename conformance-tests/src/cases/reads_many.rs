//! contract R16: `get_many` answers, in the order asked, each key's item with its version
//! or `None`, each reflecting every write completed before the call; bad input is
//! `InvalidInput`.

use std::sync::Arc;

use optimist_core::{Error, Key, Value, Version, Versioned, VersionedStore};
use serde_json::json;

use crate::support::{assert_invalid, assert_same_value, doc, key, ok};
use crate::verdict::{check, check_eq, fail};

/// Panics unless `answer` holds, for each key asked, what `expected` says, in order.
#[track_caller]
fn assert_answer<S: VersionedStore + ?Sized>(
    store: &S,
    asked: &[Key],
    answer: &[Option<Versioned<Value>>],
    expected: &[Option<(Value, Version)>],
    context: &str,
) {
    check_eq(
        &answer.len(),
        &asked.len(),
        format!("{context}: get_many answers one entry per key asked"),
    );
    for (index, ((key, got), want)) in asked.iter().zip(answer).zip(expected).enumerate() {
        match (got, want) {
            (None, None) => {}
            (Some(item), Some((value, version))) => {
                check_eq(
                    &item.version,
                    version,
                    format!(
                        "{context}: entry {index} ({key}) is that key's item at its version, in the order asked"
                    ),
                );
                assert_same_value(
                    store.capabilities(),
                    &item.value,
                    value,
                    &format!("{context}: entry {index} ({key})"),
                );
            }
            (got, want) => fail(
                format!(
                    "{context}: entry {index} is the item of {key}, the key asked at that \
                     position, or None: {want:?}"
                ),
                format!("{got:?}"),
            ),
        }
    }
}

/// contract R16: the items come in the order the keys were asked (not the store's key
/// order), `None` where a key holds nothing, each with its version.
pub async fn r16_get_many_answers_in_the_order_asked<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R16
    let s = &*store;
    let mut present = Vec::new();
    // Distinct versions and values per key, so an entry answered in another key's
    // place cannot pass.
    for (n, name) in ["m", "a", "z", "c", "é", "Z"].into_iter().enumerate() {
        let k = key(s, &format!("many-{name}"));
        let mut version = ok(s.insert(&k, doc(s, json!({ "n": n }))).await, "insert");
        for step in 0..n {
            let value = doc(s, json!({ "n": n, "step": step }));
            version = ok(s.update(&k, version, value).await, "update");
        }
        let value = ok(s.get(&k).await, "get").map(|item| item.value);
        present.push((k, value.unwrap_or(Value::Null), version));
    }
    let absent = |name: &str| key(s, &format!("many-absent-{name}"));
    let by_name = |i: usize| present[i].clone();
    // Not in key order in any direction: absent keys between and at both ends.
    let order: Vec<Option<usize>> = vec![
        None,
        Some(2),
        Some(0),
        None,
        Some(4),
        Some(1),
        Some(5),
        None,
        Some(3),
    ];
    let mut asked = Vec::new();
    let mut expected = Vec::new();
    for (slot, entry) in order.iter().enumerate() {
        match entry {
            Some(i) => {
                let (k, value, version) = by_name(*i);
                asked.push(k);
                expected.push(Some((value, version)));
            }
            None => {
                asked.push(absent(&slot.to_string()));
                expected.push(None);
            }
        }
    }
    let answer = ok(s.get_many(&asked).await, "get_many");
    assert_answer(s, &asked, &answer, &expected, "mixed order");

    // The same keys reversed, then one key alone.
    asked.reverse();
    expected.reverse();
    let answer = ok(s.get_many(&asked).await, "get_many reversed");
    assert_answer(s, &asked, &answer, &expected, "reversed order");
    let one = [asked[1].clone()];
    let answer = ok(s.get_many(&one).await, "get_many of one key");
    assert_answer(s, &one, &answer, &expected[1..2], "one key");
}

/// contract R16: every write completed before the call is seen: updates, deletes and
/// removes, and items inserted again after a delete.
pub async fn r16_get_many_sees_every_completed_write<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R16 R4
    let s = &*store;
    let keys: Vec<Key> = (0..5).map(|i| key(s, &format!("seen-{i}"))).collect();
    let mut versions = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        versions.push(ok(s.insert(k, doc(s, json!(i))).await, "insert"));
    }
    let before = ok(s.get_many(&keys).await, "get_many after the inserts");
    check(
        before.iter().all(Option::is_some),
        "the setup inserted every key (a precondition of the case)",
        || "every key was inserted".to_string(),
    );

    let updated = ok(
        s.update(&keys[0], versions[0], doc(s, json!("updated")))
            .await,
        "update",
    );
    ok(s.delete(&keys[1], versions[1]).await, "delete");
    ok(s.remove(&keys[2]).await, "remove");
    let put = ok(s.put(&keys[3], doc(s, json!("put"))).await, "put");
    ok(s.remove(&keys[4]).await, "remove");
    let again = ok(
        s.insert(&keys[4], doc(s, json!("again"))).await,
        "insert again",
    );

    let answer = ok(s.get_many(&keys).await, "get_many after the writes");
    let expected = vec![
        Some((doc(s, json!("updated")), updated)),
        None,
        None,
        Some((doc(s, json!("put")), put)),
        Some((doc(s, json!("again")), again)),
    ];
    assert_answer(s, &keys, &answer, &expected, "after the writes");
}

/// contract R16: exactly the declared maximum of keys is accepted, each answered.
pub async fn r16_get_many_accepts_the_declared_maximum<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R16
    let s = &*store;
    let max = s.capabilities().max_get_many;
    check(
        max >= 1,
        "the store declares max_get_many of at least 1",
        || format!("max_get_many must be at least 1, is {max}"),
    );
    let keys: Vec<Key> = (0..max).map(|i| key(s, &format!("max-{i:04}"))).collect();
    // Every third key holds an item; the rest are absent.
    let mut expected = Vec::with_capacity(max);
    for (i, k) in keys.iter().enumerate() {
        if i % 3 == 0 {
            let value = doc(s, json!(i));
            let version = ok(s.insert(k, value.clone()).await, "insert");
            expected.push(Some((value, version)));
        } else {
            expected.push(None);
        }
    }
    // Asked from the last key to the first.
    let mut asked = keys.clone();
    asked.reverse();
    expected.reverse();
    let answer = ok(s.get_many(&asked).await, "get_many of the maximum");
    assert_answer(s, &asked, &answer, &expected, "the declared maximum");
}

/// contract R16: an empty list, more keys than declared, a key asked twice and a bad key
/// are each `InvalidInput` naming the problem; nothing is written.
pub async fn r16_get_many_bad_input_is_rejected<S: VersionedStore + 'static>(store: Arc<S>) {
    let store = crate::verdict::journaled(store);
    // contract R16
    let s = &*store;
    let max = s.capabilities().max_get_many;
    let reason_of = |result: optimist_core::Result<Vec<Option<Versioned<Value>>>>,
                     context: &str| match result {
        Err(Error::InvalidInput { reason, .. }) => reason,
        other => fail(
            "get_many of an empty list is InvalidInput naming the problem",
            format!("{context}: expected InvalidInput, got {other:?}"),
        ),
    };
    let empty = reason_of(s.get_many(&[]).await, "no keys");
    check(
        !empty.is_empty(),
        "the InvalidInput reason of an empty list names the problem",
        || "the reason names the problem".to_string(),
    );

    let too_many: Vec<Key> = (0..=max).map(|i| key(s, &format!("over-{i}"))).collect();
    let reason = reason_of(s.get_many(&too_many).await, "one key over the maximum");
    check(
        reason.contains(&max.to_string()),
        "get_many of more keys than max_get_many is InvalidInput naming the maximum",
        || format!("the reason {reason:?} names the limit {max}"),
    );

    let (a, b) = (key(s, "dup-a"), key(s, "dup-b"));
    ok(s.insert(&a, doc(s, json!(1))).await, "insert");
    let reason = reason_of(
        s.get_many(&[a.clone(), b.clone(), a.clone()]).await,
        "a key asked twice",
    );
    check(
        reason.contains("more than once"),
        "get_many of a key asked twice is InvalidInput saying it is asked more than once",
        || format!("the reason {reason:?} says a key was asked more than once"),
    );
    assert_invalid(
        s.get_many(&[a.clone(), Key::new("")]).await,
        "a key with an empty part",
    );
    let answer = ok(s.get_many(&[b, a]).await, "get_many after the refusals");
    check(
        answer[0].is_none(),
        "the refused get_many wrote nothing: the fresh key is still absent",
        || format!("nothing was written: {answer:?}"),
    );
    check_eq(
        &answer[1].as_ref().map(|item| item.version),
        &Some(Version::FIRST),
        "nothing was written over the item",
    );
}

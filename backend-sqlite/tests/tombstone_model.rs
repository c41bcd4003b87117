//! Tombstone mode against the reference: random sequences of every operation on a few
//! keys, run on a SQLite store and on the memory store, both in tombstone mode, must get
//! the same answer at every step (versions, items, conflicts with their current item,
//! every failing op of a transaction).
//!
//! The conformance suite's model restarts a key at 1 after a delete, so its model-based
//! cases are ignored in tombstone mode (see `tests/conformance.rs`); the memory store is
//! the model here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use optimist_core::{
    Capabilities, Conflict, Error, Key, OpFailure, TxOp, Version, Versioned, VersionedStore,
};
use optimist_memory::MemoryStore;
use optimist_sqlite::SqliteStore;
use proptest::prelude::*;
use serde_json::{Value, json};

const KEYS: usize = 3;

#[derive(Clone, Debug)]
enum Act {
    Insert(u8),
    Update(u64, u8),
    Delete(u64),
    Put(u8),
    Remove,
    Check(u64),
}

#[derive(Clone, Debug)]
enum Op {
    Get(usize),
    Single(usize, Act),
    /// Acts on distinct keys.
    Transact(Vec<(usize, Act)>),
}

/// Everything a caller can see of an answer.
#[derive(Debug, PartialEq)]
enum Answer {
    Got(Option<Versioned<Value>>),
    Version(Version),
    Deleted,
    Removed(Option<Version>),
    Committed(Vec<Option<Version>>),
    Conflict(Conflict),
    TransactionConflict(Vec<OpFailure>),
}

fn act() -> impl Strategy<Value = Act> {
    // Versions 0..=6: current, stale, and not yet issued ones.
    prop_oneof![
        any::<u8>().prop_map(Act::Insert),
        (0..=6u64, any::<u8>()).prop_map(|(v, x)| Act::Update(v, x)),
        (0..=6u64).prop_map(Act::Delete),
        any::<u8>().prop_map(Act::Put),
        Just(Act::Remove),
        (0..=6u64).prop_map(Act::Check),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0..KEYS).prop_map(Op::Get),
        4 => (0..KEYS, act())
            .prop_filter("a check runs only in a transaction", |(_, a)| {
                !matches!(a, Act::Check(_))
            })
            .prop_map(|(k, a)| Op::Single(k, a)),
        2 => proptest::collection::vec(act(), 1..=KEYS).prop_map(|acts| {
            Op::Transact(acts.into_iter().enumerate().collect())
        }),
    ]
}

fn key(n: usize) -> Key {
    Key::new(format!("k{n}"))
}

fn tx_op(k: usize, act: &Act) -> TxOp {
    let (key, value) = (key(k), |x: &u8| json!(x));
    match act {
        Act::Insert(x) => TxOp::insert(key, value(x)),
        Act::Update(v, x) => TxOp::update(key, Version::new(*v), value(x)),
        Act::Delete(v) => TxOp::delete(key, Version::new(*v)),
        Act::Put(x) => TxOp::put(key, value(x)),
        Act::Remove => TxOp::remove(key),
        Act::Check(v) => TxOp::check(key, Version::new(*v)),
    }
}

async fn run<S: VersionedStore>(store: &S, op: &Op) -> Answer {
    let answer = match op {
        Op::Get(k) => store.get(&key(*k)).await.map(Answer::Got),
        Op::Single(k, act) => {
            let key = key(*k);
            match act {
                Act::Insert(x) => store.insert(&key, json!(x)).await.map(Answer::Version),
                Act::Update(v, x) => store
                    .update(&key, Version::new(*v), json!(x))
                    .await
                    .map(Answer::Version),
                Act::Delete(v) => store
                    .delete(&key, Version::new(*v))
                    .await
                    .map(|()| Answer::Deleted),
                Act::Put(x) => store.put(&key, json!(x)).await.map(Answer::Version),
                Act::Remove => store.remove(&key).await.map(Answer::Removed),
                Act::Check(_) => unreachable!("filtered out"),
            }
        }
        Op::Transact(acts) => store
            .transact(acts.iter().map(|(k, a)| tx_op(*k, a)).collect())
            .await
            .map(Answer::Committed),
    };
    match answer {
        Ok(answer) => answer,
        Err(Error::Conflict { conflict, .. }) => Answer::Conflict(conflict),
        Err(Error::TransactionConflict { failures }) => Answer::TransactionConflict(failures),
        Err(other) => panic!("{op:?}: unexpected error {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_answers_like_the_memory_store(ops in proptest::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let sqlite = SqliteStore::builder().tombstones(true).build().await.unwrap();
            let memory = MemoryStore::with_capabilities(Capabilities::new().with_tombstones(true));
            for (step, op) in ops.iter().enumerate() {
                let expected = run(&memory, op).await;
                let answered = run(&sqlite, op).await;
                prop_assert_eq!(answered, expected, "step {}: {:?}", step, op);
            }
            for k in 0..KEYS {
                prop_assert_eq!(sqlite.get(&key(k)).await.unwrap(), memory.get(&key(k)).await.unwrap());
            }
            Ok(())
        })?;
    }
}

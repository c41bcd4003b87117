//! contract R3–R12, R16–R18 (model-based property): random sequences of operations on three
//! or four keys, every operation including transactions, `get_many`, paged queries and
//! scans, and bad input, with expected versions
//! that are current, stale or never issued, run against the store and the
//! [`model`](crate::model) side by side. After every step the answer and the whole state
//! must match the model's. A failure prints the shrunk sequence, step by step.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use optimist_core::{Key, VersionedStore};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

use crate::env;
use crate::history::{Observed, execute, item_of};
use crate::model::{self, Act, MKey, MRange, Op, State};
use crate::support::key;
use crate::verdict::fail;

/// An expected version, chosen relative to the item's version when the step runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The item's version (1 if absent).
    Current,
    /// `n + 1` below it (0 at the bottom, a version never issued).
    Stale(u8),
    /// `n + 1` above it: never issued yet.
    Ahead(u8),
    /// Version 0.
    Zero,
    /// `u64::MAX`.
    Max,
}

impl fmt::Debug for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Current => f.write_str("current"),
            Expect::Stale(n) => write!(f, "current-{}", u16::from(*n) + 1),
            Expect::Ahead(n) => write!(f, "current+{}", u16::from(*n) + 1),
            Expect::Zero => f.write_str("v0"),
            Expect::Max => f.write_str("vMAX"),
        }
    }
}

/// What a step does to one key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Get,
    Insert,
    Update(Expect),
    Delete(Expect),
    Check(Expect),
    Put,
    Remove,
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Get => f.write_str("get"),
            Action::Insert => f.write_str("insert"),
            Action::Update(e) => write!(f, "update@{e:?}"),
            Action::Delete(e) => write!(f, "delete@{e:?}"),
            Action::Check(e) => write!(f, "check@{e:?}"),
            Action::Put => f.write_str("put"),
            Action::Remove => f.write_str("remove"),
        }
    }
}

/// One generated step: a single operation, a transaction, or a read of several keys
/// (contract R16–R18).
#[derive(Clone, PartialEq, Eq)]
enum Step {
    One(MKey, Action),
    Transact(Vec<(MKey, Action)>),
    GetMany(Vec<MKey>),
    Query(MRange, bool, usize),
    /// A scan in pages of the store's largest size, or of 0 (`InvalidInput`) when
    /// false: the store holds every earlier sequence's keys too, so small pages would
    /// cost a page per key (the scan cases page in small steps).
    Scan(bool),
}

/// Which reads beyond one key the store takes, so the steps include them.
#[derive(Clone, Copy, Debug)]
struct Reads {
    query: bool,
    scan: bool,
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::One(k, a) => write!(f, "{a:?}({k})"),
            Step::Transact(ops) => {
                f.write_str("transact[")?;
                for (i, (k, a)) in ops.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a:?}({k})")?;
                }
                f.write_str("]")
            }
            Step::GetMany(keys) => {
                f.write_str("get_many[")?;
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}")?;
                }
                f.write_str("]")
            }
            Step::Query(range, descending, limit) => {
                let order = if *descending { ", desc" } else { "" };
                write!(f, "query({range}{order}, limit {limit})")
            }
            Step::Scan(true) => f.write_str("scan"),
            Step::Scan(false) => f.write_str("scan(limit 0)"),
        }
    }
}

fn expect() -> impl Strategy<Value = Expect> {
    prop_oneof![
        5 => Just(Expect::Current),
        2 => (0u8..3).prop_map(Expect::Stale),
        2 => (0u8..3).prop_map(Expect::Ahead),
        1 => Just(Expect::Zero),
        1 => Just(Expect::Max),
    ]
}

fn mkey(keys: usize) -> impl Strategy<Value = MKey> {
    prop_oneof![
        12 => (0..keys).prop_map(MKey::Slot),
        1 => Just(MKey::Empty),
    ]
}

fn single_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        2 => Just(Action::Get),
        2 => Just(Action::Insert),
        4 => expect().prop_map(Action::Update),
        2 => expect().prop_map(Action::Delete),
        2 => Just(Action::Put),
        1 => Just(Action::Remove),
    ]
}

fn tx_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        2 => Just(Action::Insert),
        4 => expect().prop_map(Action::Update),
        2 => expect().prop_map(Action::Delete),
        2 => expect().prop_map(Action::Check),
        2 => Just(Action::Put),
        1 => Just(Action::Remove),
    ]
}

/// A page limit: mostly 1 to 3, so reads take several pages; sometimes 0 (InvalidInput).
fn limit() -> impl Strategy<Value = usize> {
    prop_oneof![9 => 1usize..=3, 1 => Just(0usize)]
}

fn range(keys: usize) -> impl Strategy<Value = MRange> {
    prop_oneof![
        Just(MRange::All),
        (0..keys).prop_map(MRange::Prefix),
        (0..keys, 0..keys).prop_map(|(a, b)| MRange::Between(a, b)),
        (0..keys).prop_map(MRange::After),
        (0..keys).prop_map(MRange::Before),
    ]
}

fn step(keys: usize, transactions: bool, reads: Reads) -> BoxedStrategy<Step> {
    let one = (mkey(keys), single_action()).prop_map(|(k, a)| Step::One(k, a));
    // Up to four keys: they may repeat (InvalidInput), an empty list is InvalidInput too.
    let many = prop::collection::vec(mkey(keys), 0..=4).prop_map(Step::GetMany);
    let query = (range(keys), any::<bool>(), limit()).prop_map(|(r, d, l)| Step::Query(r, d, l));
    let scan = prop_oneof![9 => Just(Step::Scan(true)), 1 => Just(Step::Scan(false))];
    let tx = prop::collection::vec((mkey(keys), tx_action()), 0..=4).prop_map(Step::Transact);
    let choices = [
        (6, true, one.boxed()),
        (4, transactions, tx.boxed()),
        (1, true, many.boxed()),
        (1, reads.query, query.boxed()),
        (1, reads.scan, scan.boxed()),
    ];
    let kept: Vec<(u32, BoxedStrategy<Step>)> = choices
        .into_iter()
        .filter(|(_, on, _)| *on)
        .map(|(weight, _, strategy)| (weight, strategy))
        .collect();
    prop::strategy::Union::new_weighted(kept).boxed()
}

fn sequence(transactions: bool, reads: Reads) -> impl Strategy<Value = (usize, Vec<Step>)> {
    let steps = env::model_steps();
    (3usize..=4).prop_flat_map(move |keys| {
        (
            Just(keys),
            prop::collection::vec(step(keys, transactions, reads), 1..=steps),
        )
    })
}

fn resolve(expect: Expect, state: &State, key: MKey) -> u64 {
    let current = state.item(key).map_or(1, |i| i.version);
    match expect {
        Expect::Current => current,
        Expect::Stale(n) => current.saturating_sub(u64::from(n) + 1),
        Expect::Ahead(n) => current.saturating_add(u64::from(n) + 1),
        Expect::Zero => 0,
        Expect::Max => u64::MAX,
    }
}

fn act(action: Action, state: &State, key: MKey, value: u64) -> Act {
    match action {
        Action::Insert => Act::Insert(value),
        Action::Update(e) => Act::Update {
            expected: resolve(e, state, key),
            value,
        },
        Action::Delete(e) => Act::Delete {
            expected: resolve(e, state, key),
        },
        Action::Check(e) => Act::Check {
            expected: resolve(e, state, key),
        },
        Action::Put => Act::Put(value),
        Action::Get | Action::Remove => Act::Remove,
    }
}

/// The model op of a step in `state`; values are numbered from `next_value`.
fn to_op(step: &Step, state: &State, next_value: &mut u64, max_page: usize) -> Op {
    let mut value = || {
        *next_value += 1;
        *next_value
    };
    match step {
        Step::One(k, Action::Get) => Op::Get(*k),
        Step::One(k, a) => Op::Write(*k, act(*a, state, *k, value())),
        Step::Transact(ops) => Op::Transact(
            ops.iter()
                .map(|(k, a)| (*k, act(*a, state, *k, value())))
                .collect(),
        ),
        Step::GetMany(keys) => Op::GetMany(keys.clone()),
        Step::Query(range, descending, limit) => Op::Query {
            range: *range,
            descending: *descending,
            limit: *limit,
        },
        Step::Scan(valid) => Op::Scan {
            limit: if *valid { max_page } else { 0 },
        },
    }
}

/// A fresh key namespace per sequence, so sequences share one store.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

async fn run_sequence<S: VersionedStore + ?Sized>(
    store: &S,
    keys: usize,
    steps: &[Step],
) -> Result<(), TestCaseError> {
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let nonce = crate::rng::SplitMix64::fresh_seed() % 1_000_000;
    // Where queries run, the keys share one partition with sort parts k0 < k1 < ...
    let queries = crate::Feature::Query.supported_by(store.capabilities());
    let real: Vec<Key> = (0..keys)
        .map(|i| {
            if queries {
                Key::with_sort(format!("model-{nonce}-{n}"), format!("k{i}"))
            } else {
                key(store, &format!("model-{nonce}-{n}-k{i}"))
            }
        })
        .collect();
    let tombstones = store.capabilities().tombstones;
    let mut state = State::empty(keys).with_tombstones(tombstones);
    let mut next_value = 0;
    let mut trace = String::new();
    for (i, step) in steps.iter().enumerate() {
        let op = to_op(
            step,
            &state,
            &mut next_value,
            store.capabilities().max_page_size,
        );
        let (expected_state, expected) = model::apply(&state, &op);
        let mut observed = execute(store, &real, &op).await;
        // A retryable backend error applied nothing: the step may simply be retried.
        for _ in 0..20 {
            if !matches!(observed, Observed::Failed(_)) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            observed = execute(store, &real, &op).await;
        }
        trace.push_str(&format!("  {i:>2}. {op}  =>  store: {}", show(&observed)));
        if observed != Observed::Answered(expected.clone()) {
            return Err(TestCaseError::fail(format!(
                "step {i} answered differently from the model\n{trace}   <- model: {expected}\n  \
                 state before the step: {state}"
            )));
        }
        trace.push('\n');
        state = expected_state;
        let mut seen = State::empty(keys);
        // Tombstones are not visible to reads; the model's stay as they are.
        seen.tombstones = state.tombstones.clone();
        for (slot, k) in real.iter().enumerate() {
            match store.get(k).await {
                Ok(item) => seen.items[slot] = item.as_ref().map(item_of),
                Err(err) => {
                    return Err(TestCaseError::fail(format!(
                        "after step {i}, get k{slot} failed: {err}\n{trace}"
                    )));
                }
            }
        }
        if seen != state {
            return Err(TestCaseError::fail(format!(
                "after step {i} the store holds {seen}, the model {state}\n{trace}"
            )));
        }
    }
    Ok(())
}

fn show(observed: &Observed) -> String {
    match observed {
        Observed::Answered(o) => o.to_string(),
        Observed::Indeterminate => "Indeterminate".to_string(),
        Observed::Cancelled => "cancelled".to_string(),
        Observed::Failed(why) | Observed::Unexpected(why) => format!("error: {why}"),
    }
}

async fn model_property<S: VersionedStore + 'static>(store: Arc<S>, transactions: bool) {
    let handle = tokio::runtime::Handle::current();
    let context = crate::runner::context();
    tokio::task::block_in_place(|| {
        let mut runner = TestRunner::new(crate::property::config(&context));
        let caps = store.capabilities();
        let reads = Reads {
            query: crate::Feature::Query.supported_by(caps),
            scan: crate::Feature::Scan.supported_by(caps),
        };
        let result = runner.run(&sequence(transactions, reads), |(keys, steps)| {
            handle.block_on(run_sequence(&*store, keys, &steps))
        });
        if let Err(failure) = result {
            fail(
                "every step answers, and leaves the store, as the sequential model of the \
                 contract does (R3-R12, R16-R18)",
                format!(
                    "the store departs from the model; shrunk sequence and what each step answered:\n{failure}"
                ),
            );
        }
    });
}

/// contract R3–R9, R11, R12, R16–R18 (model-based property): random single operations on
/// 3–4 keys, with current, stale and never-issued expected versions and invalid keys,
/// mixed with `get_many` (keys in any order, repeated, none) and, where the store takes
/// them, queries of every range kind read to their end in pages of 0 to 3 and scans,
/// give the model's answer (version, conflict kind and item, items in order,
/// `InvalidInput`) and leave the model's state, step after step.
pub async fn model_operations_match_the_model<S: VersionedStore + 'static>(store: Arc<S>) {
    // contract R3 R4 R5 R6 R7 R8 R9 R11 R12 R16 R17 R18
    model_property(store, false).await;
}

/// contract R10 (model-based property): the same with transactions mixed in: all or
/// nothing, per-op versions, every failing op reported, duplicate keys and empty
/// transactions refused.
pub async fn model_transactions_match_the_model<S: VersionedStore + 'static>(store: Arc<S>) {
    // contract R10 R11 R12
    model_property(store, true).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_print_readably() {
        let steps = vec![
            Step::One(MKey::Slot(0), Action::Insert),
            Step::One(MKey::Slot(1), Action::Update(Expect::Stale(0))),
            Step::Transact(vec![
                (MKey::Slot(2), Action::Check(Expect::Current)),
                (MKey::Empty, Action::Remove),
            ]),
        ];
        assert_eq!(
            format!("{steps:?}"),
            "[insert(k0), update@current-1(k1), transact[check@current(k2), remove(<empty key>)]]"
        );
    }
}

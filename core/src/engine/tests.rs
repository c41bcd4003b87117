//! The engine against a scripted storage: what it sends, how often, and how it judges
//! each answer.

// Tests may unwrap and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::retry::RetryPolicy;
use crate::{
    Applied, Capabilities, Change, CommitOutcome, Conflict, Decision, Error, ErrorKind, Expect,
    Held, Key, Outcome, Record, Storage, StorageError, TxOp, Version, Versioned, VersionedStore,
    Write, WriteToken,
};

/// A map behind a lock, with a queue of scripted answers served before the real ones,
/// and a log of every write it was sent.
struct Scripted {
    records: Mutex<HashMap<Key, Record>>,
    script: Mutex<VecDeque<Step>>,
    sent: Mutex<Vec<(Expect, &'static str)>>,
    reads: Mutex<u32>,
    capabilities: Capabilities,
    policy: RetryPolicy,
}

enum Step {
    /// Fail a write or commit without touching the map.
    Fail(ErrorKind, Applied),
    /// Fail a read.
    ReadFail(ErrorKind, Applied),
    /// Apply the write or commit, then lose its answer (a `Maybe` timeout).
    Lose,
    /// Answer `Refused` with this record, whatever the map holds.
    Refuse(Option<Record>),
    /// Answer a commit with this outcome.
    Commit(CommitOutcome),
    /// Answer a read with this record, whatever the map holds.
    ReadAs(Option<Record>),
}

impl Scripted {
    fn new(script: Vec<Step>) -> Self {
        Self {
            records: Mutex::default(),
            script: Mutex::new(script.into()),
            sent: Mutex::default(),
            reads: Mutex::default(),
            capabilities: Capabilities::new(),
            policy: RetryPolicy::new(3, Duration::ZERO, Duration::ZERO),
        }
    }

    fn with_item(self, key: &str, version: u64) -> Self {
        self.records
            .lock()
            .unwrap()
            .insert(Key::new(key), Record::from(item(version)));
        self
    }

    fn with_tombstone(mut self, key: &str, version: u64) -> Self {
        self.capabilities = self.capabilities.with_tombstones(true);
        self.records
            .lock()
            .unwrap()
            .insert(Key::new(key), Record::tombstone(Version::new(version)));
        self
    }

    fn sent(&self) -> Vec<(Expect, &'static str)> {
        self.sent.lock().unwrap().clone()
    }

    fn reads(&self) -> u32 {
        *self.reads.lock().unwrap()
    }

    fn next_scripted(&self) -> Option<Step> {
        self.script.lock().unwrap().pop_front()
    }

    fn apply(&self, write: &Write<'_>) -> Outcome {
        let mut records = self.records.lock().unwrap();
        let previous = Held::of(records.get(write.key));
        let token = Some(write.token);
        match write.decide(previous) {
            Decision::Refuse => {
                return Outcome::Refused {
                    current: records.get(write.key).cloned(),
                };
            }
            Decision::Put(v) => {
                let value = write.value().cloned().unwrap();
                records.insert(write.key.clone(), Record::item(value, v).with_token(token));
            }
            Decision::Delete if self.capabilities.tombstones => {
                let v = previous.version().unwrap();
                records.insert(write.key.clone(), Record::tombstone(v).with_token(token));
            }
            Decision::Delete => {
                records.remove(write.key);
            }
            Decision::Keep => {}
        }
        Outcome::Applied { previous }
    }

    fn apply_all(&self, writes: &[Write<'_>]) -> CommitOutcome {
        let current: Vec<Option<Record>> = {
            let records = self.records.lock().unwrap();
            writes.iter().map(|w| records.get(w.key).cloned()).collect()
        };
        let refused: Vec<(usize, Option<Record>)> = writes
            .iter()
            .zip(current.iter())
            .enumerate()
            .filter(|(_, (w, r))| w.decide(Held::of(r.as_ref())) == Decision::Refuse)
            .map(|(index, (_, r))| (index, r.clone()))
            .collect();
        if !refused.is_empty() {
            return CommitOutcome::Refused { current: refused };
        }
        for write in writes {
            self.apply(write);
        }
        CommitOutcome::Applied {
            previous: current.iter().map(|r| Held::of(r.as_ref())).collect(),
        }
    }
}

fn change_name(change: Change<'_>) -> &'static str {
    match change {
        Change::Put(_) => "put",
        Change::Delete => "delete",
        Change::Keep => "keep",
    }
}

fn lost() -> StorageError {
    StorageError::new(ErrorKind::Timeout, Applied::Maybe, "scripted: answer lost")
}

#[async_trait]
impl Storage for Scripted {
    fn backend_name(&self) -> &'static str {
        "scripted"
    }
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }
    fn retry_policy(&self) -> &RetryPolicy {
        &self.policy
    }
    async fn read(&self, key: &Key) -> Result<Option<Record>, StorageError> {
        *self.reads.lock().unwrap() += 1;
        let step = {
            let mut script = self.script.lock().unwrap();
            match script.front() {
                Some(Step::ReadFail(..) | Step::ReadAs(_)) => script.pop_front(),
                _ => None,
            }
        };
        match step {
            Some(Step::ReadFail(kind, applied)) => {
                Err(StorageError::new(kind, applied, "scripted"))
            }
            Some(Step::ReadAs(record)) => Ok(record),
            _ => Ok(self.records.lock().unwrap().get(key).cloned()),
        }
    }
    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        self.sent
            .lock()
            .unwrap()
            .push((write.expect, change_name(write.change)));
        match self.next_scripted() {
            Some(Step::Fail(kind, applied)) => Err(StorageError::new(kind, applied, "scripted")),
            Some(Step::Refuse(current)) => Ok(Outcome::Refused { current }),
            Some(Step::Lose) => {
                self.apply(write);
                Err(lost())
            }
            _ => Ok(self.apply(write)),
        }
    }
    async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
        for w in writes {
            self.sent
                .lock()
                .unwrap()
                .push((w.expect, change_name(w.change)));
        }
        match self.next_scripted() {
            Some(Step::Commit(outcome)) => Ok(outcome),
            Some(Step::Fail(kind, applied)) => Err(StorageError::new(kind, applied, "scripted")),
            Some(Step::Lose) => {
                self.apply_all(writes);
                Err(lost())
            }
            _ => Ok(self.apply_all(writes)),
        }
    }
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(f)
}

fn item(version: u64) -> Versioned<Value> {
    Versioned::new(json!({"at": version}), Version::new(version))
}

#[test]
fn transient_failures_that_applied_nothing_are_sent_again() {
    let store = Scripted::new(vec![
        Step::Fail(ErrorKind::Busy, Applied::No),
        Step::Fail(ErrorKind::Unavailable, Applied::No),
    ]);
    let version = block(store.insert(&Key::new("k"), json!(1))).unwrap();
    assert_eq!(version, Version::FIRST);
    assert_eq!(store.sent().len(), 3);
}

#[test]
fn spent_retries_are_marked_not_retryable() {
    let store = Scripted::new(
        (0..3)
            .map(|_| Step::Fail(ErrorKind::Busy, Applied::No))
            .collect(),
    );
    let err = block(store.insert(&Key::new("k"), json!(1))).unwrap_err();
    assert_eq!(err.backend_kind(), Some(ErrorKind::Busy));
    assert!(!err.is_retryable(), "{err}");
    assert_eq!(store.sent().len(), 3, "the policy allows 3 attempts");
}

#[test]
fn an_unconditional_write_whose_answer_was_lost_is_never_resent() {
    // Not applied (yet): it may still be travelling, so it is not sent again.
    let store = Scripted::new(vec![Step::Fail(ErrorKind::Timeout, Applied::Maybe)]);
    let err = block(store.put(&Key::new("k"), json!(1))).unwrap_err();
    assert!(err.is_indeterminate(), "{err}");
    assert_eq!(store.sent().len(), 1);
    assert_eq!(store.reads(), 1, "one read to look for its token");
    // Applied: its token is on the item, and the caller gets its version.
    let store = Scripted::new(vec![Step::Lose]).with_item("k", 4);
    assert_eq!(
        block(store.put(&Key::new("k"), json!(1))).unwrap(),
        Version::new(5)
    );
    // A remove without tombstones leaves nothing to carry its token: unknown.
    let store = Scripted::new(vec![Step::Lose]).with_item("k", 4);
    let err = block(store.remove(&Key::new("k"))).unwrap_err();
    assert!(err.is_indeterminate(), "{err}");
}

#[test]
fn a_lost_answer_of_an_applied_write_is_settled_by_its_token() {
    let store = Scripted::new(vec![Step::Lose]).with_item("k", 2);
    let version = block(store.update(&Key::new("k"), Version::new(2), json!(3))).unwrap();
    assert_eq!(version, Version::new(3));
    assert_eq!(store.sent().len(), 1, "settled by one read, not resent");
    assert_eq!(store.reads(), 1);
    let store = Scripted::new(vec![Step::Lose]);
    assert_eq!(
        block(store.insert(&Key::new("k"), json!(1))).unwrap(),
        Version::FIRST
    );
}

#[test]
fn a_lost_answer_of_a_write_not_applied_is_sent_again_with_its_token() {
    let store = Scripted::new(vec![Step::Fail(ErrorKind::Io, Applied::Maybe)]).with_item("k", 2);
    let version = block(store.update(&Key::new("k"), Version::new(2), json!(3))).unwrap();
    assert_eq!(version, Version::new(3));
    assert_eq!(store.sent().len(), 2);
}

#[test]
fn a_resend_refused_because_the_first_attempt_landed_is_a_success() {
    // The first attempt applies but its answer is lost; the settling read still sees
    // the old item (the attempt landed after it); the resend is refused by the
    // first attempt's own item, which carries the token: success, not a conflict.
    let old = Record::from(item(2));
    let store = Scripted::new(vec![Step::Lose, Step::ReadAs(Some(old))]).with_item("k", 2);
    let version = block(store.update(&Key::new("k"), Version::new(2), json!(3))).unwrap();
    assert_eq!(version, Version::new(3));
    assert_eq!(store.sent().len(), 2);
}

#[test]
fn a_lost_answer_after_which_the_item_moved_on_is_indeterminate() {
    let other = Record::from(item(7)).with_token(Some(WriteToken::from_u128(9)));
    let store = Scripted::new(vec![
        Step::Fail(ErrorKind::Timeout, Applied::Maybe),
        Step::ReadAs(Some(other)),
    ])
    .with_item("k", 2);
    let err = block(store.update(&Key::new("k"), Version::new(2), json!(3))).unwrap_err();
    assert!(err.is_indeterminate(), "{err}");
    assert_eq!(store.sent().len(), 1);
}

#[test]
fn a_refused_resend_is_a_conflict_only_when_another_writer_took_the_state() {
    // The settling read sees v2 (not applied yet), the resend is refused. If another
    // writer took v2 to v3, the first attempt can never apply: a conflict. If the item
    // is further on, the first attempt may have applied and been overwritten: unknown.
    let old = Some(Record::from(item(2)));
    let store = Scripted::new(vec![
        Step::Fail(ErrorKind::Io, Applied::Maybe),
        Step::ReadAs(old.clone()),
        Step::Refuse(Some(Record::from(item(3)))),
    ])
    .with_item("k", 2);
    let err = block(store.update(&Key::new("k"), Version::new(2), json!(3))).unwrap_err();
    assert!(err.is_conflict(), "{err}");
    let store = Scripted::new(vec![
        Step::Fail(ErrorKind::Io, Applied::Maybe),
        Step::ReadAs(old),
        Step::Refuse(Some(Record::from(item(4)))),
    ])
    .with_item("k", 2);
    let err = block(store.update(&Key::new("k"), Version::new(2), json!(3))).unwrap_err();
    assert!(err.is_indeterminate(), "{err}");
}

#[test]
fn a_lost_answer_after_another_writer_took_the_state_is_a_conflict() {
    let other = Record::from(item(3)).with_token(Some(WriteToken::from_u128(9)));
    let store = Scripted::new(vec![
        Step::Fail(ErrorKind::Timeout, Applied::Maybe),
        Step::ReadAs(Some(other)),
    ])
    .with_item("k", 2);
    let err = block(store.update(&Key::new("k"), Version::new(2), json!(3))).unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert_eq!(store.sent().len(), 1, "settled by the read");
}

#[test]
fn a_lost_delete_followed_by_another_clients_insert_is_indeterminate() {
    // Our delete may have left its tombstone at 2, which another client's insert then
    // turned into 3: not a conflict, not known either.
    let other = Record::from(item(3)).with_token(Some(WriteToken::from_u128(9)));
    let store = Scripted::new(vec![
        Step::Fail(ErrorKind::Timeout, Applied::Maybe),
        Step::ReadAs(Some(other)),
    ])
    .with_tombstone("t", 1)
    .with_item("k", 2);
    let err = block(store.delete(&Key::new("k"), Version::new(2))).unwrap_err();
    assert!(err.is_indeterminate(), "{err}");
}

#[test]
fn without_tombstones_an_insert_whose_answer_was_lost_is_settled_only_by_its_token() {
    // The empty key may follow our insert, deleted since by another client.
    let store = Scripted::new(vec![Step::Fail(ErrorKind::Io, Applied::Maybe)]);
    let err = block(store.insert(&Key::new("k"), json!(1))).unwrap_err();
    assert!(err.is_indeterminate(), "{err}");
    assert_eq!(store.sent().len(), 1, "never sent again");
    // In tombstone mode the empty key proves it did not apply.
    let store =
        Scripted::new(vec![Step::Fail(ErrorKind::Io, Applied::Maybe)]).with_tombstone("t", 1);
    assert_eq!(
        block(store.insert(&Key::new("k"), json!(1))).unwrap(),
        Version::FIRST
    );
    assert_eq!(store.sent().len(), 2);
}

#[test]
fn a_lost_answer_whose_settling_read_fails_is_indeterminate() {
    let store = Scripted::new(
        std::iter::once(Step::Fail(ErrorKind::Timeout, Applied::Maybe))
            .chain((0..3).map(|_| Step::ReadFail(ErrorKind::Unavailable, Applied::No)))
            .collect(),
    )
    .with_item("k", 2);
    let err = block(store.update(&Key::new("k"), Version::new(2), json!(3))).unwrap_err();
    assert!(err.is_indeterminate(), "{err}");
    assert_eq!(store.reads(), 3, "the read is retried within the policy");
}

#[test]
fn lost_answers_until_the_policy_is_spent_are_indeterminate() {
    let store = Scripted::new(
        (0..3)
            .map(|_| Step::Fail(ErrorKind::Timeout, Applied::Maybe))
            .collect(),
    )
    .with_item("k", 2);
    let err = block(store.update(&Key::new("k"), Version::new(2), json!(3))).unwrap_err();
    assert!(err.is_indeterminate(), "{err}");
    assert_eq!(store.sent().len(), 3);
}

#[test]
fn an_insert_on_a_tombstone_asks_for_exactly_that_tombstone() {
    let store = Scripted::new(vec![]).with_tombstone("k", 3);
    assert_eq!(block(store.get(&Key::new("k"))).unwrap(), None);
    assert_eq!(
        block(store.insert(&Key::new("k"), json!(1))).unwrap(),
        Version::new(4)
    );
    assert_eq!(
        store.sent(),
        vec![
            (Expect::Absent, "put"),
            (Expect::Tombstone(Version::new(3)), "put")
        ]
    );
    // Deleted again: a tombstone at 4 that a stale update cannot match.
    block(store.delete(&Key::new("k"), Version::new(4))).unwrap();
    let err = block(store.update(&Key::new("k"), Version::new(4), json!(2))).unwrap_err();
    assert_eq!(err.conflict_ref(), Some(&Conflict::NotFound));
    assert_eq!(block(store.remove(&Key::new("k"))).unwrap(), None);
    assert_eq!(
        block(store.put(&Key::new("k"), json!(3))).unwrap(),
        Version::new(5)
    );
}

#[test]
fn an_insert_whose_tombstone_was_purged_meanwhile_asks_for_an_empty_key() {
    // The tombstone at 3 is purged between the first refusal and the resend.
    let store = Scripted::new(vec![
        Step::Refuse(Some(Record::tombstone(Version::new(3)))),
        Step::Refuse(None),
    ])
    .with_tombstone("t", 1);
    assert_eq!(
        block(store.insert(&Key::new("k"), json!(1))).unwrap(),
        Version::FIRST
    );
    assert_eq!(
        store.sent(),
        vec![
            (Expect::Absent, "put"),
            (Expect::Tombstone(Version::new(3)), "put"),
            (Expect::Absent, "put")
        ]
    );
}

#[test]
fn a_lost_delete_in_tombstone_mode_is_settled_by_the_tombstone() {
    let store = Scripted::new(vec![Step::Lose])
        .with_tombstone("t", 1)
        .with_item("k", 6);
    block(store.delete(&Key::new("k"), Version::new(6))).unwrap();
    let store = Scripted::new(vec![Step::Lose])
        .with_tombstone("t", 1)
        .with_item("k", 6);
    assert_eq!(
        block(store.remove(&Key::new("k"))).unwrap(),
        Some(Version::new(6))
    );
}

#[test]
fn a_transaction_whose_answer_was_lost_is_settled_by_its_token() {
    let ops = || {
        vec![
            TxOp::update(Key::new("a"), Version::new(2), json!(1)),
            TxOp::insert(Key::new("b"), json!(2)),
        ]
    };
    let store = Scripted::new(vec![Step::Lose]).with_item("a", 2);
    let versions = block(store.transact(ops())).unwrap();
    assert_eq!(versions, vec![Some(Version::new(3)), Some(Version::FIRST)]);
    assert_eq!(store.sent().len(), 2, "one commit of two writes");
    // In tombstone mode an empty key proves the insert did not apply: sent again.
    let store = Scripted::new(vec![Step::Fail(ErrorKind::Io, Applied::Maybe)])
        .with_tombstone("t", 1)
        .with_item("a", 2);
    let versions = block(store.transact(ops())).unwrap();
    assert_eq!(versions, vec![Some(Version::new(3)), Some(Version::FIRST)]);
    assert_eq!(store.sent().len(), 4, "not applied: sent again");
    // Without tombstones it proves nothing: the insert may have applied and been
    // deleted since.
    let store = Scripted::new(vec![Step::Fail(ErrorKind::Io, Applied::Maybe)]).with_item("a", 2);
    let err = block(store.transact(ops())).unwrap_err();
    assert!(err.is_indeterminate(), "{err}");
    assert_eq!(store.sent().len(), 2, "not sent again");
    let store = Scripted::new(vec![Step::Fail(ErrorKind::Io, Applied::Maybe)]).with_item("a", 2);
    let err = block(store.transact(vec![TxOp::put(Key::new("a"), json!(1))])).unwrap_err();
    assert!(
        err.is_indeterminate(),
        "an unconditional write is never resent: {err}"
    );
}

#[test]
fn a_read_whose_answer_was_lost_is_read_again() {
    let store =
        Scripted::new(vec![Step::ReadFail(ErrorKind::Io, Applied::Maybe)]).with_item("k", 4);
    let got = block(store.get(&Key::new("k"))).unwrap();
    assert_eq!(got.map(|i| i.version), Some(Version::new(4)));
}

#[test]
fn a_failure_that_is_not_transient_is_returned_at_once() {
    let store = Scripted::new(vec![Step::Fail(ErrorKind::Rejected, Applied::No)]);
    let err = block(store.remove(&Key::new("k"))).unwrap_err();
    assert_eq!(err.backend_kind(), Some(ErrorKind::Rejected));
    assert_eq!(store.sent().len(), 1);
}

#[test]
fn a_refusal_whose_item_meets_the_precondition_is_sent_again() {
    // The backend refused, then read an item at the expected version: it changed in
    // between, nothing was written, so the engine sends the write again.
    let store = Scripted::new(vec![Step::Refuse(Some(Record::from(item(2))))]).with_item("k", 2);
    let version = block(store.update(&Key::new("k"), Version::new(2), json!(3))).unwrap();
    assert_eq!(version, Version::new(3));
    assert_eq!(store.sent().len(), 2);
}

#[test]
fn refusals_become_conflicts_carrying_the_item() {
    let store = Scripted::new(vec![]).with_item("k", 5);
    let err = block(store.update(&Key::new("k"), Version::new(4), json!(0))).unwrap_err();
    match err {
        Error::Conflict {
            conflict: Conflict::VersionMismatch { expected, current },
            ..
        } => {
            assert_eq!(expected, Version::new(4));
            assert_eq!(current, item(5));
        }
        other => panic!("{other:?}"),
    }
    let err = block(store.delete(&Key::new("absent"), Version::FIRST)).unwrap_err();
    assert_eq!(err.conflict_ref(), Some(&Conflict::NotFound));
}

#[test]
fn an_update_expecting_the_last_version_sends_only_its_check() {
    let store = Scripted::new(vec![]).with_item("k", u64::MAX);
    let err = block(store.update(&Key::new("k"), Version::new(u64::MAX), json!(0))).unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(ErrorKind::VersionExhausted),
        "{err}"
    );
    assert_eq!(
        store.sent(),
        vec![(Expect::At(Version::new(u64::MAX)), "keep")]
    );
    // And a stale caller still learns the conflict.
    let store = Scripted::new(vec![]).with_item("k", 3);
    let err = block(store.update(&Key::new("k"), Version::new(u64::MAX), json!(0))).unwrap_err();
    assert!(err.is_conflict(), "{err}");
}

#[test]
fn a_put_on_the_last_version_is_exhausted() {
    let store = Scripted::new(vec![]).with_item("k", u64::MAX);
    let err = block(store.put(&Key::new("k"), json!(0))).unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(ErrorKind::VersionExhausted),
        "{err}"
    );
}

#[test]
fn versions_come_from_the_precondition_or_the_previous_version() {
    let store = Scripted::new(vec![]).with_item("k", 7);
    assert_eq!(
        block(store.put(&Key::new("k"), json!(0))).unwrap(),
        Version::new(8)
    );
    assert_eq!(
        block(store.put(&Key::new("new"), json!(0))).unwrap(),
        Version::FIRST
    );
    assert_eq!(
        block(store.remove(&Key::new("k"))).unwrap(),
        Some(Version::new(8))
    );
    assert_eq!(block(store.remove(&Key::new("k"))).unwrap(), None);
}

#[test]
fn bad_input_sends_nothing() {
    let store = Scripted::new(vec![]);
    assert!(
        block(store.insert(&Key::new(""), json!(1)))
            .unwrap_err()
            .is_invalid_input()
    );
    assert!(
        block(store.transact(vec![]))
            .unwrap_err()
            .is_invalid_input()
    );
    assert!(store.sent().is_empty());
}

#[test]
fn a_refused_transaction_lists_every_failure_in_op_order() {
    let store = Scripted::new(vec![Step::Commit(CommitOutcome::Refused {
        current: vec![(2, Some(Record::from(item(9)))), (0, None)],
    })]);
    let ops = vec![
        TxOp::update(Key::new("a"), Version::FIRST, json!(1)),
        TxOp::put(Key::new("b"), json!(2)),
        TxOp::insert(Key::new("c"), json!(3)),
    ];
    match block(store.transact(ops)).unwrap_err() {
        Error::TransactionConflict { failures } => {
            let got: Vec<(usize, bool)> = failures
                .iter()
                .map(|f| (f.index, f.conflict == Conflict::NotFound))
                .collect();
            assert_eq!(got, vec![(0, true), (2, false)]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_malformed_commit_answer_is_an_error_not_a_result() {
    let store = Scripted::new(vec![Step::Commit(CommitOutcome::Applied {
        previous: vec![],
    })]);
    let err = block(store.transact(vec![TxOp::remove(Key::new("a"))])).unwrap_err();
    assert_eq!(err.backend_kind(), Some(ErrorKind::Other), "{err}");
}

#[test]
fn transaction_versions_follow_each_op() {
    let store = Scripted::new(vec![Step::Commit(CommitOutcome::Applied {
        previous: vec![
            Held::Item(Version::new(3)),
            Held::Nothing,
            Held::Item(Version::new(2)),
            Held::Item(Version::new(6)),
        ],
    })]);
    let ops = vec![
        TxOp::put(Key::new("a"), json!(1)),
        TxOp::insert(Key::new("b"), json!(2)),
        TxOp::check(Key::new("c"), Version::new(2)),
        TxOp::delete(Key::new("d"), Version::new(6)),
    ];
    let versions = block(store.transact(ops)).unwrap();
    assert_eq!(
        versions,
        vec![
            Some(Version::new(4)),
            Some(Version::FIRST),
            Some(Version::new(2)),
            None
        ]
    );
}

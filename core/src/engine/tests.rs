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
    Key, Outcome, Storage, StorageError, TxOp, Version, Versioned, VersionedStore, Write,
};

/// A map behind a lock, with a queue of scripted answers served before the real ones,
/// and a log of every write it was sent.
struct Scripted {
    items: Mutex<HashMap<Key, Versioned<Value>>>,
    script: Mutex<VecDeque<Step>>,
    sent: Mutex<Vec<(Expect, &'static str)>>,
    capabilities: Capabilities,
    policy: RetryPolicy,
}

enum Step {
    Fail(ErrorKind, Applied),
    /// Answer `Refused` with this item, whatever the map holds.
    Refuse(Option<Versioned<Value>>),
    /// Answer a commit with this outcome.
    Commit(CommitOutcome),
}

impl Scripted {
    fn new(script: Vec<Step>) -> Self {
        Self {
            items: Mutex::default(),
            script: Mutex::new(script.into()),
            sent: Mutex::default(),
            capabilities: Capabilities::new(),
            policy: RetryPolicy::new(3, Duration::ZERO, Duration::ZERO),
        }
    }

    fn with_item(self, key: &str, version: u64) -> Self {
        self.items.lock().unwrap().insert(
            Key::new(key),
            Versioned::new(json!({"at": version}), Version::new(version)),
        );
        self
    }

    fn sent(&self) -> Vec<(Expect, &'static str)> {
        self.sent.lock().unwrap().clone()
    }

    fn next_scripted(&self) -> Option<Step> {
        self.script.lock().unwrap().pop_front()
    }
}

fn change_name(change: Change<'_>) -> &'static str {
    match change {
        Change::Put(_) => "put",
        Change::Delete => "delete",
        Change::Keep => "keep",
    }
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
    async fn read(&self, key: &Key) -> Result<Option<Versioned<Value>>, StorageError> {
        if let Some(Step::Fail(kind, applied)) = self.next_scripted() {
            return Err(StorageError::new(kind, applied, "scripted"));
        }
        Ok(self.items.lock().unwrap().get(key).cloned())
    }
    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
        self.sent
            .lock()
            .unwrap()
            .push((write.expect, change_name(write.change)));
        match self.next_scripted() {
            Some(Step::Fail(kind, applied)) => {
                return Err(StorageError::new(kind, applied, "scripted"));
            }
            Some(Step::Refuse(current)) => return Ok(Outcome::Refused { current }),
            _ => {}
        }
        let mut items = self.items.lock().unwrap();
        let previous = items.get(write.key).map(|i| i.version);
        match write.decide(previous) {
            Decision::Refuse => {
                return Ok(Outcome::Refused {
                    current: items.get(write.key).cloned(),
                });
            }
            Decision::Put(v) => {
                items.insert(
                    write.key.clone(),
                    Versioned::new(write.value().cloned().unwrap(), v),
                );
            }
            Decision::Delete => {
                items.remove(write.key);
            }
            Decision::Keep => {}
        }
        Ok(Outcome::Applied { previous })
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
            _ => Ok(CommitOutcome::Applied {
                previous: vec![None; writes.len()],
            }),
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
fn a_write_that_may_have_applied_is_indeterminate_and_never_resent() {
    let store = Scripted::new(vec![Step::Fail(ErrorKind::Timeout, Applied::Maybe)]);
    let err = block(store.put(&Key::new("k"), json!(1))).unwrap_err();
    assert!(err.is_indeterminate(), "{err}");
    assert_eq!(store.sent().len(), 1);
}

#[test]
fn a_read_whose_answer_was_lost_is_read_again() {
    let store = Scripted::new(vec![Step::Fail(ErrorKind::Io, Applied::Maybe)]).with_item("k", 4);
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
    let store = Scripted::new(vec![Step::Refuse(Some(item(2)))]).with_item("k", 2);
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
        current: vec![(2, Some(item(9))), (0, None)],
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
            Some(Version::new(3)),
            None,
            Some(Version::new(2)),
            Some(Version::new(6)),
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

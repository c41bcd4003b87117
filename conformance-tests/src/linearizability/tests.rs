//! The checker's own tests: hand-made histories with known answers.

use super::*;

/// A compare-and-swap register, the classic Knossos/Jepsen workload.
struct CasRegister;

#[derive(Clone, Debug, PartialEq)]
enum RegOp {
    Read,
    Write(i64),
    Cas(i64, i64),
}

#[derive(Clone, Debug, PartialEq)]
enum RegRet {
    Read(i64),
    Written,
    Cas(bool),
}

impl Model for CasRegister {
    type State = i64;
    type Op = RegOp;
    type Ret = RegRet;

    fn step(&self, state: &i64, op: &RegOp, ret: Option<&RegRet>) -> Vec<i64> {
        let (next, answer) = match op {
            RegOp::Read => (*state, RegRet::Read(*state)),
            RegOp::Write(v) => (*v, RegRet::Written),
            RegOp::Cas(from, to) if from == state => (*to, RegRet::Cas(true)),
            RegOp::Cas(..) => (*state, RegRet::Cas(false)),
        };
        match ret {
            None => vec![next],
            Some(ret) if *ret == answer => vec![next],
            Some(_) => vec![],
        }
    }
}

fn done(op: RegOp, call: u64, at: u64, ret: RegRet) -> Entry<RegOp, RegRet> {
    Entry {
        op,
        call,
        completion: Completion::Returned { at, ret },
    }
}

fn unknown(op: RegOp, call: u64) -> Entry<RegOp, RegRet> {
    Entry {
        op,
        call,
        completion: Completion::Unknown,
    }
}

fn linearizable(history: &[Entry<RegOp, RegRet>]) -> bool {
    match check(&CasRegister, &0, history) {
        Ok(Verdict::Linearizable { order }) => {
            // The order found must itself be a valid sequential run.
            let mut state = 0;
            for i in order {
                let e = &history[i];
                let ret = match &e.completion {
                    Completion::Returned { ret, .. } => Some(ret),
                    Completion::Unknown => None,
                };
                let next = CasRegister.step(&state, &e.op, ret);
                assert!(!next.is_empty(), "the order found is not a valid run");
                state = next[0];
            }
            true
        }
        Ok(Verdict::NotLinearizable { .. }) => false,
        Err(err) => panic!("checker failed: {err}"),
    }
}

#[test]
fn sequential_history_is_linearizable() {
    let h = vec![
        done(RegOp::Write(1), 0, 1, RegRet::Written),
        done(RegOp::Read, 2, 3, RegRet::Read(1)),
        done(RegOp::Cas(1, 2), 4, 5, RegRet::Cas(true)),
        done(RegOp::Cas(1, 3), 6, 7, RegRet::Cas(false)),
        done(RegOp::Read, 8, 9, RegRet::Read(2)),
    ];
    assert!(linearizable(&h));
}

#[test]
fn sequential_history_with_a_wrong_read_is_not() {
    let h = vec![
        done(RegOp::Write(1), 0, 1, RegRet::Written),
        done(RegOp::Read, 2, 3, RegRet::Read(0)),
    ];
    match check(&CasRegister, &0, &h) {
        Ok(Verdict::NotLinearizable { longest_prefix }) => assert_eq!(longest_prefix, vec![0]),
        other => panic!("expected not linearizable, got {other:?}"),
    }
}

#[test]
fn a_read_overlapping_a_write_may_see_either_value() {
    for seen in [0, 1] {
        let h = vec![
            done(RegOp::Write(1), 0, 3, RegRet::Written),
            done(RegOp::Read, 1, 2, RegRet::Read(seen)),
        ];
        assert!(linearizable(&h), "read saw {seen}");
    }
}

#[test]
fn a_read_after_a_completed_write_must_see_it() {
    // The stale read the suite's stale-get mutant produces.
    let h = vec![
        done(RegOp::Write(1), 0, 1, RegRet::Written),
        done(RegOp::Write(2), 2, 3, RegRet::Written),
        done(RegOp::Read, 4, 5, RegRet::Read(1)),
    ];
    assert!(!linearizable(&h));
}

#[test]
fn two_overlapping_cas_from_the_same_value_cannot_both_win() {
    // The lost update a non-atomic compare-and-swap allows.
    let both = vec![
        done(RegOp::Cas(0, 1), 0, 3, RegRet::Cas(true)),
        done(RegOp::Cas(0, 2), 1, 2, RegRet::Cas(true)),
    ];
    assert!(!linearizable(&both));
    let one = vec![
        done(RegOp::Cas(0, 1), 0, 3, RegRet::Cas(true)),
        done(RegOp::Cas(0, 2), 1, 2, RegRet::Cas(false)),
    ];
    assert!(linearizable(&one));
}

#[test]
fn cas_that_failed_for_no_reason_is_not_linearizable() {
    let h = vec![
        done(RegOp::Cas(0, 1), 0, 1, RegRet::Cas(false)),
        done(RegOp::Read, 2, 3, RegRet::Read(0)),
    ];
    assert!(!linearizable(&h));
}

#[test]
fn reads_cannot_go_back_in_time() {
    // cas 0->1 overlaps two reads: the first sees 1, the later one 0.
    let h = vec![
        done(RegOp::Cas(0, 1), 0, 7, RegRet::Cas(true)),
        done(RegOp::Read, 1, 2, RegRet::Read(1)),
        done(RegOp::Read, 3, 4, RegRet::Read(0)),
    ];
    assert!(!linearizable(&h));
    // In the other order it is fine.
    let h = vec![
        done(RegOp::Cas(0, 1), 0, 7, RegRet::Cas(true)),
        done(RegOp::Read, 1, 2, RegRet::Read(0)),
        done(RegOp::Read, 3, 4, RegRet::Read(1)),
    ];
    assert!(linearizable(&h));
}

#[test]
fn concurrent_writes_then_reads_that_flip_flop_are_not_linearizable() {
    // Knossos' classic: writes of 1 and 2 overlap; later reads see 1, 2, then 1 again.
    let h = vec![
        done(RegOp::Write(1), 0, 3, RegRet::Written),
        done(RegOp::Write(2), 1, 2, RegRet::Written),
        done(RegOp::Read, 4, 5, RegRet::Read(1)),
        done(RegOp::Read, 6, 7, RegRet::Read(2)),
        done(RegOp::Read, 8, 9, RegRet::Read(1)),
    ];
    assert!(!linearizable(&h));
    let h = vec![
        done(RegOp::Write(1), 0, 3, RegRet::Written),
        done(RegOp::Write(2), 1, 2, RegRet::Written),
        done(RegOp::Read, 4, 5, RegRet::Read(1)),
        done(RegOp::Read, 6, 7, RegRet::Read(1)),
    ];
    assert!(linearizable(&h));
}

#[test]
fn a_cas_chain_across_many_clients_is_linearizable() {
    // Four clients each cas i -> i+1 concurrently; the answers pin one order.
    let h = vec![
        done(RegOp::Cas(2, 3), 0, 10, RegRet::Cas(true)),
        done(RegOp::Cas(0, 1), 1, 11, RegRet::Cas(true)),
        done(RegOp::Cas(3, 4), 2, 12, RegRet::Cas(true)),
        done(RegOp::Cas(1, 2), 3, 13, RegRet::Cas(true)),
        done(RegOp::Read, 14, 15, RegRet::Read(4)),
    ];
    assert!(linearizable(&h));
    let mut wrong = h.clone();
    wrong[4] = done(RegOp::Read, 14, 15, RegRet::Read(3));
    assert!(!linearizable(&wrong));
}

#[test]
fn an_unknown_outcome_may_have_applied_or_not() {
    for seen in [0, 1] {
        let h = vec![
            unknown(RegOp::Write(1), 0),
            done(RegOp::Read, 2, 3, RegRet::Read(seen)),
        ];
        assert!(linearizable(&h), "read saw {seen}");
    }
    // But it applies at most once, and not before it was called.
    let h = vec![
        unknown(RegOp::Write(1), 0),
        done(RegOp::Read, 2, 3, RegRet::Read(1)),
        done(RegOp::Read, 4, 5, RegRet::Read(0)),
    ];
    assert!(!linearizable(&h));
    let h = vec![
        done(RegOp::Read, 0, 1, RegRet::Read(1)),
        unknown(RegOp::Write(1), 2),
    ];
    assert!(!linearizable(&h));
    // It may land long after its call, even after later calls completed.
    let h = vec![
        unknown(RegOp::Cas(0, 5), 0),
        done(RegOp::Read, 2, 3, RegRet::Read(0)),
        done(RegOp::Read, 4, 5, RegRet::Read(5)),
    ];
    assert!(linearizable(&h));
}

#[test]
fn too_many_calls_is_an_error_not_a_verdict() {
    let h: Vec<_> = (0..200)
        .map(|i| done(RegOp::Read, 2 * i, 2 * i + 1, RegRet::Read(0)))
        .collect();
    assert!(matches!(
        check(&CasRegister, &0, &h),
        Err(CheckError::TooManyCalls { calls: 200, .. })
    ));
}

#[test]
fn memoisation_keeps_wide_histories_decidable() {
    // 14 concurrent writes of one value, then a read no write explains: without
    // remembering visited (set, state) pairs the search tries 14! orders; with it,
    // each of the 2^14 sets once.
    let mut h: Vec<_> = (0..14)
        .map(|i| done(RegOp::Write(7), i, 200 + i, RegRet::Written))
        .collect();
    h.push(done(RegOp::Read, 300, 301, RegRet::Read(8)));
    assert!(!linearizable(&h));
}

mod kv {
    use super::super::*;
    use crate::history::KvModel;
    use crate::model::{Act, Item, MConflict, MKey, Op, Outcome, State};

    fn done(op: Op, call: u64, at: u64, ret: Outcome) -> Entry<Op, Outcome> {
        Entry {
            op,
            call,
            completion: Completion::Returned { at, ret },
        }
    }

    fn k(n: usize) -> MKey {
        MKey::Slot(n)
    }

    fn item(value: u64, version: u64) -> Item {
        Item { value, version }
    }

    #[test]
    fn per_key_groups_are_checked_independently() {
        let h = vec![
            done(Op::Write(k(0), Act::Insert(1)), 0, 5, Outcome::Written(1)),
            done(Op::Write(k(1), Act::Insert(2)), 1, 2, Outcome::Written(1)),
            done(Op::Get(k(1)), 3, 4, Outcome::Got(Some(item(2, 1)))),
            done(Op::Get(k(0)), 6, 7, Outcome::Got(Some(item(1, 1)))),
        ];
        let verdict = check_partitioned(&KvModel, &State::empty(2), &h, Op::slots);
        assert_eq!(verdict, Ok(Partitioned::Linearizable { groups: 2 }));
    }

    #[test]
    fn two_updates_from_one_version_cannot_both_win() {
        let h = vec![
            done(Op::Write(k(0), Act::Insert(1)), 0, 1, Outcome::Written(1)),
            done(
                Op::Write(
                    k(0),
                    Act::Update {
                        expected: 1,
                        value: 2,
                    },
                ),
                2,
                5,
                Outcome::Written(2),
            ),
            done(
                Op::Write(
                    k(0),
                    Act::Update {
                        expected: 1,
                        value: 3,
                    },
                ),
                3,
                4,
                Outcome::Written(2),
            ),
        ];
        match check_partitioned(&KvModel, &State::empty(1), &h, Op::slots) {
            Ok(Partitioned::NotLinearizable {
                calls,
                longest_prefix,
            }) => {
                assert_eq!(calls, vec![0, 1, 2]);
                assert_eq!(longest_prefix.len(), 2);
            }
            other => panic!("expected not linearizable, got {other:?}"),
        }
        // One winner, one conflict carrying the winner's item: fine.
        let mut ok = h.clone();
        ok[2] = done(
            Op::Write(
                k(0),
                Act::Update {
                    expected: 1,
                    value: 3,
                },
            ),
            3,
            4,
            Outcome::Conflict(MConflict::VersionMismatch {
                expected: 1,
                current: item(2, 2),
            }),
        );
        assert!(matches!(
            check_partitioned(&KvModel, &State::empty(1), &ok, Op::slots),
            Ok(Partitioned::Linearizable { .. })
        ));
    }

    #[test]
    fn a_torn_transaction_read_is_caught_across_keys() {
        // A transaction moves k0 and k1 together; a reader sees k0 after it and k1
        // before it, with nothing else writing: not linearizable. Per-key checks alone
        // would miss it, so the transaction joins the two keys into one group.
        let h = vec![
            done(Op::Write(k(0), Act::Insert(1)), 0, 1, Outcome::Written(1)),
            done(Op::Write(k(1), Act::Insert(2)), 2, 3, Outcome::Written(1)),
            done(
                Op::Transact(vec![(k(0), Act::Put(3)), (k(1), Act::Put(4))]),
                4,
                11,
                Outcome::Committed(vec![Some(2), Some(2)]),
            ),
            done(Op::Get(k(0)), 5, 6, Outcome::Got(Some(item(3, 2)))),
            done(
                Op::Transact(vec![(k(1), Act::Check { expected: 1 })]),
                7,
                8,
                Outcome::Committed(vec![Some(1)]),
            ),
        ];
        assert!(matches!(
            check_partitioned(&KvModel, &State::empty(2), &h, Op::slots),
            Ok(Partitioned::NotLinearizable { .. })
        ));
    }

    #[test]
    fn an_indeterminate_write_may_or_may_not_have_landed() {
        let unknown = Entry {
            op: Op::Write(k(0), Act::Put(9)),
            call: 0,
            completion: Completion::Unknown,
        };
        for seen in [None, Some(item(9, 1))] {
            let h = vec![
                unknown.clone(),
                done(Op::Get(k(0)), 1, 2, Outcome::Got(seen)),
            ];
            assert!(matches!(
                check_partitioned(&KvModel, &State::empty(1), &h, Op::slots),
                Ok(Partitioned::Linearizable { .. })
            ));
        }
    }
}

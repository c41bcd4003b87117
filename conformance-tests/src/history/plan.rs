//! Generating a history: a sequential prefix that sets the keys up, then a few
//! branches of calls that run in parallel, built so that they collide: few keys,
//! expected versions that are mostly the current one.

use crate::model::{self, Act, MKey, Op, State, ValueId};
use crate::rng::SplitMix64;

/// What to generate.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// How many keys the calls share.
    pub keys: usize,
    /// Parallel branches: at least 2, at most this many.
    pub max_branches: usize,
    /// Calls per branch: at least 2, at most this many.
    pub max_branch_ops: usize,
    /// Whether to generate transactions, which may span keys.
    pub transactions: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            keys: 3,
            max_branches: 4,
            max_branch_ops: 5,
            transactions: false,
        }
    }
}

/// A generated history, before it runs.
#[derive(Clone, Debug)]
pub struct HistoryPlan {
    /// How many keys it uses (key numbers `0..keys`).
    pub keys: usize,
    /// Calls made one after the other before the branches start.
    pub prefix: Vec<Op>,
    /// Branches run in parallel, each a sequence of calls; `true` marks a call preceded
    /// by a yield to the scheduler, to shuffle the interleaving.
    pub branches: Vec<Vec<(Op, bool)>>,
}

struct Gen<'a> {
    rng: &'a mut SplitMix64,
    next_value: ValueId,
    keys: usize,
}

impl Gen<'_> {
    fn value(&mut self) -> ValueId {
        self.next_value += 1;
        self.next_value
    }

    /// Key 0 is the hot one: half the calls go to it.
    fn key(&mut self) -> MKey {
        if self.rng.chance(50) {
            MKey::Slot(0)
        } else {
            MKey::Slot(self.rng.index(self.keys))
        }
    }

    /// Mostly the version the key had after the prefix, else one a racing write may
    /// have made current, a stale one, or one never issued.
    fn expected(&mut self, state: &State, key: MKey) -> u64 {
        let current = state.item(key).map_or(1, |i| i.version);
        match self.rng.below(100) {
            0..55 => current,
            55..75 => current + 1,
            75..85 => current + 2,
            85..95 => current.saturating_sub(1),
            _ => 0,
        }
    }

    fn act(&mut self, state: &State, key: MKey, with_check: bool) -> Act {
        match self.rng.below(if with_check { 100 } else { 90 }) {
            0..35 => Act::Update {
                expected: self.expected(state, key),
                value: self.value(),
            },
            35..47 => Act::Insert(self.value()),
            47..59 => Act::Delete {
                expected: self.expected(state, key),
            },
            59..79 => Act::Put(self.value()),
            79..90 => Act::Remove,
            _ => Act::Check {
                expected: self.expected(state, key),
            },
        }
    }

    fn op(&mut self, state: &State, transactions: bool) -> Op {
        let roll = self.rng.below(100);
        if roll < 25 {
            return Op::Get(self.key());
        }
        if transactions && roll < 50 {
            let size = 1 + self.rng.index(self.keys.min(3));
            let mut slots: Vec<usize> = (0..self.keys).collect();
            let mut ops = Vec::with_capacity(size);
            for _ in 0..size {
                let slot = slots.remove(self.rng.index(slots.len()));
                let key = MKey::Slot(slot);
                let act = self.act(state, key, true);
                ops.push((key, act));
            }
            return Op::Transact(ops);
        }
        let key = self.key();
        Op::Write(key, self.act(state, key, false))
    }
}

/// Generates a history from `rng`.
///
/// ```
/// use optimist_conformance::history::{plan, PlanOptions};
/// use optimist_conformance::rng::SplitMix64;
/// let plan = plan(&mut SplitMix64::new(1), &PlanOptions::default());
/// assert!((2..=4).contains(&plan.branches.len()));
/// ```
pub fn plan(rng: &mut SplitMix64, options: &PlanOptions) -> HistoryPlan {
    let keys = options.keys.max(1);
    let mut g = Gen {
        rng,
        next_value: 0,
        keys,
    };
    let mut prefix = Vec::new();
    let mut state = State::empty(keys);
    for slot in 0..keys {
        if g.rng.chance(85) {
            prefix.push(Op::Write(MKey::Slot(slot), Act::Insert(g.value())));
        }
    }
    for _ in 0..g.rng.below(4) {
        let key = g.key();
        let act = if g.rng.chance(50) {
            Act::Put(g.value())
        } else {
            Act::Update {
                expected: state.item(key).map_or(1, |i| i.version),
                value: g.value(),
            }
        };
        prefix.push(Op::Write(key, act));
    }
    for op in &prefix {
        state = model::apply(&state, op).0;
    }
    prefix.push(Op::Get(MKey::Slot(0)));
    let branches = 2 + g.rng.index(options.max_branches.max(2) - 1);
    let branches = (0..branches)
        .map(|_| {
            let ops = 2 + g.rng.index(options.max_branch_ops.max(2) - 1);
            (0..ops)
                .map(|_| {
                    let op = g.op(&state, options.transactions);
                    (op, g.rng.chance(50))
                })
                .collect()
        })
        .collect();
    HistoryPlan {
        keys,
        prefix,
        branches,
    }
}

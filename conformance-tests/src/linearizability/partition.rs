//! Splitting a history into independent groups of keys (P-compositionality): a history
//! is linearizable if and only if the sub-history of each group of keys is, where two
//! keys are in one group when some call (a transaction) touches both.

use std::collections::BTreeMap;

use super::checker::{CheckError, Entry, Model, Verdict, check};

/// Groups the calls of a history by connected keys; `keys_of` names the keys a call
/// touches. Returns, per group, the indexes of its calls in history order. A call that
/// touches no key forms a group of its own.
///
/// ```
/// use optimist_conformance::linearizability::partition;
/// // Calls on keys 0, 1, {1, 2} and 3: keys 1 and 2 are joined by the third call.
/// let calls = vec![vec![0], vec![1], vec![1, 2], vec![3]];
/// assert_eq!(partition(&calls, |keys| keys.clone()), vec![vec![0], vec![1, 2], vec![3]]);
/// ```
pub fn partition<T>(calls: &[T], keys_of: impl Fn(&T) -> Vec<usize>) -> Vec<Vec<usize>> {
    let mut parent: BTreeMap<usize, usize> = BTreeMap::new();
    fn root(parent: &mut BTreeMap<usize, usize>, key: usize) -> usize {
        let mut at = key;
        while let Some(&up) = parent.get(&at) {
            if up == at {
                break;
            }
            at = up;
        }
        parent.insert(key, at);
        at
    }
    let keys: Vec<Vec<usize>> = calls.iter().map(&keys_of).collect();
    for call_keys in &keys {
        for key in call_keys {
            parent.entry(*key).or_insert(*key);
        }
        if let Some((first, rest)) = call_keys.split_first() {
            for key in rest {
                let (a, b) = (root(&mut parent, *first), root(&mut parent, *key));
                parent.insert(a.max(b), a.min(b));
            }
        }
    }
    let mut groups: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (i, call_keys) in keys.iter().enumerate() {
        // Groups are ordered by their first call so the output is stable.
        let group = match call_keys.first() {
            Some(key) => root(&mut parent, *key),
            None => usize::MAX - i,
        };
        let first = groups
            .iter()
            .find(|((_, g), _)| *g == group)
            .map(|((first, _), _)| *first)
            .unwrap_or(i);
        groups.entry((first, group)).or_default().push(i);
    }
    groups.into_values().collect()
}

/// The answer of [`check_partitioned`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Partitioned {
    /// Every group is linearizable.
    Linearizable {
        /// How many groups were checked.
        groups: usize,
    },
    /// One group is not.
    NotLinearizable {
        /// The calls of the failing group (indexes into the history).
        calls: Vec<usize>,
        /// The longest sequence of its calls that could be linearized (indexes into the
        /// history).
        longest_prefix: Vec<usize>,
    },
}

/// [`check`]s each group of connected keys of `history` on its own, from `init`.
///
/// ```
/// use optimist_conformance::linearizability::{check_partitioned, Completion, Entry, Model, Partitioned};
/// # struct Counter;
/// # impl Model for Counter { type State = Vec<u8>; type Op = usize; type Ret = ();
/// #   fn step(&self, s: &Vec<u8>, k: &usize, _: Option<&()>) -> Vec<Vec<u8>> {
/// #     let mut s = s.clone(); s[*k] += 1; vec![s] } }
/// let history = vec![
///     Entry { op: 0usize, call: 0, completion: Completion::Returned { at: 1, ret: () } },
///     Entry { op: 1usize, call: 2, completion: Completion::Returned { at: 3, ret: () } },
/// ];
/// let verdict = check_partitioned(&Counter, &vec![0, 0], &history, |k| vec![*k]);
/// assert_eq!(verdict, Ok(Partitioned::Linearizable { groups: 2 }));
/// ```
pub fn check_partitioned<M>(
    model: &M,
    init: &M::State,
    history: &[Entry<M::Op, M::Ret>],
    keys_of: impl Fn(&M::Op) -> Vec<usize>,
) -> Result<Partitioned, CheckError>
where
    M: Model,
    M::Op: Clone,
    M::Ret: Clone,
{
    let groups = partition(history, |e| keys_of(&e.op));
    let count = groups.len();
    for calls in groups {
        let sub: Vec<Entry<M::Op, M::Ret>> = calls.iter().map(|&i| history[i].clone()).collect();
        if let Verdict::NotLinearizable { longest_prefix } = check(model, init, &sub)? {
            return Ok(Partitioned::NotLinearizable {
                longest_prefix: longest_prefix.iter().map(|&i| calls[i]).collect(),
                calls,
            });
        }
    }
    Ok(Partitioned::Linearizable { groups: count })
}

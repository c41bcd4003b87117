//! contract R1 (property): keys that a careless encoding would merge stay distinct items.
//! A backend that joins the parts with a separator, folds case, normalizes Unicode or
//! pads and trims (SQL `CHAR`, some collations) breaks one of these pairs.

use std::sync::Arc;

use optimist_core::{
    Capabilities, Key, KeyShape, Operation, Value, Version, VersionedStore, validate,
};
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::json;

use crate::support::{doc_for, same_value};
use crate::verdict::fail;

/// Letters next to another case form of themselves, or a character that case folding
/// maps onto them (Kelvin sign, long s, dotless and dotted i).
const CASE_PAIRS: &[(&str, &str)] = &[
    ("a", "A"),
    ("z", "Z"),
    ("é", "É"),
    ("ß", "ẞ"),
    ("ß", "SS"),
    ("k", "\u{212A}"),
    ("s", "ſ"),
    ("i", "İ"),
    ("ı", "I"),
    ("ω", "Ω"),
    ("я", "Я"),
];

/// The same text twice: precomposed (NFC) and decomposed (NFD), or a character and its
/// canonical or compatibility equivalent.
const NORMALIZATION_PAIRS: &[(&str, &str)] = &[
    ("\u{e9}", "e\u{301}"),
    ("\u{c5}", "A\u{30a}"),
    ("\u{212b}", "\u{c5}"),
    ("\u{f1}", "n\u{303}"),
    ("\u{1e69}", "s\u{323}\u{307}"),
    ("\u{1e0b}\u{323}", "\u{1e0d}\u{307}"),
    ("\u{d55c}", "\u{1112}\u{1161}\u{11ab}"),
    ("\u{2126}", "\u{3a9}"),
    ("\u{fb01}", "fi"),
];

/// Characters an encoding might put between the partition and the sort part.
fn separators(caps: &Capabilities) -> Vec<&'static str> {
    let mut seps = vec![":", "#", "/", "|"];
    if caps.nul_in_keys {
        seps.push("\0");
    }
    seps
}

/// Sort parts an encoding might use to stand for "no sort part".
fn absent_sort_stand_ins(caps: &Capabilities) -> Vec<&'static str> {
    let mut stand_ins = vec![
        " ", "#", ":", "/", "|", "-", "_", "~", "null", "NULL", "None",
    ];
    if caps.nul_in_keys {
        stand_ins.push("\0");
    }
    stand_ins
}

/// Text around the confusable piece: empty, plain or any printable characters.
fn filler() -> BoxedStrategy<String> {
    prop_oneof![Just(String::new()), "[a-z0-9 ._-]{1,5}", "\\PC{1,4}"].boxed()
}

fn non_empty_filler() -> BoxedStrategy<String> {
    prop_oneof!["[a-z0-9]{1,5}", "\\PC{1,4}"].boxed()
}

/// Where a confusable part goes: alone as the partition, as the partition beside a sort
/// part, or as the sort part; kept to what the key shape accepts.
#[derive(Clone, Copy, Debug)]
enum Place {
    Alone,
    Partition,
    Sort,
}

fn place(caps: &Capabilities) -> BoxedStrategy<Place> {
    match caps.key_shape {
        KeyShape::PartitionOnly => Just(Place::Alone).boxed(),
        KeyShape::PartitionAndSort => {
            prop_oneof![Just(Place::Partition), Just(Place::Sort)].boxed()
        }
        _ => prop_oneof![
            Just(Place::Alone),
            Just(Place::Partition),
            Just(Place::Sort)
        ]
        .boxed(),
    }
}

fn key_at(place: Place, part: String, other: &str) -> Key {
    match place {
        Place::Alone => Key::new(part),
        Place::Partition => Key::with_sort(part, other),
        Place::Sort => Key::with_sort(other, part),
    }
}

/// Two keys whose one part differs only as `pair` differs, the rest of the part and the
/// place generated.
fn part_pairs(
    caps: &Capabilities,
    pairs: &'static [(&'static str, &'static str)],
) -> BoxedStrategy<(Key, Key)> {
    (
        filler(),
        prop::sample::select(pairs),
        filler(),
        place(caps),
        "[a-z]{1,3}",
    )
        .prop_map(|(before, (x, y), after, place, other)| {
            (
                key_at(place, format!("{before}{x}{after}"), &other),
                key_at(place, format!("{before}{y}{after}"), &other),
            )
        })
        .boxed()
}

/// A part and the same part followed by spaces (or NULs where keys may hold them).
fn trailing_pairs(caps: &Capabilities) -> BoxedStrategy<(Key, Key)> {
    let mut pads = vec![" ", "  ", "   "];
    if caps.nul_in_keys {
        pads.extend(["\0", "\0\0", " \0"]);
    }
    (
        non_empty_filler(),
        prop::sample::select(pads),
        place(caps),
        "[a-z]{1,3}",
    )
        .prop_map(|(part, pad, place, other)| {
            (
                key_at(place, part.clone(), &other),
                key_at(place, format!("{part}{pad}"), &other),
            )
        })
        .boxed()
}

/// A separator moved across the boundary between the parts; on stores that take both
/// shapes, also a partition holding the separator against the two parts it joins.
fn separator_pairs(caps: &Capabilities) -> Option<BoxedStrategy<(Key, Key)>> {
    if caps.key_shape == KeyShape::PartitionOnly {
        return None;
    }
    let both_shapes = caps.key_shape.accepts(false);
    let variants: u8 = if both_shapes { 3 } else { 2 };
    let strategy = (
        non_empty_filler(),
        non_empty_filler(),
        non_empty_filler(),
        prop::sample::select(separators(caps)),
        0..variants,
    )
        .prop_map(|(x, y, z, sep, variant)| match variant {
            // ("x:y", "z") against ("x", "y:z")
            0 => (
                Key::with_sort(format!("{x}{sep}{y}"), z.clone()),
                Key::with_sort(x, format!("{y}{sep}{z}")),
            ),
            // ("x:", "y") against ("x", ":y")
            1 => (
                Key::with_sort(format!("{x}{sep}"), y.clone()),
                Key::with_sort(x, format!("{sep}{y}")),
            ),
            // "x:y" alone against ("x", "y")
            _ => (Key::new(format!("{x}{sep}{y}")), Key::with_sort(x, y)),
        })
        .boxed();
    Some(strategy)
}

/// A key without a sort part against the same partition with a sort part an encoding
/// might use for "none"; only where the store takes both shapes.
fn absent_sort_pairs(caps: &Capabilities) -> Option<BoxedStrategy<(Key, Key)>> {
    if !(caps.key_shape.accepts(false) && caps.key_shape.accepts(true)) {
        return None;
    }
    let sort = prop_oneof![
        prop::sample::select(absent_sort_stand_ins(caps)).prop_map(str::to_string),
        non_empty_filler(),
    ];
    let strategy = (non_empty_filler(), sort)
        .prop_map(|(p, s)| (Key::new(p.clone()), Key::with_sort(p, s)))
        .boxed();
    Some(strategy)
}

/// Every kind of confusable pair the store's key shape can express, each labelled.
fn confusable_pairs(caps: &Capabilities) -> BoxedStrategy<(&'static str, Key, Key)> {
    let label = |what: &'static str, s: BoxedStrategy<(Key, Key)>| {
        s.prop_map(move |(a, b)| (what, a, b)).boxed()
    };
    let mut kinds = vec![
        label("letter case", part_pairs(caps, CASE_PAIRS)),
        label(
            "Unicode normalization",
            part_pairs(caps, NORMALIZATION_PAIRS),
        ),
        label("trailing spaces or NULs", trailing_pairs(caps)),
    ];
    if let Some(s) = separator_pairs(caps) {
        kinds.push(label("separator across the parts", s));
    }
    if let Some(s) = absent_sort_pairs(caps) {
        kinds.push(label("no sort part against a sort part", s));
    }
    let caps = caps.clone();
    Union::new(kinds)
        .prop_filter("two distinct keys the store accepts", move |(_, a, b)| {
            a != b
                && validate::key(Operation::Put, a, &caps).is_ok()
                && validate::key(Operation::Put, b, &caps).is_ok()
        })
        .boxed()
}

/// contract R1 (property): pairs of distinct keys that differ only in letter case, in
/// where a separator falls between the parts, in Unicode normalization form, in trailing
/// spaces or NULs, or in having a sort part at all, are two items: each reads back its
/// own value and version, and deleting one leaves the other. Only keys the store's
/// declared shape and NUL support accept are generated.
pub async fn r1_confusable_keys_stay_distinct<S: VersionedStore + 'static>(store: Arc<S>) {
    // contract R1
    let caps = store.capabilities().clone();
    let handle = tokio::runtime::Handle::current();
    let context = crate::runner::context();
    let strategy = (confusable_pairs(&caps), any::<bool>());
    tokio::task::block_in_place(|| {
        let mut runner = TestRunner::new(crate::property::config(&context));
        let result = runner.run(&strategy, |((what, a, b), delete_first)| {
            let pair = format!("{what}: {a:?} and {b:?}");
            handle.block_on(two_items(&*store, &caps, &a, &b, delete_first, &pair))
        });
        if let Err(failure) = result {
            fail(
                "two keys that differ only in letter case, in where a separator falls between \
                 the parts, in Unicode normalization form, in trailing spaces or NULs, or in \
                 having a sort part at all, are two items: each reads back its own value and \
                 version, and deleting one leaves the other",
                format!("for the shrunk pair below, the steps said what broke: {failure}"),
            );
        }
    });
}

/// Writes `a` and `b` to different versions, reads each back, deletes one (`a`, or `b`
/// when `b_first`) and checks the other is untouched.
async fn two_items<S: VersionedStore + ?Sized>(
    store: &S,
    caps: &Capabilities,
    a: &Key,
    b: &Key,
    b_first: bool,
    pair: &str,
) -> Result<(), TestCaseError> {
    let step = |what: &str| {
        let pair = pair.to_string();
        let what = what.to_string();
        move |err: optimist_core::Error| {
            TestCaseError::fail(format!("{pair}: {what} succeeds, got {err}"))
        }
    };
    // A rerun of this pair (while shrinking) starts from nothing.
    store.remove(a).await.map_err(step("clearing a"))?;
    store.remove(b).await.map_err(step("clearing b"))?;

    let value_a = doc_for(caps, json!({"item": "a"}));
    let value_a2 = doc_for(caps, json!({"item": "a", "write": 2}));
    let value_b = doc_for(caps, json!({"item": "b"}));
    // A rerun of a pair in tombstone mode continues the versions its tombstones
    // kept; in the default mode every run starts at 1 (contract R15).
    let fresh = |v: Version| caps.tombstones || v == Version::FIRST;
    let va = store.insert(a, value_a).await.map_err(step("insert a"))?;
    prop_assert!(
        fresh(va),
        "{}: insert a on an absent key returns version 1 (R5), got {}",
        pair,
        va
    );
    let vb = store
        .insert(b, value_b.clone())
        .await
        .map_err(step("insert b, after a"))?;
    prop_assert!(
        fresh(vb),
        "{}: insert b after a is a new item at version 1 (R1, R5), got {}",
        pair,
        vb
    );
    let va2 = store
        .put(a, value_a2.clone())
        .await
        .map_err(step("put a"))?;
    prop_assert!(
        Some(va2) == va.next(),
        "{}: put a after inserting a and b advances a by one (R1, R8): expected {:?}, got {}",
        pair,
        va.next(),
        va2
    );

    expect(
        store,
        caps,
        a,
        Some((&value_a2, va2)),
        pair,
        "a, both written",
    )
    .await?;
    expect(
        store,
        caps,
        b,
        Some((&value_b, vb)),
        pair,
        "b, both written",
    )
    .await?;

    if b_first {
        store.delete(b, vb).await.map_err(step("delete b"))?;
        expect(store, caps, b, None, pair, "b, after deleting b").await?;
        expect(
            store,
            caps,
            a,
            Some((&value_a2, va2)),
            pair,
            "a, after deleting b",
        )
        .await?;
        let removed = store.remove(a).await.map_err(step("remove a"))?;
        prop_assert!(
            removed == Some(va2),
            "{}: remove a returns a's own version {} (R1, R9), got {:?}",
            pair,
            va2,
            removed
        );
    } else {
        store.delete(a, va2).await.map_err(step("delete a"))?;
        expect(store, caps, a, None, pair, "a, after deleting a").await?;
        expect(
            store,
            caps,
            b,
            Some((&value_b, vb)),
            pair,
            "b, after deleting a",
        )
        .await?;
        let removed = store.remove(b).await.map_err(step("remove b"))?;
        prop_assert!(
            removed == Some(vb),
            "{}: remove b returns b's own version {} (R1, R9), got {:?}",
            pair,
            vb,
            removed
        );
    }
    expect(store, caps, a, None, pair, "a, at the end").await?;
    expect(store, caps, b, None, pair, "b, at the end").await
}

/// Fails unless `key` holds `expected` (value and version), or nothing for `None`.
async fn expect<S: VersionedStore + ?Sized>(
    store: &S,
    caps: &Capabilities,
    key: &Key,
    expected: Option<(&Value, Version)>,
    pair: &str,
    what: &str,
) -> Result<(), TestCaseError> {
    let got = store
        .get(key)
        .await
        .map_err(|err| TestCaseError::fail(format!("{pair}: get {what}: {err}")))?;
    match (got, expected) {
        (None, None) => Ok(()),
        (Some(item), Some((value, version))) => {
            prop_assert!(
                item.version == version,
                "{}: get {} answers its own item's version {} (R1), got {}",
                pair,
                what,
                version,
                item.version
            );
            prop_assert!(
                same_value(caps, &item.value, value),
                "{}: get {} answers its own item's value (R1, R2): expected {}, got {}",
                pair,
                what,
                value,
                item.value
            );
            Ok(())
        }
        (got, expected) => Err(TestCaseError::fail(format!(
            "{pair}: get {what} answers its own item, or none once deleted (R1): expected \
             {expected:?}, got {got:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::strategy::ValueTree;

    use super::*;

    /// The kinds of pairs drawn for a store of `caps`, after checking every pair is two
    /// distinct keys the store accepts.
    fn kinds_drawn(caps: &Capabilities) -> BTreeSet<&'static str> {
        let strategy = confusable_pairs(caps);
        let mut runner = TestRunner::deterministic();
        let mut kinds = BTreeSet::new();
        for _ in 0..500 {
            let Ok(tree) = strategy.new_tree(&mut runner) else {
                panic!("the strategy gave up");
            };
            let (kind, a, b) = tree.current();
            assert_ne!(a, b, "{kind}");
            assert!(validate::key(Operation::Put, &a, caps).is_ok(), "{a:?}");
            assert!(validate::key(Operation::Put, &b, caps).is_ok(), "{b:?}");
            kinds.insert(kind);
        }
        kinds
    }

    #[test]
    fn every_kind_the_key_shape_allows_is_drawn() {
        let single = [
            "letter case",
            "Unicode normalization",
            "trailing spaces or NULs",
        ];
        let any = Capabilities::new();
        let mut all: BTreeSet<_> = single.into_iter().collect();
        all.extend([
            "separator across the parts",
            "no sort part against a sort part",
        ]);
        assert_eq!(kinds_drawn(&any), all);

        let sorted = Capabilities::new().with_key_shape(KeyShape::PartitionAndSort);
        let mut with_sort: BTreeSet<_> = single.into_iter().collect();
        with_sort.insert("separator across the parts");
        assert_eq!(kinds_drawn(&sorted), with_sort);

        let alone = Capabilities::new()
            .with_key_shape(KeyShape::PartitionOnly)
            .with_nul_in_keys(false);
        assert_eq!(kinds_drawn(&alone), single.into_iter().collect());
    }
}

use std::ops::Bound;

use super::cursor::{CursorKind, Position};
use super::*;
use crate::Key;

fn position() -> Position {
    Position {
        kind: CursorKind::Query,
        fingerprint: 0x0123_4567_89ab_cdef,
        after: Key::with_sort("customer-9", "order/ü/2"),
    }
}

#[test]
fn a_cursor_decodes_to_what_was_encoded() {
    let cursor = position().encode();
    assert!(cursor.as_str().is_ascii());
    assert_eq!(Position::decode(&cursor), Ok(position()));
    let scan = Position {
        kind: CursorKind::Scan,
        fingerprint: 7,
        after: Key::new("no sort"),
    };
    assert_eq!(Position::decode(&scan.encode()), Ok(scan));
}

#[test]
fn an_altered_cursor_is_refused() {
    let text = position().encode().to_string();
    // Flip each hex digit in turn (past the prefix): none may decode to a position.
    for index in 2..text.len() {
        let mut bytes = text.clone().into_bytes();
        bytes[index] = if bytes[index] == b'0' { b'1' } else { b'0' };
        let altered = Cursor::from(String::from_utf8(bytes).unwrap_or_default());
        assert!(
            Position::decode(&altered).is_err(),
            "digit {index} altered still decodes"
        );
    }
    for bad in ["", "o1", "o1zz", "x1abcd", &text[..text.len() - 2]] {
        assert!(
            Position::decode(&Cursor::from(bad.to_string())).is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn prefix_bounds_hold_exactly_the_strings_with_the_prefix() {
    for prefix in [
        "a",
        "ab\u{7f}",
        "x\u{D7FF}",
        "é",
        "z\u{10FFFF}",
        "\u{10FFFF}",
    ] {
        let range = SortRange::prefix(prefix);
        let (lower, upper) = range.bounds();
        let inside = |s: &str| {
            let above = match &lower {
                Bound::Included(l) => s.as_bytes() >= l.as_bytes(),
                _ => unreachable!(),
            };
            let below = match &upper {
                Bound::Excluded(u) => s.as_bytes() < u.as_bytes(),
                Bound::Unbounded => true,
                Bound::Included(_) => unreachable!(),
            };
            above && below
        };
        for suffix in ["", "\0", "a", "\u{10FFFF}", "\u{10FFFF}\u{10FFFF}"] {
            let s = format!("{prefix}{suffix}");
            assert!(inside(&s), "{s:?} should be inside {prefix:?}'s bounds");
        }
        for outside in ["", "\0", "~", "\u{E000}", "{"] {
            if !outside.starts_with(prefix) {
                assert_eq!(
                    inside(outside),
                    range.contains(outside),
                    "{outside:?} vs {prefix:?}"
                );
            }
        }
    }
}

#[test]
fn the_position_narrows_the_range_in_the_direction_of_travel() {
    let range = SortRange::between("b", "y");
    let after = Key::with_sort("p", "m");
    let request = |direction| RangeRequest {
        scope: RangeScope::Partition {
            partition: "p",
            range: &range,
            direction,
        },
        after: Some(&after),
        limit: 10,
    };
    assert_eq!(
        request(Direction::Ascending).sort_bounds(),
        (Bound::Excluded("m".into()), Bound::Included("y".into()))
    );
    assert_eq!(
        request(Direction::Descending).sort_bounds(),
        (Bound::Included("b".into()), Bound::Excluded("m".into()))
    );
    assert!(request(Direction::Descending).admits(&Key::with_sort("p", "c")));
    assert!(!request(Direction::Descending).admits(&Key::with_sort("p", "n")));
    assert!(!request(Direction::Ascending).admits(&Key::with_sort("q", "n")));
    assert!(!request(Direction::Ascending).admits(&Key::new("p")));
}

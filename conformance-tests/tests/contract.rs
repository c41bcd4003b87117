//! docs/CONTRACT.md and the suite stay in step: every case the contract lists exists,
//! every case of the suite is listed under some rule, and a case named `rN_...` is
//! listed under rule N.

#![allow(clippy::panic, clippy::expect_used)] // a test fails by panicking

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use optimist_memory::MemoryStore;

/// The rules the contract numbers, R1 to R25.
const RULES: std::ops::RangeInclusive<u32> = 1..=25;

/// How a rule section says it is checked.
#[derive(Debug, PartialEq, Eq)]
enum Status {
    /// `Checked by:` with these suite cases.
    Cases(Vec<String>),
    /// `Checked outside the suite:` (the typed layer's own tests).
    Outside,
    /// `Not implemented yet.`
    NotImplemented,
}

/// The contract's rule sections, by number, each with its status line.
fn parse(text: &str) -> BTreeMap<u32, Status> {
    let mut rules = BTreeMap::new();
    let mut current: Option<u32> = None;
    let mut order = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = format!("docs/CONTRACT.md line {}", n + 1);
        if let Some(heading) = line.strip_prefix("## ") {
            current = rule_number(heading);
            if let Some(rule) = current {
                order.push(rule);
            }
            continue;
        }
        let status = if let Some(list) = line.strip_prefix("Checked by:") {
            Status::Cases(case_list(list, &at))
        } else if line.starts_with("Checked outside the suite:") {
            Status::Outside
        } else if line.trim_end() == "Not implemented yet." {
            Status::NotImplemented
        } else {
            continue;
        };
        let Some(rule) = current else {
            panic!("{at}: a status line outside a rule section: {line:?}");
        };
        if rules.insert(rule, status).is_some() {
            panic!("{at}: R{rule} has a second status line");
        }
    }
    let expected: Vec<u32> = RULES.collect();
    assert_eq!(
        order, expected,
        "docs/CONTRACT.md must have one `## R<n> ...` section per rule, R1 to R25, in order"
    );
    for rule in RULES {
        assert!(
            rules.contains_key(&rule),
            "R{rule} has no status line (`Checked by:`, `Checked outside the suite:` or `Not implemented yet.`)"
        );
    }
    rules
}

/// The number of a `## R<n> title` heading; `None` for any other heading.
fn rule_number(heading: &str) -> Option<u32> {
    let rest = heading.strip_prefix('R')?;
    let (number, _title) = rest.split_once(' ')?;
    number.parse().ok()
}

/// The backticked names of a `Checked by:` line, which must hold nothing else but the
/// commas between them.
fn case_list(list: &str, at: &str) -> Vec<String> {
    let mut names = Vec::new();
    for item in list.split(',') {
        let item = item.trim();
        let name = item
            .strip_prefix('`')
            .and_then(|s| s.strip_suffix('`'))
            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or_else(|| panic!("{at}: {item:?} is not a backticked case name"));
        names.push(name.to_string());
    }
    names
}

/// The rule a case name claims: `r13_...` is rule 13; `None` for `input_...` and the like.
fn claimed_rule(case: &str) -> Option<u32> {
    let rest = case.strip_prefix('r')?;
    let (number, _) = rest.split_once('_')?;
    number.parse().ok()
}

#[test]
fn the_contract_lists_exactly_the_cases_of_the_suite() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/CONTRACT.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let rules = parse(&text);
    let suite: BTreeSet<&str> = optimist_conformance::cases::all::<MemoryStore>()
        .iter()
        .map(|case| case.name)
        .collect();

    let mut listed: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for (rule, status) in &rules {
        let Status::Cases(cases) = status else {
            continue;
        };
        assert!(!cases.is_empty(), "R{rule}: `Checked by:` names no case");
        for case in cases {
            assert!(
                suite.contains(case.as_str()),
                "R{rule} lists `{case}`, which is not a case of the suite (cases::all)"
            );
            assert!(
                listed.entry(case).or_default().insert(*rule),
                "R{rule} lists `{case}` twice"
            );
        }
    }
    for case in &suite {
        let Some(under) = listed.get(case) else {
            panic!("the suite's case `{case}` is listed under no rule of docs/CONTRACT.md");
        };
        if let Some(rule) = claimed_rule(case) {
            assert!(
                under.contains(&rule),
                "`{case}` is named after R{rule} but listed only under {under:?}"
            );
            assert!(
                !matches!(rules.get(&rule), Some(Status::NotImplemented)),
                "`{case}` checks R{rule}, which the contract calls not implemented"
            );
        }
    }
}

#[test]
fn the_parser_reads_the_documented_format() {
    let text = (1..=25)
        .map(|n| match n {
            1 => "## R1 Keys\n\nChecked by: `a_case`, `b_case`\n\nProse.\n".to_string(),
            20 => "## R20 Entities\n\nChecked outside the suite: somewhere\n".to_string(),
            n => format!("## R{n} Rule\n\nNot implemented yet.\n\n## Unnumbered\n\nText.\n"),
        })
        .collect::<String>();
    let rules = parse(&text);
    assert_eq!(
        rules.get(&1),
        Some(&Status::Cases(vec!["a_case".into(), "b_case".into()]))
    );
    assert_eq!(rules.get(&20), Some(&Status::Outside));
    assert_eq!(rules.get(&25), Some(&Status::NotImplemented));
    assert_eq!(claimed_rule("r13_race_insert_has_one_winner"), Some(13));
    assert_eq!(claimed_rule("input_empty_key_is_rejected"), None);
    assert_eq!(claimed_rule("model_operations_match_the_model"), None);
}

#[test]
#[should_panic(expected = "not a backticked case name")]
fn a_case_list_with_stray_text_is_refused() {
    case_list(" `a_case`, and more", "test");
}

/// The one-line rules a failing case quotes (`verdict::RULES`) are the contract's: one
/// per rule, in order, each under the title of its heading, and every case of the suite
/// is quoted a rule.
#[test]
fn the_rules_failures_quote_are_the_contracts() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/CONTRACT.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    let headings: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("## R"))
        .collect();
    let quoted: Vec<String> = optimist_conformance::verdict::RULES
        .iter()
        .map(|rule| format!("{} {}", &rule.number[1..], rule.title))
        .collect();
    assert_eq!(
        quoted, headings,
        "verdict::RULES must hold each `## R<n> <title>` heading of docs/CONTRACT.md, in order"
    );
    for case in optimist_conformance::cases::all::<MemoryStore>() {
        assert!(
            optimist_conformance::verdict::rule_of(case.name).is_some(),
            "a failure of `{}` would name no rule",
            case.name
        );
    }
}

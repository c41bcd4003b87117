//! The report of a check: a table for people, JSON and JUnit XML for machines.

use comfy_table::{Cell, Table};
use serde_json::json;

use crate::namespace::Removal;

/// How a case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Passed,
    Failed,
    Ignored,
}

impl Verdict {
    fn word(self) -> &'static str {
        match self {
            Verdict::Passed => "pass",
            Verdict::Failed => "FAIL",
            Verdict::Ignored => "ignored",
        }
    }
}

/// One case's line of the report.
#[derive(Clone, Debug)]
pub(crate) struct CaseResult {
    pub(crate) name: &'static str,
    pub(crate) rule: String,
    pub(crate) verdict: Verdict,
    /// Why it failed or was ignored; empty when it passed.
    pub(crate) detail: String,
}

/// The whole report.
pub(crate) struct Report {
    store: String,
    cases: Vec<CaseResult>,
    pub(crate) removal: Removal,
}

impl Report {
    pub(crate) fn new(store: String, cases: Vec<CaseResult>, removal: Removal) -> Self {
        Self {
            store,
            cases,
            removal,
        }
    }

    fn count(&self, verdict: Verdict) -> usize {
        self.cases.iter().filter(|c| c.verdict == verdict).count()
    }

    pub(crate) fn failed(&self) -> usize {
        self.count(Verdict::Failed)
    }

    fn summary(&self) -> String {
        format!(
            "{} passed, {} failed, {} ignored of {} cases",
            self.count(Verdict::Passed),
            self.failed(),
            self.count(Verdict::Ignored),
            self.cases.len()
        )
    }

    fn namespaces(&self) -> String {
        if self.removal.created == 0 {
            "no table or prefix to remove (each store was new)".to_string()
        } else {
            format!(
                "{} fresh tables or prefixes created, {} removed",
                self.removal.created, self.removal.removed
            )
        }
    }

    /// The table of cases, then the summary.
    pub(crate) fn table(&self) -> String {
        let mut table = Table::new();
        table.load_preset(comfy_table::presets::ASCII_MARKDOWN);
        table.set_header(["case", "rule", "result", "detail"]);
        for case in &self.cases {
            table.add_row([
                Cell::new(case.name),
                Cell::new(&case.rule),
                Cell::new(case.verdict.word()),
                Cell::new(first_line(&case.detail, 100)),
            ]);
        }
        let mut text = format!("optimist check: {}\n{table}\n", self.store);
        for case in self.cases.iter().filter(|c| c.verdict == Verdict::Failed) {
            text.push_str(&format!(
                "\nFAILED {} ({}):\n{}\n",
                case.name, case.rule, case.detail
            ));
        }
        text.push_str(&format!("\n{}; {}\n", self.summary(), self.namespaces()));
        text
    }

    /// The report as one JSON document.
    pub(crate) fn json(&self) -> String {
        let cases: Vec<_> = self
            .cases
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "rule": c.rule,
                    "result": match c.verdict {
                        Verdict::Passed => "passed",
                        Verdict::Failed => "failed",
                        Verdict::Ignored => "ignored",
                    },
                    "detail": c.detail,
                })
            })
            .collect();
        let report = json!({
            "store": self.store,
            "passed": self.count(Verdict::Passed),
            "failed": self.failed(),
            "ignored": self.count(Verdict::Ignored),
            "cases": cases,
            "namespaces": {
                "created": self.removal.created,
                "removed": self.removal.removed,
                "failures": self.removal.failures,
            },
        });
        format!(
            "{}\n",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        )
    }

    /// The report as JUnit XML: one test suite, one test case per case.
    pub(crate) fn junit(&self) -> String {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.push_str(&format!(
            "<testsuites>\n  <testsuite name=\"optimist check\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
            self.cases.len(),
            self.failed(),
            self.count(Verdict::Ignored)
        ));
        xml.push_str(&format!(
            "    <properties><property name=\"store\" value=\"{}\"/></properties>\n",
            escape(&self.store)
        ));
        for case in &self.cases {
            let open = format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                escape(&case.rule),
                escape(case.name)
            );
            match case.verdict {
                Verdict::Passed => xml.push_str(&format!("{open}/>\n")),
                Verdict::Failed => xml.push_str(&format!(
                    "{open}>\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                    escape(&first_line(&case.detail, 200)),
                    escape(&case.detail)
                )),
                Verdict::Ignored => xml.push_str(&format!(
                    "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                    escape(&case.detail)
                )),
            }
        }
        xml.push_str("  </testsuite>\n</testsuites>\n");
        xml
    }
}

fn first_line(text: &str, at_most: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > at_most {
        let cut: String = line.chars().take(at_most).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}

/// Text as XML attribute or element content.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 has no way to write most control characters.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let case = |name, verdict, detail: &str| CaseResult {
            name,
            rule: "R6".into(),
            verdict,
            detail: detail.into(),
        };
        Report::new(
            "memory".into(),
            vec![
                case("a", Verdict::Passed, ""),
                case("b", Verdict::Failed, "expected <1> & got \"2\"\nmore"),
                case("c", Verdict::Ignored, "needs transactions"),
            ],
            Removal::default(),
        )
    }

    #[test]
    fn the_formats_agree_on_the_counts() {
        let report = report();
        assert!(
            report
                .table()
                .contains("1 passed, 1 failed, 1 ignored of 3 cases")
        );
        let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap_or_default();
        assert_eq!(json["failed"], 1);
        assert_eq!(json["cases"][1]["result"], "failed");
        let xml = report.junit();
        assert!(
            xml.contains("tests=\"3\" failures=\"1\" skipped=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains("expected &lt;1&gt; &amp; got &quot;2&quot;"),
            "{xml}"
        );
    }
}

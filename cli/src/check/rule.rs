//! The contract rule a case checks, from its name (cases are named after their rule:
//! `r6_update_stale_version_conflicts`).

/// `R6` for `r6_…`; the input cases check the rule of what they feed (keys R1, values
/// R2, transactions R10); the model cases check R4–R10 together.
pub(crate) fn of(case: &str) -> String {
    if let Some(rest) = case.strip_prefix('r') {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && rest[digits.len()..].starts_with('_') {
            return format!("R{digits}");
        }
    }
    if case.starts_with("input_") {
        return if case.contains("transaction") {
            "R10"
        } else if case.contains("value") {
            "R2"
        } else {
            "R1"
        }
        .to_string();
    }
    if case.starts_with("model_") {
        return "R4-R10".to_string();
    }
    "-".to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_case_has_a_rule() {
        assert_eq!(super::of("r13_race_insert_has_one_winner"), "R13");
        assert_eq!(super::of("input_oversized_value_is_rejected"), "R2");
        assert_eq!(super::of("input_empty_transaction_is_rejected"), "R10");
        assert_eq!(super::of("input_empty_key_is_rejected"), "R1");
        for case in optimist_conformance::cases::all::<optimist::memory::MemoryStore>() {
            assert_ne!(super::of(case.name), "-", "{}", case.name);
        }
    }
}

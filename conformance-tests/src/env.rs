//! Knobs read from the environment, so slow servers can run fewer or smaller cases.

fn number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Whether an unreachable server fails the case instead of skipping it: `CI` or
/// `OPTIMIST_REQUIRE_ALL` set to anything but `""`, `0` or `false`.
///
/// ```
/// let _strict: bool = optimist_conformance::env::require_all();
/// ```
pub fn require_all() -> bool {
    ["CI", "OPTIMIST_REQUIRE_ALL"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false")))
}

/// Cases each property test generates: `OPTIMIST_PROPTEST_CASES`, default 64.
///
/// ```
/// assert!(optimist_conformance::env::proptest_cases() > 0);
/// ```
pub fn proptest_cases() -> u32 {
    u32::try_from(number("OPTIMIST_PROPTEST_CASES", 64))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// Tasks each race starts: `OPTIMIST_RACE_TASKS`, default 16.
///
/// ```
/// assert!(optimist_conformance::env::race_tasks() >= 2);
/// ```
pub fn race_tasks() -> usize {
    usize::try_from(number("OPTIMIST_RACE_TASKS", 16))
        .unwrap_or(16)
        .max(2)
}

/// Increments each task of the counter race makes: `OPTIMIST_RACE_INCREMENTS`, default 25.
///
/// ```
/// assert!(optimist_conformance::env::race_increments() >= 1);
/// ```
pub fn race_increments() -> usize {
    usize::try_from(number("OPTIMIST_RACE_INCREMENTS", 25))
        .unwrap_or(25)
        .max(1)
}

/// Worker threads of each case's runtime: `OPTIMIST_WORKERS`, default 4.
///
/// ```
/// assert!(optimist_conformance::env::workers() >= 2);
/// ```
pub fn workers() -> usize {
    usize::try_from(number("OPTIMIST_WORKERS", 4))
        .unwrap_or(4)
        .max(2)
}

/// Seconds a case may take before it fails: `OPTIMIST_CASE_TIMEOUT_SECS`, default 300.
///
/// ```
/// assert!(optimist_conformance::env::case_timeout_secs() > 0);
/// ```
pub fn case_timeout_secs() -> u64 {
    number("OPTIMIST_CASE_TIMEOUT_SECS", 300).max(1)
}

//! Knobs read from the environment, so slow servers can run fewer or smaller cases.
//!
//! | variable | default | what it sets |
//! | --- | --- | --- |
//! | `OPTIMIST_PROPTEST_CASES` | 64 | cases of each property test (model-based and round-trip) |
//! | `OPTIMIST_PROPTEST_SHRINK_ITERS` | 1024 | shrinking steps of a failing property test |
//! | `OPTIMIST_MODEL_STEPS` | 24 | most operations in one model-based sequence |
//! | `OPTIMIST_HISTORIES` | 100 | concurrent histories each linearizability case runs |
//! | `OPTIMIST_HISTORY_OPS` | 5 | most calls per parallel branch of a history (2–4 branches) |
//! | `OPTIMIST_SEED` | random | seed of the history cases (printed when one fails) |
//! | `OPTIMIST_RACE_TASKS` | 16 | tasks each race starts |
//! | `OPTIMIST_RACE_INCREMENTS` | 25 | increments per task of the counter race, transfers per task |
//! | `OPTIMIST_WORKERS` | 4 | worker threads of each case's runtime |
//! | `OPTIMIST_CASE_TIMEOUT_SECS` | 300 | seconds a case may take |
//! | `CI`, `OPTIMIST_REQUIRE_ALL` | unset | an unreachable server fails instead of skipping |
//!
//! The defaults of the load knobs (property cases, histories, race tasks and
//! increments) are scaled by the factory's
//! [`load_percent`](crate::StoreFactory::load_percent), so a backend on a slow server
//! can ask for less in its `tests/conformance.rs`; a variable that is set wins.

/// A load knob: the variable if set, else `default` scaled by the running case's
/// factory load ([`StoreFactory::load_percent`](crate::StoreFactory::load_percent)).
fn scaled(name: &str, default: u64) -> u64 {
    let percent = u64::from(crate::runner::context().load_percent);
    match std::env::var(name).ok().and_then(|v| v.trim().parse().ok()) {
        Some(value) => value,
        None => (default.saturating_mul(percent) / 100).max(1),
    }
}

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
    u32::try_from(scaled("OPTIMIST_PROPTEST_CASES", 64))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// Tasks each race starts: `OPTIMIST_RACE_TASKS`, default 16.
///
/// ```
/// assert!(optimist_conformance::env::race_tasks() >= 2);
/// ```
pub fn race_tasks() -> usize {
    usize::try_from(scaled("OPTIMIST_RACE_TASKS", 16))
        .unwrap_or(16)
        .max(2)
}

/// Increments each task of the counter race makes: `OPTIMIST_RACE_INCREMENTS`, default 25.
///
/// ```
/// assert!(optimist_conformance::env::race_increments() >= 1);
/// ```
pub fn race_increments() -> usize {
    usize::try_from(scaled("OPTIMIST_RACE_INCREMENTS", 25))
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

/// Shrinking steps of a failing property test: `OPTIMIST_PROPTEST_SHRINK_ITERS`,
/// default 1024.
///
/// ```
/// assert!(optimist_conformance::env::proptest_shrink_iters() > 0);
/// ```
pub fn proptest_shrink_iters() -> u32 {
    u32::try_from(number("OPTIMIST_PROPTEST_SHRINK_ITERS", 1024))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// Most operations in one model-based sequence: `OPTIMIST_MODEL_STEPS`, default 24.
///
/// ```
/// assert!(optimist_conformance::env::model_steps() >= 1);
/// ```
pub fn model_steps() -> usize {
    usize::try_from(number("OPTIMIST_MODEL_STEPS", 24))
        .unwrap_or(24)
        .max(1)
}

/// Concurrent histories each linearizability case runs: `OPTIMIST_HISTORIES`,
/// default 100.
///
/// ```
/// assert!(optimist_conformance::env::histories() >= 1);
/// ```
pub fn histories() -> usize {
    usize::try_from(scaled("OPTIMIST_HISTORIES", 100))
        .unwrap_or(100)
        .max(1)
}

/// Most calls per parallel branch of a history: `OPTIMIST_HISTORY_OPS`, default 5,
/// at least 2.
///
/// ```
/// assert!(optimist_conformance::env::history_ops() >= 2);
/// ```
pub fn history_ops() -> usize {
    usize::try_from(number("OPTIMIST_HISTORY_OPS", 5))
        .unwrap_or(5)
        .clamp(2, 16)
}

/// The seed of the history cases: `OPTIMIST_SEED` if set (decimal or `0x` hex), else
/// `None` and each run draws one and prints it on failure.
///
/// ```
/// let _seed: Option<u64> = optimist_conformance::env::seed();
/// ```
pub fn seed() -> Option<u64> {
    let raw = std::env::var("OPTIMIST_SEED").ok()?;
    let raw = raw.trim();
    match raw.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => raw.parse().ok(),
    }
}

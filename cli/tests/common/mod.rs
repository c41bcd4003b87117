//! What the CLI's tests share: the servers scripts/test starts, and the skip-or-fail
//! rule for one that is not there.

#![allow(dead_code)] // each test binary uses a part
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use assert_cmd::Command;

/// The `optimist` binary of this build.
pub fn optimist() -> Command {
    Command::cargo_bin("optimist").unwrap()
}

/// The value of `var`, which names `server`'s URL; `None` after printing why the test
/// skips, or a failure when `CI` or `OPTIMIST_REQUIRE_ALL` is set.
pub fn server(test: &str, var: &str, server: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Some(value),
        _ => {
            let why = format!("{server}: {var} is not set (scripts/test starts it and sets it)");
            if optimist_conformance::env::require_all() {
                panic!("{test}: {why} (CI or OPTIMIST_REQUIRE_ALL is set, so this fails)");
            }
            println!("skipped {test}: {why}");
            None
        }
    }
}

/// The PostgreSQL server's URL (OPTIMIST_POSTGRES_URL), or `None` (see [`server`]).
pub fn postgres(test: &str) -> Option<String> {
    server(test, "OPTIMIST_POSTGRES_URL", "PostgreSQL")
}

/// The Redis server's URL (OPTIMIST_REDIS_URL), or `None` (see [`server`]).
pub fn redis(test: &str) -> Option<String> {
    server(test, "OPTIMIST_REDIS_URL", "Redis")
}

/// A `dynamodb://` URL for a table named `table` on the DynamoDB server
/// (OPTIMIST_DYNAMODB_ENDPOINT), or `None` (see [`server`]). The dummy credentials the
/// emulator takes are set by [`aws_env`].
pub fn dynamodb(test: &str, table: &str) -> Option<String> {
    let endpoint = server(test, "OPTIMIST_DYNAMODB_ENDPOINT", "DynamoDB")?;
    Some(format!(
        "dynamodb://{table}?region=us-east-1&endpoint={endpoint}"
    ))
}

/// The credentials for the emulator, for a command's environment.
pub fn aws_env(cmd: &mut Command) -> &mut Command {
    cmd.env("AWS_ACCESS_KEY_ID", "optimist-test")
        .env("AWS_SECRET_ACCESS_KEY", "optimist-test-secret")
}

/// A URL with `options` added to its query.
pub fn with_options(url: &str, options: &str) -> String {
    let at = url.rfind('@').map_or(0, |at| at + 1);
    let sep = if url[at..].contains('?') { '&' } else { '?' };
    format!("{url}{sep}{options}")
}

/// A path in the test folder ($OPTIMIST_TMP, else the system's) no other test uses.
pub fn fresh_path(label: &str) -> std::path::PathBuf {
    let dir = std::env::var_os("OPTIMIST_TMP")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("optimist-cli");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!(
        "{label}-{}-{:08x}.db",
        std::process::id(),
        rand::random::<u32>()
    ))
}

/// The JSON a command printed on stdout.
pub fn json_of(output: &std::process::Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

//! `check` against a store the binary cannot build: a deliberately broken one, made
//! here and registered under its own scheme, through the library's `run`. The suite
//! must fail, naming the case that catches the bug, with exit code 1.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use optimist::memory::MemoryStore;
use optimist::{
    Capabilities, Key, Result, StoreFuture, TxOp, Value, Version, Versioned, VersionedStore,
};
use optimist_cli::{Io, Registry, exit};

/// A store with the classic bug: `update` never checks the version (a put), so a
/// stale writer silently wipes out the item: the lost update.
struct LostUpdates(MemoryStore);

#[optimist::async_trait]
impl VersionedStore for LostUpdates {
    fn capabilities(&self) -> &Capabilities {
        self.0.capabilities()
    }
    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>> {
        self.0.get(key)
    }
    fn insert<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        self.0.insert(key, value)
    }
    fn update<'a>(
        &'a self,
        key: &'a Key,
        _expected: Version,
        value: Value,
    ) -> StoreFuture<'a, Version> {
        self.0.put(key, value)
    }
    fn delete<'a>(&'a self, key: &'a Key, expected: Version) -> StoreFuture<'a, ()> {
        self.0.delete(key, expected)
    }
    fn put<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        self.0.put(key, value)
    }
    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Version>> {
        self.0.remove(key)
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        self.0.transact(ops).await
    }
}

fn registry() -> Registry {
    Registry::new()
        .with_scheme("lost-updates", || async {
            Ok(LostUpdates(MemoryStore::new()))
        })
        .with_scheme("unbuildable", || async {
            Err::<MemoryStore, _>(optimist::Error::configuration(
                "test",
                "this store cannot be built",
            ))
        })
}

#[test]
fn check_fails_on_a_broken_store_naming_the_case() {
    let mut io = Io::captured("");
    let code = optimist_cli::run(
        ["optimist", "check", "lost-updates://", "--cases", "r6_,r5_"],
        &registry(),
        &mut io,
    );
    let out = io.stdout_text();
    assert_eq!(code, exit::FAILED, "{out}\n{}", io.stderr_text());
    // The stale update is accepted: the case that checks it fails, by name, with R6.
    let line = out
        .lines()
        .find(|l| l.contains("| r6_update_stale_version_conflicts "))
        .unwrap_or_else(|| panic!("no line for the case: {out}"));
    assert!(line.contains("| R6 ") && line.contains("| FAIL "), "{line}");
    assert!(
        out.contains("FAILED r6_update_stale_version_conflicts (R6):"),
        "{out}"
    );
    // The cases that do not touch update still pass.
    let insert = out
        .lines()
        .find(|l| l.contains("| r5_insert_absent_gives_version_1 "))
        .unwrap_or_default();
    assert!(insert.contains("| pass "), "{out}");
    assert!(out.contains("failed"), "{out}");
}

#[test]
fn the_json_report_names_the_failing_cases() {
    let mut io = Io::captured("");
    let code = optimist_cli::run(
        [
            "optimist",
            "check",
            "lost-updates://",
            "--cases",
            "r6_update_stale,r13_race_update",
            "--json",
        ],
        &registry(),
        &mut io,
    );
    assert_eq!(code, exit::FAILED);
    let report: serde_json::Value = serde_json::from_str(&io.stdout_text()).unwrap();
    let failed: Vec<&str> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] == "failed")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "r6_update_stale_version_conflicts",
            "r13_race_update_has_one_winner"
        ]
    );
    assert_eq!(report["failed"], 2);
}

#[test]
fn a_store_that_cannot_be_built_is_bad_input() {
    let mut io = Io::captured("");
    let code = optimist_cli::run(
        ["optimist", "check", "unbuildable://"],
        &registry(),
        &mut io,
    );
    assert_eq!(code, exit::BAD_INPUT);
    assert_eq!(io.stdout_text(), "");
    assert!(
        io.stderr_text().contains("this store cannot be built"),
        "{}",
        io.stderr_text()
    );
}

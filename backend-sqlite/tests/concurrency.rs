//! Writers that share one WAL file lose no update: two stores with separate pools in
//! one process, and two OS processes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use optimist_core::{Conflict, Error, Key, VersionedStore};
use optimist_sqlite::SqliteStore;
use serde_json::json;

const TASKS_PER_STORE: usize = 8;
const INCREMENTS_PER_TASK: u64 = 25;
/// Set in a child process: the database file it writes to.
const CHILD_DB: &str = "OPTIMIST_SQLITE_CHILD_DB";

fn counter() -> Key {
    Key::new("counter")
}

/// Adds one to the counter with a conditional update, retrying on the conflict's current
/// item (no extra read). Returns how many conflicts it met.
async fn increment(store: &SqliteStore) -> u64 {
    let key = counter();
    let mut item = store.get(&key).await.unwrap().expect("the counter exists");
    let mut conflicts = 0;
    loop {
        let n = item.value["n"].as_u64().expect("n is a number");
        match store.update(&key, item.version, json!({"n": n + 1})).await {
            Ok(version) => {
                assert_eq!(version, item.version.next().unwrap());
                return conflicts;
            }
            Err(Error::Conflict {
                conflict: Conflict::VersionMismatch { expected, current },
                ..
            }) => {
                assert_eq!(expected, item.version);
                assert_ne!(
                    current.version, item.version,
                    "a mismatch names another version"
                );
                conflicts += 1;
                item = current;
            }
            Err(other) => panic!("increment failed: {other}"),
        }
    }
}

/// Runs `tasks` tasks on `store`, each incrementing `INCREMENTS_PER_TASK` times.
async fn hammer(store: &SqliteStore, tasks: usize) -> u64 {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut conflicts = 0;
                for _ in 0..INCREMENTS_PER_TASK {
                    conflicts += increment(&store).await;
                }
                conflicts
            })
        })
        .collect();
    let mut conflicts = 0;
    for handle in handles {
        conflicts += handle.await.unwrap();
    }
    conflicts
}

async fn open(path: &Path) -> SqliteStore {
    SqliteStore::builder().path(path).build().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_lose_no_increment() {
    let path = common::fresh_path("two-stores");
    let a = open(&path).await;
    let b = open(&path).await;
    a.insert(&counter(), json!({"n": 0})).await.unwrap();

    let (conflicts_a, conflicts_b) =
        tokio::join!(hammer(&a, TASKS_PER_STORE), hammer(&b, TASKS_PER_STORE));

    let total = 2 * TASKS_PER_STORE as u64 * INCREMENTS_PER_TASK;
    let item = b.get(&counter()).await.unwrap().unwrap();
    assert_eq!(item.value, json!({"n": total}));
    assert_eq!(item.version.get(), total + 1);
    println!(
        "{total} increments, {} conflicts retried",
        conflicts_a + conflicts_b
    );
    a.close().await;
    b.close().await;
    common::remove_db(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_file_lose_no_increment() {
    let path = common::fresh_path("two-processes");
    let store = open(&path).await;
    store.insert(&counter(), json!({"n": 0})).await.unwrap();

    // Two children run `child_process_writer` (below) on the same file while this
    // process writes too.
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "child_process_writer",
                    "--ignored",
                    "--nocapture",
                ])
                .env(CHILD_DB, &path)
                // Captured, so the child's own test summary does not mix with ours.
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    hammer(&store, TASKS_PER_STORE).await;
    for child in children {
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        assert!(
            output.status.success(),
            "child process failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let total = 3 * TASKS_PER_STORE as u64 * INCREMENTS_PER_TASK;
    let item = store.get(&counter()).await.unwrap().unwrap();
    assert_eq!(item.value, json!({"n": total}));
    assert_eq!(item.version.get(), total + 1);
    store.close().await;
    common::remove_db(&path);
}

/// The other process of `two_processes_on_one_file_lose_no_increment`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process of two_processes_on_one_file_lose_no_increment, which runs it"]
async fn child_process_writer() {
    let Some(path) = std::env::var_os(CHILD_DB) else {
        // Run by hand (`--ignored`) it has no file to write to; the parent checks the
        // children's work through the counter's final value.
        println!("skipped child_process_writer: {CHILD_DB} is not set (the parent test sets it)");
        return;
    };
    let store = open(Path::new(&path)).await;
    hammer(&store, TASKS_PER_STORE).await;
    store.close().await;
}

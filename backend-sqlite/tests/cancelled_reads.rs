//! Reads run where their caller awaits them, without a task of their own (src/detach.rs):
//! a read whose future is dropped half way must leave nothing behind. Reads (`get`,
//! `get_many`, `query`, `scan`) are cut after each number of polls they can take, in
//! memory and on a file, while writes go on; after every cut, each kind of read must
//! still answer, and answer what was last written (a statement left unreset would hold
//! its connection on an old snapshot), and the next write must still go through.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use optimist_conformance::PollBudget;
use optimist_core::{Key, QueryOptions, ScanOptions, SortRange, Version, VersionedStore};
use optimist_sqlite::SqliteStore;
use serde_json::{Value, json};

/// Items read and written: one partition, so that a query reads them all too.
const ITEMS: usize = 4;
/// Cuts per kind of read and number of polls.
const ROUNDS: usize = 6;
/// The most polls a read is allowed before it is dropped (a read that answers sooner is
/// simply not cut).
const MAX_POLLS: u32 = 8;
/// Not a speed requirement: a store that stops answering fails here with a message
/// instead of hanging the test run.
const HANG: Duration = Duration::from_secs(60);

/// Awaits `call` for at most `polls` polls; whether it was cut.
async fn cut_after<F: Future>(call: F, polls: u32) -> bool {
    PollBudget::new(call, polls).await.is_none()
}

#[derive(Clone, Copy, Debug)]
enum Read {
    Get,
    GetMany,
    Query,
    Scan,
}

fn keys() -> Vec<Key> {
    (0..ITEMS)
        .map(|i| Key::with_sort("p", format!("s{i}")))
        .collect()
}

/// Starts `read` on `store` and drops it after `polls` polls: whether it was cut.
async fn cut_read(store: &SqliteStore, read: Read, polls: u32) -> bool {
    let keys = keys();
    match read {
        Read::Get => cut_after(store.get(&keys[0]), polls).await,
        Read::GetMany => cut_after(store.get_many(&keys), polls).await,
        Read::Query => {
            let query = store.query("p", SortRange::All, QueryOptions::new());
            cut_after(query, polls).await
        }
        Read::Scan => cut_after(store.scan(ScanOptions::new()), polls).await,
    }
}

/// Every kind of read answers, each with `expected` (value and version per item).
async fn reads_answer(store: &SqliteStore, expected: &[(Value, Version)], after: &str) {
    let keys = keys();
    let check = async {
        for (key, want) in keys.iter().zip(expected) {
            let got = store.get(key).await.unwrap().map(|v| (v.value, v.version));
            assert_eq!(got.as_ref(), Some(want), "get {key} {after}");
        }
        let many: Vec<_> = store
            .get_many(&keys)
            .await
            .unwrap()
            .into_iter()
            .map(|v| v.map(|v| (v.value, v.version)))
            .collect();
        let want: Vec<_> = expected.iter().cloned().map(Some).collect();
        assert_eq!(many, want, "get_many {after}");
        for page in [
            store
                .query("p", SortRange::All, QueryOptions::new())
                .await
                .unwrap(),
            store.scan(ScanOptions::new()).await.unwrap(),
        ] {
            let items: Vec<_> = page
                .items
                .into_iter()
                .map(|(k, v)| (k, v.value, v.version))
                .collect();
            let want: Vec<_> = keys
                .iter()
                .zip(expected)
                .map(|(k, (value, version))| (k.clone(), value.clone(), *version))
                .collect();
            assert_eq!(items, want, "query/scan {after}");
        }
    };
    if tokio::time::timeout(HANG, check).await.is_err() {
        panic!("the store stopped answering reads {after}");
    }
}

/// Writes `round` into item `item`, uncut: the store must still take writes.
async fn write(
    store: &SqliteStore,
    expected: &mut [(Value, Version)],
    item: usize,
    round: usize,
    after: &str,
) {
    let key = &keys()[item];
    let value = json!({"item": item, "round": round});
    let update = store.update(key, expected[item].1, value.clone());
    let version = match tokio::time::timeout(HANG, update).await {
        Ok(version) => version.unwrap(),
        Err(_) => panic!("the store stopped answering writes {after}"),
    };
    expected[item] = (value, version);
}

/// Cuts every kind of read after 1..=MAX_POLLS polls, ROUNDS times each, writing between
/// the cut and the reads that check it. Returns how many reads were cut (a read that
/// answered within its budget was not).
async fn cut_reads_leave_nothing_behind(store: &SqliteStore) -> usize {
    let mut expected = Vec::new();
    for (i, key) in keys().iter().enumerate() {
        let value = json!({"item": i, "round": "first"});
        let version = store.insert(key, value.clone()).await.unwrap();
        expected.push((value, version));
    }
    let mut cut = 0;
    let mut round = 0;
    for read in [Read::Get, Read::GetMany, Read::Query, Read::Scan] {
        for polls in 1..=MAX_POLLS {
            for _ in 0..ROUNDS {
                round += 1;
                let after = format!("after a {read:?} cut after {polls} poll(s), round {round}");
                cut += usize::from(cut_read(store, read, polls).await);
                write(store, &mut expected, round % ITEMS, round, &after).await;
                reads_answer(store, &expected, &after).await;
            }
        }
    }
    cut
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_reads_leave_nothing_behind_in_memory() {
    let store = SqliteStore::builder().build().await.unwrap();
    let cut = cut_reads_leave_nothing_behind(&store).await;
    // Reads on the one in-memory connection wait for its worker: most are cut.
    assert!(cut > 0, "no read was cut: the test cut nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_reads_leave_nothing_behind_on_a_file() {
    let file = common::file_store("cancelled-reads").await.unwrap();
    let cut = cut_reads_leave_nothing_behind(&file.store).await;
    assert!(cut > 0, "no read was cut: the test cut nothing");
}

/// Reads cut at random points while other tasks write and read the same items: the
/// store ends answering every read with the last writes, on every pooled connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_reads_among_concurrent_writes_on_a_file() {
    let file = common::file_store("cancelled-reads-concurrent")
        .await
        .unwrap();
    let store = Arc::new(file.store.clone());
    let mut expected = Vec::new();
    for (i, key) in keys().iter().enumerate() {
        let version = store.insert(key, json!(i)).await.unwrap();
        expected.push((json!(i), version));
    }
    // Writers own one item each and keep what they last wrote.
    let writers: Vec<_> = (0..ITEMS)
        .map(|item| {
            let store = Arc::clone(&store);
            let (mut value, mut version) = expected[item].clone();
            tokio::spawn(async move {
                let key = keys()[item].clone();
                for round in 0..50 {
                    value = json!({"item": item, "round": round});
                    version = store.update(&key, version, value.clone()).await.unwrap();
                }
                (value, version)
            })
        })
        .collect();
    // Cutters drop reads after 1..=MAX_POLLS polls meanwhile.
    let cutters: Vec<_> = (0..4u32)
        .map(|c| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let reads = [Read::Get, Read::GetMany, Read::Query, Read::Scan];
                let mut cut = 0;
                for n in 0..100u32 {
                    let read = reads[((n + c) % 4) as usize];
                    let polls = 1 + (n * 7 + c) % MAX_POLLS;
                    cut += usize::from(cut_read(&store, read, polls).await);
                }
                cut
            })
        })
        .collect();
    for (item, writer) in writers.into_iter().enumerate() {
        expected[item] = writer.await.unwrap();
    }
    let mut cut = 0;
    for cutter in cutters {
        cut += cutter.await.unwrap();
    }
    assert!(cut > 0, "no read was cut: the test cut nothing");
    // Readers side by side, more than the pool has connections, so that every
    // connection a cut read went back on is read from.
    let readers = (0..2 * optimist_sqlite::DEFAULT_MAX_CONNECTIONS)
        .map(|_| reads_answer(&store, &expected, "after the concurrent cuts"));
    futures::future::join_all(readers).await;
}

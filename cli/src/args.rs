//! The command line, as clap reads it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

/// Optimistic concurrency control on any store, by URL: prove a store keeps the
/// contract, benchmark it, and read and write its items.
///
/// URLs: memory://, sqlite::memory:, sqlite://path.db?mode=rwc, postgres://user:pw@host/db?table=NAME,
/// redis://host:6379?prefix=NAME (rediss:// with TLS; redis+cluster://h1:7000,h2:7000?prefix=NAME
/// for a Redis Cluster), dynamodb://TABLE?region=R&endpoint=URL.
///
/// Exit codes: 0 ok, 1 failed, 2 bad input or unreachable server, 3 conflict, 4 not found.
#[derive(Debug, Parser)]
#[command(name = "optimist", version)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Runs the conformance suite against a live store, each case on a fresh table or
    /// prefix that is removed at the end.
    Check(CheckArgs),
    /// Measures throughput, latency and conflicts of a workload, on a fresh table or
    /// prefix that is removed at the end.
    Bench(BenchArgs),
    /// Prints an item as {"version": N, "value": …}; exit 4 if there is none.
    Get(GetArgs),
    /// Creates an item from the JSON value on stdin; exit 3 with the current item if the key holds one.
    Insert(WriteArgs),
    /// Replaces an item at --expected VERSION with the JSON value on stdin; exit 3 on conflict.
    Update(UpdateArgs),
    /// Writes the JSON value on stdin without a version check.
    Put(WriteArgs),
    /// Deletes an item at --expected VERSION; exit 3 on conflict.
    Delete(DeleteArgs),
    /// Deletes an item without a version check.
    Remove(GetArgs),
    /// The lost-update demo, against any store (a fresh table or prefix).
    Demo(DemoArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// The store's URL.
    pub(crate) url: String,
    /// Run only the cases whose name contains one of these comma-separated texts
    /// (for example `r5_,r6_` or `transact`).
    #[arg(long, value_name = "PATTERN")]
    pub(crate) cases: Option<String>,
    /// Print the report as JSON on stdout instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) junit: Option<PathBuf>,
    /// Scale the suite's load (property cases, histories, races) to this percent, for
    /// slow servers.
    #[arg(long, value_name = "PERCENT", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) load_percent: u32,
    /// How long one case may run (200ms, 30s, 5m).
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse)]
    pub(crate) case_timeout: Option<Duration>,
}

/// A workload of `bench`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Workload {
    /// Reads of random keys among --keys items.
    Get,
    /// Each client updates its own item: no conflicts.
    Update,
    /// Read-modify-write increments on random keys among --keys items, retried from
    /// the conflict's item.
    Conflict,
    /// Read-modify-write increments, every client on one item.
    HotKey,
}

#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// The store's URL.
    pub(crate) url: String,
    /// What each client does.
    #[arg(long, value_enum, default_value_t = Workload::Update)]
    pub(crate) workload: Workload,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) clients: u32,
    /// How long to run (200ms, 10s, 1m).
    #[arg(long, default_value = "10s", value_parser = crate::duration::parse)]
    pub(crate) duration: Duration,
    /// How many items the get and conflict workloads spread over (default: 100 for
    /// get, 4 for conflict).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(crate) keys: Option<u32>,
    /// Print the report as JSON on stdout instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct GetArgs {
    /// The store's URL.
    pub(crate) url: String,
    /// The item's key (its partition part).
    pub(crate) key: String,
    /// The key's sort part, for stores keyed on partition and sort.
    #[arg(long)]
    pub(crate) sort: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct WriteArgs {
    #[command(flatten)]
    pub(crate) key: GetArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct UpdateArgs {
    #[command(flatten)]
    pub(crate) key: GetArgs,
    /// The version the item must be at.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) expected: u64,
}

#[derive(Debug, clap::Args)]
pub(crate) struct DeleteArgs {
    #[command(flatten)]
    pub(crate) key: GetArgs,
    /// The version the item must be at.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) expected: u64,
}

#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// The store's URL.
    pub(crate) url: String,
}

//! # optimist-cli
//!
//! The `optimist` command-line tool, as a library: [`run`] takes the arguments, a
//! [`Registry`] of extra URL schemes and the standard streams, and returns the exit
//! code, so a test (or a backend author's own tool) can run every command against a
//! store the binary cannot build itself:
//!
//! ```
//! use optimist_cli::{Io, Registry};
//!
//! // A scheme of the test's own: each call makes a fresh, isolated store.
//! let registry = Registry::new().with_scheme("mine", || async {
//!     Ok(optimist::memory::MemoryStore::new())
//! });
//! let mut io = Io::captured("");
//! let code = optimist_cli::run(["optimist", "check", "mine://", "--cases", "r5_"], &registry, &mut io);
//! assert_eq!(code, 0, "{}", io.stderr_text());
//! assert!(io.stdout_text().contains("r5_insert_absent_gives_version_1"));
//! ```
//!
//! Commands (see the crate's README for every option):
//!
//! - `optimist check URL`: the conformance suite on fresh tables or prefixes it
//!   creates and removes, a table of cases with the rule each checks, `--json`,
//!   `--junit FILE`, `--cases PATTERN`;
//! - `optimist bench URL --workload get|update|conflict|hot-key --clients N --duration D`;
//! - `optimist get|insert|update|put|delete|remove URL KEY`, JSON on stdin and stdout;
//! - `optimist demo URL`: the lost update, prevented.
//!
//! Exit codes: [`exit`] lists them.

#![deny(missing_docs)]

mod args;
mod bench;
mod check;
mod demo;
mod duration;
pub mod exit;
mod io;
mod namespace;
mod ops;
mod registry;
mod target;

use std::ffi::OsString;

use clap::Parser;

pub use io::Io;
pub use registry::Registry;

use args::{Args, Command};
use exit::Failure;

/// Runs the tool with `args` (the first is the program's name), URL schemes of
/// `registry` besides the built-in ones, and `io` as its standard streams; returns the
/// exit code ([`exit`]).
///
/// ```
/// let mut io = optimist_cli::Io::captured("");
/// let code = optimist_cli::run(["optimist", "get", "nosuch://x", "k"], &optimist_cli::Registry::new(), &mut io);
/// assert_eq!(code, optimist_cli::exit::BAD_INPUT);
/// assert!(io.stderr_text().contains("unknown scheme `nosuch`"));
/// ```
pub fn run<I, T>(args: I, registry: &Registry, io: &mut Io) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = match Args::try_parse_from(args) {
        Ok(args) => args,
        Err(err) => {
            let code = if err.use_stderr() {
                exit::BAD_INPUT
            } else {
                exit::OK
            };
            let text = err.render().to_string();
            if err.use_stderr() {
                io.err(&text);
            } else {
                io.out(&text);
            }
            return code;
        }
    };
    match dispatch(args.command, registry, io) {
        Ok(code) => code,
        Err(Failure { code, message }) => {
            io.err(&format!("optimist: {message}\n"));
            code
        }
    }
}

fn dispatch(command: Command, registry: &Registry, io: &mut Io) -> Result<u8, Failure> {
    match command {
        Command::Check(args) => check::run(&target::Target::parse(&args.url, registry)?, &args, io),
        Command::Bench(args) => bench::run(&target::Target::parse(&args.url, registry)?, &args, io),
        Command::Demo(args) => demo::run(&target::Target::parse(&args.url, registry)?, io),
        Command::Get(args) => ops::get(&target::Target::parse(&args.url, registry)?, &args, io),
        Command::Insert(args) => {
            ops::insert(&target::Target::parse(&args.key.url, registry)?, &args, io)
        }
        Command::Put(args) => ops::put(&target::Target::parse(&args.key.url, registry)?, &args, io),
        Command::Update(args) => {
            ops::update(&target::Target::parse(&args.key.url, registry)?, &args, io)
        }
        Command::Delete(args) => {
            ops::delete(&target::Target::parse(&args.key.url, registry)?, &args, io)
        }
        Command::Remove(args) => {
            ops::remove(&target::Target::parse(&args.url, registry)?, &args, io)
        }
    }
}

/// Logs to stderr as `RUST_LOG` asks (nothing by default), for the binary's `main`.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

//! Runnable examples of optimist; see `src/bin/`:
//!
//! - `lost_update`: the seeds' scenario on SQLite. Two clients read version 1, client 2
//!   saves, client 1's save is refused with the item client 2 wrote, and client 1
//!   re-applies its change on top. Run it with
//!   `cargo run -p optimist-examples --bin lost_update`.

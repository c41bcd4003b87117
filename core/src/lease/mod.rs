//! Leases with fencing tokens, on any [`VersionedStore`] (contract R19).
//!
//! A lease is an ordinary item, the lease record, on a key the user chooses: a JSON
//! object naming its owner, its duration, and whether it was released. A holder
//! [acquires](Lease::acquire) it, [renews](Lease::renew) it within its duration (each
//! renewal rewrites the record, so its version moves on where waiters see it), and
//! [releases](Lease::release) it, which marks the record released and keeps it.
//!
//! - **Expiry without trusting clocks:** a waiter takes a held lease over only after
//!   it has seen the record unchanged, at one version, for the holder's full lease
//!   duration on its own monotonic clock. A released record is free at once.
//! - **Fencing tokens:** a holder's [token](Lease::token) is the record's version when
//!   it acquired it. The record is never deleted, so every new holder's token is
//!   greater than every earlier one's.
//! - **Guarded writes:** [`Lease::guard`] is a [`VersionedStore`] whose every write is
//!   one transaction with a check that the record is still at the version the holder
//!   last wrote: a holder that lost the lease (it paused past its duration and was
//!   taken over) is refused with [`Error::Lease`](crate::Error::Lease), naming the
//!   current holder and its token, and writes nothing. Its own concurrent renewal is
//!   told apart and does not count as a loss. The typed layer has
//!   [`save_guarded`](crate::typed::Context::save_guarded) and friends.
//!
//! Round trips: acquiring a free key is one insert; a released record, an insert
//! answered with the record, then one update; a takeover, the same plus the waiter's
//! reads while it waits. A renewal or a release is one update, a guarded write one
//! transaction (a guarded `remove` reads first: two).
//!
//! Never delete a lease record: on a store without tombstones a deleted key starts
//! again at version 1 (contract R15), and so would the tokens.
//!
//! ```
//! use std::{sync::Arc, time::Duration};
//! use optimist_core::{Key, VersionedStore};
//! use optimist_core::lease::{Lease, LeaseOptions};
//! use serde_json::json;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = Arc::new(optimist_memory::MemoryStore::new());
//! let options = LeaseOptions::new("worker-1", Duration::from_secs(30));
//! let lease = Lease::try_acquire(store.clone(), Key::new("lease#shard-1"), &options).await?;
//! assert_eq!(lease.token().get(), 1);
//!
//! lease.guard().put(&Key::new("shard-1#state"), json!({"done": 10})).await?;
//! lease.renew().await?;
//! lease.guard().put(&Key::new("shard-1#state"), json!({"done": 20})).await?; // still passes
//! lease.release().await?;
//!
//! // The next holder's token is greater; the released handle writes nothing.
//! let next = Lease::try_acquire(store, Key::new("lease#shard-1"), &options).await?;
//! assert_eq!(next.token().get(), 4);
//! assert!(lease.guard().put(&Key::new("shard-1#state"), json!({})).await.is_err());
//! # Ok::<(), optimist_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! [`VersionedStore`]: crate::VersionedStore

mod acquire;
mod error;
mod guarded;
mod handle;
mod holder;
mod options;
mod record;
mod token;

pub use error::{LeaseConflict, LeaseHolder};
pub use guarded::Guarded;
pub use handle::Lease;
pub use holder::current_holder;
pub use options::{LeaseOptions, MAX_LEASE_DURATION, MAX_OWNER_BYTES, MIN_LEASE_DURATION};
pub use token::FencingToken;

// The example in core/README-leases.md (also in the root README) runs as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../README-leases.md")]
struct ReadmeLeases;

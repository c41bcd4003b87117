//! The backend's side of the engine: a [`Storage`] reads items and applies conditional
//! writes atomically; the engine in core does everything else the contract asks.
//!
//! Every type that implements [`Storage`] is a [`VersionedStore`](crate::VersionedStore):
//! the engine checks the input against the capabilities (contract R1, R2, R10), derives
//! versions (R3), maps each operation onto a precondition and a change (R5–R10), judges
//! refusals into conflicts carrying the current item (R11), retries transient failures
//! that applied nothing within the store's [`RetryPolicy`](crate::retry::RetryPolicy),
//! reports a write that may have been applied as `Indeterminate` (R12), and wraps each
//! operation in one `tracing` span. A backend only touches its storage.

mod error;
mod outcome;
mod owned;
mod record;
mod token;
mod write;

use async_trait::async_trait;

pub use error::{Applied, ErrorKind, StorageError};
pub use outcome::{CommitOutcome, Outcome};
pub use owned::{OwnedPut, OwnedWrite, PutAnswer};
pub use record::{Held, Record};
pub use token::{ParseTokenError, WriteToken};
pub use write::{Change, Decision, Expect, Write};

use std::time::Duration;

use crate::retry::RetryPolicy;
use crate::{Capabilities, Key, RangePage, RangeRequest};

/// What a backend implements: one strongly consistent read and atomic conditional
/// writes on its storage. The engine checks the input against the capabilities
/// (contract R1, R2, R10), derives versions (R3), maps each operation onto a
/// precondition and a change (R5–R10), judges refusals into conflicts carrying the
/// current item (R11), resends transient failures that applied nothing within
/// [`retry_policy`](Self::retry_policy), reports a write that may have been applied as
/// `Indeterminate` (R12), and wraps each operation in one `tracing` span: every
/// `Storage` is a [`VersionedStore`](crate::VersionedStore) that keeps the whole
/// contract. A complete one:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use optimist_core::{
///     async_trait, Capabilities, CommitOutcome, Decision, Held, Key, Outcome, Record, Storage,
///     StorageError, Value, Version, VersionedStore, Write,
/// };
///
/// /// A toy store: one map behind one lock.
/// #[derive(Default)]
/// struct MapStore {
///     records: Mutex<HashMap<Key, Record>>,
///     capabilities: Capabilities,
/// }
///
/// #[async_trait]
/// impl Storage for MapStore {
///     fn backend_name(&self) -> &'static str { "map" }
///     fn capabilities(&self) -> &Capabilities { &self.capabilities }
///
///     async fn read(&self, key: &Key) -> Result<Option<Record>, StorageError> {
///         Ok(self.records.lock().unwrap().get(key).cloned())
///     }
///
///     async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
///         let mut records = self.records.lock().unwrap();
///         let previous = Held::of(records.get(write.key));
///         match write.decide(previous) {
///             Decision::Refuse => return Ok(Outcome::Refused { current: records.get(write.key).cloned() }),
///             Decision::Put(version) => {
///                 let value = write.value().cloned().unwrap_or_default();
///                 let record = Record::item(value, version).with_token(Some(write.token));
///                 records.insert(write.key.clone(), record);
///             }
///             Decision::Delete => { records.remove(write.key); }
///             Decision::Keep => {}
///         }
///         Ok(Outcome::Applied { previous })
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = MapStore::default();
/// let key = Key::new("k");
/// let v1 = store.insert(&key, serde_json::json!(1)).await?;
/// assert_eq!(v1, Version::FIRST);
/// assert!(store.insert(&key, serde_json::json!(2)).await.unwrap_err().is_conflict());
/// assert!(store.get(&Key::new("")).await.unwrap_err().is_invalid_input());
/// # Ok::<(), optimist_core::Error>(())
/// # }).unwrap();
/// ```
///
/// The engine calls these methods only with input it has checked against
/// [`capabilities`](Self::capabilities): keys of the declared shape, values within
/// the declared limits, transactions of distinct keys within `max_transaction_ops`.
#[async_trait]
pub trait Storage: Send + Sync {
    /// The backend's name, used in spans and errors: `"memory"`, `"sqlite"`, ...
    fn backend_name(&self) -> &'static str;

    /// The backend's limits and features.
    fn capabilities(&self) -> &Capabilities;

    /// How often the engine sends a request again after a transient failure that
    /// applied nothing ([`StorageError::is_transient`]). Defaults to
    /// [`RetryPolicy::transient_default`].
    fn retry_policy(&self) -> &RetryPolicy {
        RetryPolicy::transient_default()
    }

    /// Reads one key's record, strongly consistent: it sees every write that completed
    /// before the call started (contract R4). `None` if the key holds nothing; a
    /// tombstone is returned as one (the engine hides it from callers), and the
    /// record's token as stored.
    async fn read(&self, key: &Key) -> Result<Option<Record>, StorageError>;

    /// Applies `write.change` to `write.key` only if `write.expect` holds, as one
    /// atomic step, storing `write.token` with what it leaves; otherwise writes nothing
    /// and answers [`Outcome::Refused`] with the record as it was. [`Write::decide`]
    /// is the whole judgement. A put under [`Expect::Any`] stores the item at the
    /// counter's version + 1 (1 on an empty key), or is refused at `u64::MAX`. Every
    /// pairing of [`Expect`] and [`Change`] can arrive, [`Change::Keep`] included: the
    /// engine sends a check-only write when a put expects `u64::MAX`, to learn whether
    /// the precondition held without writing.
    async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError>;

    /// The first attempt of a put, with its value owned: a store that keeps values as
    /// they are (in memory) moves the value in rather than copying it, and answers
    /// [`PutAnswer::Kept`] when it applied the put. Otherwise the same judgement and
    /// effect as [`write`](Self::write) on [`OwnedPut::write`], answered with the
    /// value back. The default does exactly that, awaiting `write`'s boxed future
    /// inside its own: a networked store overrides it to call the code of its `write`
    /// directly, one allocation less on every put.
    async fn write_value(&self, put: OwnedPut<'_>) -> PutAnswer {
        let answer = self.write(&put.write()).await;
        put.answered(answer)
    }

    /// [`read`](Self::read) done at once, for a store that answers without waiting on
    /// anything (in memory, under a lock held for a lookup): the same answer, without
    /// the boxed future an `async` trait method costs. `None`, the default, says this
    /// store has to be awaited; the engine then calls `read`. An answer here counts as
    /// the read's first attempt (a transient failure is sent again through `read`).
    fn read_now(&self, key: &Key) -> Option<Result<Option<Record>, StorageError>> {
        let _ = key;
        None
    }

    /// [`write_value`](Self::write_value) done at once, for a store that answers
    /// without waiting on anything: the same judgement, effect and answer, without the
    /// boxed future. `Err(put)` hands the put back untouched, nothing done: the
    /// default, saying this store has to be awaited; the engine then calls
    /// `write_value` with it.
    fn write_value_now<'a>(&self, put: OwnedPut<'a>) -> Result<PutAnswer, OwnedPut<'a>> {
        Err(put)
    }

    /// Applies every write or none (contract R10): if any precondition fails, nothing
    /// is written and the answer lists every refused write with its current item.
    /// The default answers that transactions are unsupported; a backend that
    /// overrides it declares `Capabilities::transactions`.
    async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
        let _ = writes;
        Err(StorageError::not_applied(
            ErrorKind::Rejected,
            "this backend has no transactions",
        ))
    }

    /// Names the data this store reads (a table, a key prefix, a database file), so
    /// that a query or scan cursor made by one store is refused by another: two stores
    /// reading the same data answer the same, two stores reading different data answer
    /// differently. Defaults to [`backend_name`](Self::backend_name), which tells
    /// backends apart but not two stores of one backend.
    fn identity(&self) -> String {
        self.backend_name().to_string()
    }

    /// Reads several keys' records (contract R16), in the order asked, each as
    /// [`read`](Self::read) would: strongly consistent, tombstones included, `None`
    /// for a key that holds nothing. The engine sends distinct, checked keys, at most
    /// [`Capabilities::max_get_many`]. The default reads them one by one; a backend
    /// overrides it to read them in one request.
    async fn read_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        let mut records = Vec::with_capacity(keys.len());
        for key in keys {
            records.push(self.read(key).await?);
        }
        Ok(records)
    }

    /// Reads one page of a partition in sort order, or of the whole store (contract
    /// R17, R18): at most `request.limit` records past `request.after`, each read
    /// strongly consistent, and the key to continue after. Over the pages of one read,
    /// an item present and unchanged throughout must come exactly once, and every record
    /// answered must be a state its item held during the call. A backend that declares
    /// [`Capabilities::range_reads`] overrides it; the default answers that it cannot.
    async fn read_range(&self, request: &RangeRequest<'_>) -> Result<RangePage, StorageError> {
        let _ = request;
        Err(StorageError::not_applied(
            ErrorKind::Rejected,
            "this backend reads no ranges",
        ))
    }

    /// Removes the tombstones left more than `older_than` ago and answers how many it
    /// removed; each only if it is still the same tombstone (a key written since keeps
    /// its record). A store in tombstone mode
    /// ([`Capabilities::tombstones`](crate::Capabilities::tombstones)) overrides it; the
    /// default answers that this store keeps no tombstones.
    ///
    /// Purging gives up, for those keys, what tombstones protect: a write still
    /// travelling from before the deletion could land on the emptied key. Choose
    /// `older_than` well above the longest time a request can spend in flight.
    async fn purge_tombstones(&self, older_than: Duration) -> Result<u64, StorageError> {
        let _ = older_than;
        Err(StorageError::not_applied(
            ErrorKind::Rejected,
            "this store keeps no tombstones",
        ))
    }
}

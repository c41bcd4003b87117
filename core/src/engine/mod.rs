//! The engine: every [`Storage`] is a [`VersionedStore`] that keeps the contract, with
//! the rules written once, here, for every backend.
//!
//! - [`single`]: one operation = one precondition and one change, judged into a
//!   version or a conflict; [`send`]: its resending loop;
//! - [`transaction`]: the same for `transact`, all or nothing;
//! - [`span`]: one `tracing` span per operation.

mod reads;
mod send;
mod settle;
mod single;
mod span;
mod transaction;

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::{
    Capabilities, Change, CommitOutcome, Error, Expect, Held, Key, Operation, Outcome, OwnedPut,
    Page, PutAnswer, QueryOptions, RangePage, RangeRequest, Record, Result, ScanOptions, SortRange,
    Storage, StorageError, StoreFuture, TxOp, Version, Versioned, VersionedStore, Write,
    retry::RetryPolicy, store_future::Call,
};

#[async_trait]
impl<S: Storage> VersionedStore for S {
    fn capabilities(&self) -> &Capabilities {
        Storage::capabilities(self)
    }

    // The single-item calls start at the first poll (`StoreFuture::deferred`), on the
    // store seen as `dyn Storage` so that their future is one concrete type: a store's
    // immediate answer costs no allocation.
    fn get<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Versioned<Value>>> {
        deferred(
            single::get_call,
            self,
            Operation::Get,
            key,
            Expect::Any,
            Value::Null,
        )
    }

    fn insert<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        deferred(
            single::put_call,
            self,
            Operation::Insert,
            key,
            Expect::Absent,
            value,
        )
    }

    fn update<'a>(
        &'a self,
        key: &'a Key,
        expected: Version,
        value: Value,
    ) -> StoreFuture<'a, Version> {
        let expect = Expect::At(expected);
        deferred(
            single::put_call,
            self,
            Operation::Update,
            key,
            expect,
            value,
        )
    }

    fn delete<'a>(&'a self, key: &'a Key, expected: Version) -> StoreFuture<'a, ()> {
        let expect = Expect::At(expected);
        deferred(
            single::delete_call,
            self,
            Operation::Delete,
            key,
            expect,
            Value::Null,
        )
    }

    fn put<'a>(&'a self, key: &'a Key, value: Value) -> StoreFuture<'a, Version> {
        deferred(
            single::put_call,
            self,
            Operation::Put,
            key,
            Expect::Any,
            value,
        )
    }

    fn remove<'a>(&'a self, key: &'a Key) -> StoreFuture<'a, Option<Version>> {
        deferred(
            single::remove_call,
            self,
            Operation::Remove,
            key,
            Expect::Any,
            Value::Null,
        )
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<Vec<Option<Version>>> {
        transaction::transact(self, &ops).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Value>>>> {
        reads::get_many(self, keys).await
    }

    async fn query(
        &self,
        partition: &str,
        range: SortRange,
        options: QueryOptions,
    ) -> Result<Page> {
        reads::query(self, partition, &range, &options).await
    }

    async fn scan(&self, options: ScanOptions) -> Result<Page> {
        reads::scan(self, &options).await
    }

    async fn purge_tombstones(&self, older_than: Duration) -> Result<u64> {
        Storage::purge_tombstones(self, older_than)
            .await
            .map_err(|err| {
                let err =
                    Error::from_storage(self.backend_name(), Operation::PurgeTombstones, None, err);
                err.retries_exhausted()
            })
    }
}

// A reference or box to a storage is a storage, so `&MemoryStore` and
// `Box<SqliteStore>` are stores too. (`Arc<S>` forwards `VersionedStore` itself, so
// that `Arc<dyn VersionedStore>` is one.)
macro_rules! forward_storage {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<S: Storage + ?Sized> Storage for $ty {
            fn backend_name(&self) -> &'static str {
                (**self).backend_name()
            }
            fn capabilities(&self) -> &Capabilities {
                Storage::capabilities(&**self)
            }
            fn retry_policy(&self) -> &RetryPolicy {
                (**self).retry_policy()
            }
            async fn read(&self, key: &Key) -> Result<Option<Record>, StorageError> {
                (**self).read(key).await
            }
            async fn write(&self, write: &Write<'_>) -> Result<Outcome, StorageError> {
                (**self).write(write).await
            }
            async fn write_value(&self, put: OwnedPut<'_>) -> PutAnswer {
                (**self).write_value(put).await
            }
            fn read_now(&self, key: &Key) -> Option<Result<Option<Record>, StorageError>> {
                (**self).read_now(key)
            }
            fn write_value_now<'a>(&self, put: OwnedPut<'a>) -> Result<PutAnswer, OwnedPut<'a>> {
                (**self).write_value_now(put)
            }
            async fn commit(&self, writes: &[Write<'_>]) -> Result<CommitOutcome, StorageError> {
                (**self).commit(writes).await
            }
            async fn purge_tombstones(&self, older_than: Duration) -> Result<u64, StorageError> {
                (**self).purge_tombstones(older_than).await
            }
            fn identity(&self) -> String {
                (**self).identity()
            }
            async fn read_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
                (**self).read_many(keys).await
            }
            async fn read_range(
                &self,
                request: &RangeRequest<'_>,
            ) -> Result<RangePage, StorageError> {
                (**self).read_range(request).await
            }
        }
    )*};
}

forward_storage!(Box<S>, &S);

/// The future of a single-item call: `run` made with these arguments at the first poll.
fn deferred<'a, T>(
    run: fn(&mut Call<'a>) -> StoreFuture<'a, T>,
    store: &'a dyn Storage,
    operation: Operation,
    key: &'a Key,
    expect: Expect,
    value: Value,
) -> StoreFuture<'a, T> {
    let call = Call {
        store,
        operation,
        key,
        expect,
        value,
        fresh: true,
    };
    StoreFuture::deferred(run, call)
}

/// The version a put leaves behind: known in advance for a conditional put, derived
/// from the previous state for `Any`. `None` only at the end of the counter.
fn version_after_put(expect: Expect, previous: Held) -> Option<Version> {
    expect.next_version().or_else(|| {
        previous
            .version()
            .map_or(Some(Version::FIRST), Version::next)
    })
}

/// Whether a refusal reported by the backend is the end of the version counter: a put
/// whose precondition holds on a key whose counter is at `u64::MAX`.
fn is_exhaustion(write: &Write<'_>, current: Option<Held>) -> bool {
    matches!(write.change, Change::Put(_))
        && current
            .and_then(Held::version)
            .is_some_and(|version| version.next().is_none())
}

/// Waits before the next attempt, or hands `failure` back when the policy's attempts
/// are spent.
async fn pause(
    policy: &RetryPolicy,
    attempts: u32,
    failure: StorageError,
) -> Result<(), StorageError> {
    if attempts >= policy.max_attempts() {
        return Err(failure);
    }
    let delay = policy.delay(attempts);
    tracing::debug!(attempts, ?delay, error = %failure, "sending again");
    tokio::time::sleep(delay).await;
    Ok(())
}

#[cfg(test)]
mod tests;

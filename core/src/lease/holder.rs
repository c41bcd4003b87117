//! Who holds a lease now, for monitoring and tests: one read, no lease needed.

use super::LeaseHolder;
use super::record::LeaseRecord;
use crate::{Error, Key, Operation, Result, VersionedStore};

/// Who holds the lease on `key`: `None` if nobody does (no record, or released). An
/// item there that is not a lease record is `InvalidInput`. One read.
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use optimist_core::{Key, lease::{current_holder, Lease, LeaseOptions}};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = Arc::new(optimist_memory::MemoryStore::new());
/// assert_eq!(current_holder(&*store, &Key::new("l")).await?, None);
/// let options = LeaseOptions::new("w", Duration::from_secs(5));
/// let lease = Lease::try_acquire(store.clone(), Key::new("l"), &options).await?;
/// assert_eq!(current_holder(&*store, &Key::new("l")).await?.map(|h| h.token), Some(1));
/// lease.release().await?;
/// assert_eq!(current_holder(&*store, &Key::new("l")).await?, None);
/// # Ok::<(), optimist_core::Error>(())
/// # }).unwrap();
/// ```
pub async fn current_holder<S: VersionedStore + ?Sized>(
    store: &S,
    key: &Key,
) -> Result<Option<LeaseHolder>> {
    let Some(item) = store.get(key).await? else {
        return Ok(None);
    };
    match LeaseRecord::from_value(&item.value) {
        Some(record) => Ok(record.holder()),
        None => Err(Error::invalid(
            Operation::Get,
            Some(key),
            "the key holds an item that is not a lease record",
        )),
    }
}

//! The typed layer's cases (R20–R24): `optimist_core::typed` entities on the store
//! under test, through a [`Context`](optimist_core::typed::Context). Their entities
//! have a partition key only (but one, with a sort key), so most need
//! [`Feature::PartitionOnlyKeys`](crate::Feature::PartitionOnlyKeys).

mod combining;
mod counting;
mod entities;
mod load_delete;
mod mapping;
mod reads;
mod save;
mod skip_check;
mod transactions;
mod update_with;

pub(crate) use combining::*;
pub(crate) use load_delete::*;
pub(crate) use mapping::*;
pub(crate) use reads::*;
pub(crate) use save::*;
pub(crate) use skip_check::*;
pub(crate) use transactions::*;
pub(crate) use update_with::*;

use std::fmt::Debug;

use optimist_core::typed::Error;
use optimist_core::{Conflict, Key, Value, VersionedStore};

use crate::verdict::{check, fail};

/// The value of a typed call that must succeed, or a verdict naming it.
#[track_caller]
fn done<T>(result: Result<T, Error>, context: &str) -> T {
    match result {
        Ok(value) => value,
        Err(err) => fail(format!("{context}: succeeds"), format!("{err} ({err:?})")),
    }
}

/// The error of a typed call that must fail, or a verdict naming it.
#[track_caller]
fn failure<T: Debug>(result: Result<T, Error>, context: &str) -> Error {
    match result {
        Ok(value) => fail(
            format!("{context}: fails, writing nothing"),
            format!("Ok({value:?})"),
        ),
        Err(err) => err,
    }
}

/// Fails the case unless `err` is a version mismatch expecting `expected` against
/// `current` (contract R6, R11 through the typed layer).
#[track_caller]
fn assert_mismatch(err: &Error, expected: u64, current: u64) {
    let holds = matches!(
        err.conflict(),
        Some(Conflict::VersionMismatch { expected: e, current: c })
            if e.get() == expected && c.version.get() == current
    );
    check(
        holds,
        format!(
            "a version mismatch expecting v{expected}, carrying the current item at v{current} (R11)"
        ),
        || format!("{err} ({err:?})"),
    );
}

/// The item stored under `key`, read past the typed layer.
async fn raw<S: VersionedStore + ?Sized>(store: &S, key: &Key) -> optimist_core::Versioned<Value> {
    crate::support::must_get(store, key).await
}

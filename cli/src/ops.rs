//! `get`, `insert`, `update`, `put`, `delete`, `remove`: one operation on the store the
//! URL names, JSON values on stdin and stdout.

use std::future::Future;

use optimist::{Conflict, Error, Key, Value, Version, VersionedStore};
use serde_json::json;

use crate::args::{DeleteArgs, GetArgs, UpdateArgs, WriteArgs};
use crate::check::runtime;
use crate::exit::{self, Failure};
use crate::io::Io;
use crate::target::Target;

/// Prints the item, or exits [`exit::NOT_FOUND`].
pub(crate) fn get(target: &Target, args: &GetArgs, io: &mut Io) -> Result<u8, Failure> {
    let key = key_of(args);
    let item = on_store(target, |store| async move { store.get(&key).await })?;
    match item {
        Some(item) => {
            io.out(&line(
                &json!({"version": item.version.get(), "value": item.value}),
            ));
            Ok(exit::OK)
        }
        None => {
            io.err(&format!("optimist: {} holds no item\n", key_of(args)));
            Ok(exit::NOT_FOUND)
        }
    }
}

/// Creates the item; a conflict prints the item that is there.
pub(crate) fn insert(target: &Target, args: &WriteArgs, io: &mut Io) -> Result<u8, Failure> {
    let value = value_from_stdin(io)?;
    let key = key_of(&args.key);
    let written = on_store(
        target,
        |store| async move { store.insert(&key, value).await },
    );
    versioned(written, io)
}

/// Replaces the item at the expected version; a conflict prints the current item.
pub(crate) fn update(target: &Target, args: &UpdateArgs, io: &mut Io) -> Result<u8, Failure> {
    let value = value_from_stdin(io)?;
    let key = key_of(&args.key);
    let expected = Version::new(args.expected);
    let written = on_store(target, |store| async move {
        store.update(&key, expected, value).await
    });
    versioned(written, io)
}

/// Writes the item without a check.
pub(crate) fn put(target: &Target, args: &WriteArgs, io: &mut Io) -> Result<u8, Failure> {
    let value = value_from_stdin(io)?;
    let key = key_of(&args.key);
    let written = on_store(target, |store| async move { store.put(&key, value).await });
    versioned(written, io)
}

/// Deletes the item at the expected version; a conflict prints the current item.
pub(crate) fn delete(target: &Target, args: &DeleteArgs, io: &mut Io) -> Result<u8, Failure> {
    let key = key_of(&args.key);
    let expected = Version::new(args.expected);
    match on_store(
        target,
        |store| async move { store.delete(&key, expected).await },
    ) {
        Ok(()) => {
            io.out(&line(&json!({"deleted": true})));
            Ok(exit::OK)
        }
        Err(err) => refused(err, io),
    }
}

/// Deletes the item without a check; prints the version removed (`null` if none).
pub(crate) fn remove(target: &Target, args: &GetArgs, io: &mut Io) -> Result<u8, Failure> {
    let key = key_of(args);
    let removed = on_store(target, |store| async move { store.remove(&key).await })?;
    io.out(&line(&json!({"removed": removed.map(Version::get)})));
    Ok(exit::OK)
}

fn key_of(args: &GetArgs) -> Key {
    match &args.sort {
        Some(sort) => Key::with_sort(args.key.clone(), sort.clone()),
        None => Key::new(args.key.clone()),
    }
}

/// Standard input as one JSON value; otherwise bad input naming the line and column.
fn value_from_stdin(io: &mut Io) -> Result<Value, Failure> {
    let text = io
        .read_stdin()
        .map_err(|err| Failure::bad_input(format!("cannot read stdin: {err}")))?;
    serde_json::from_str(&text).map_err(|err| {
        // serde_json's message ends with the line and column.
        Failure::bad_input(format!("stdin is not one JSON value: {err}"))
    })
}

/// Connects and runs one operation. Connecting failures are bad input (nothing was
/// done); the operation's own error is returned for the caller to judge.
fn on_store<T, F, Fut>(target: &Target, op: F) -> Result<T, OpError>
where
    F: FnOnce(std::sync::Arc<dyn VersionedStore>) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let runtime = runtime().map_err(OpError::Setup)?;
    runtime.block_on(async {
        let store = target
            .connect()
            .await
            .map_err(|err| OpError::Setup(Failure::setup(&err)))?;
        op(store).await.map_err(OpError::Store)
    })
}

/// Why an operation did not happen.
enum OpError {
    /// The store could not be set up.
    Setup(Failure),
    /// The store answered an error.
    Store(Error),
}

impl From<OpError> for Failure {
    fn from(err: OpError) -> Self {
        match err {
            OpError::Setup(failure) => failure,
            OpError::Store(err) => store_failure(&err),
        }
    }
}

fn versioned(written: Result<Version, OpError>, io: &mut Io) -> Result<u8, Failure> {
    match written {
        Ok(version) => {
            io.out(&line(&json!({"version": version.get()})));
            Ok(exit::OK)
        }
        Err(err) => refused(err, io),
    }
}

/// A conflict prints the current item on stdout (`null` when there is none) and exits
/// [`exit::CONFLICT`]; other errors are failures.
fn refused(err: OpError, io: &mut Io) -> Result<u8, Failure> {
    match err {
        OpError::Store(Error::Conflict { conflict, .. }) => {
            let current = conflict
                .current()
                .map(|item| json!({"version": item.version.get(), "value": item.value}));
            io.err(&format!("optimist: conflict: {}\n", describe(&conflict)));
            io.out(&line(&current.unwrap_or(Value::Null)));
            Ok(exit::CONFLICT)
        }
        other => Err(other.into()),
    }
}

fn describe(conflict: &Conflict) -> String {
    conflict.to_string()
}

fn store_failure(err: &Error) -> Failure {
    let code = if err.is_invalid_input() {
        exit::BAD_INPUT
    } else {
        exit::FAILED
    };
    Failure {
        code,
        message: exit::one_line(err),
    }
}

fn line(value: &Value) -> String {
    format!("{value}\n")
}

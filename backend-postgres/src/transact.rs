//! Transactions: lock every key, judge every op, then write all or nothing.
//!
//! One database transaction at READ COMMITTED, in three statements:
//! 1. `lock_keys` locks every key the ops name, in one stable order, and returns each
//!    key's newest committed row; an absent key gets an uncommitted placeholder row, so
//!    it is locked too (a concurrent insert of it waits for this transaction).
//! 2. Every op is judged against those rows, as the memory store judges them. If any
//!    fails, the transaction rolls back (placeholders vanish) and every failure is
//!    reported with its op's index and the current item.
//! 3. Otherwise `apply` writes the new values and versions and deletes what ends absent
//!    (deleted items and untouched placeholders), and the transaction commits.
//!
//! Every key is locked from step 1 to the commit, so the transaction takes effect at
//! one instant. Serialization failures and deadlocks (a lock order can still cross a
//! foreign transaction's) roll back and are retried within the store's budget.

use std::collections::HashMap;

use optimist_core::{Error, Key, OpFailure, Operation, Result, TxAction, TxOp, Version, Versioned};
use serde_json::Value;
use sqlx::{Connection, Row};

use crate::codec::{item_from_columns, key_columns, key_from_columns, next_version, value_text};
use crate::error::{Context, Failure, bad_row, classify};
use crate::store::PostgresStore;

type Attempt<T> = std::result::Result<T, Failure>;

/// Runs a validated list of ops.
pub(crate) async fn run(store: &PostgresStore, ops: &[TxOp]) -> Result<Vec<Option<Version>>> {
    let ctx = Context::write(Operation::Transact, None);
    let texts = ops
        .iter()
        .map(|op| op.action().value().map(|v| value_text(ctx, v)).transpose())
        .collect::<Result<Vec<_>>>()?;
    store
        .inner()
        .retry
        .run(ctx, || once(store, ops, &texts))
        .await
}

/// What step 2 decided.
enum Decision<'a> {
    Refuse(Vec<OpFailure>),
    Apply(Plan<'a>),
}

/// The writes of a transaction whose ops all pass.
#[derive(Default)]
struct Plan<'a> {
    write_partitions: Vec<&'a str>,
    write_sorts: Vec<&'a str>,
    write_values: Vec<&'a str>,
    write_versions: Vec<i64>,
    delete_partitions: Vec<&'a str>,
    delete_sorts: Vec<&'a str>,
    results: Vec<Option<Version>>,
}

async fn once(
    store: &PostgresStore,
    ops: &[TxOp],
    texts: &[Option<String>],
) -> Attempt<Vec<Option<Version>>> {
    // Until COMMIT is sent, a broken connection means the server rolls back.
    let before_commit = Context::read(Operation::Transact, None);
    let mut conn = store.connection(before_commit).await?;
    let mut tx = conn
        .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
        .await
        .map_err(|e| classify(e, before_commit))?;
    let decided = match lock_keys(store, &mut tx, ops).await {
        Ok(current) => decide(ops, texts, &current),
        Err(failure) => Err(failure),
    };
    let plan = match decided {
        Ok(Decision::Apply(plan)) => plan,
        Ok(Decision::Refuse(failures)) => {
            rollback(tx).await;
            return Err(Failure::Final(Error::TransactionConflict { failures }));
        }
        Err(failure) => {
            rollback(tx).await;
            return Err(failure);
        }
    };
    if let Err(failure) = apply(store, &mut tx, &plan).await {
        rollback(tx).await;
        return Err(failure);
    }
    let commit = Context::write(Operation::Transact, None);
    tx.commit().await.map_err(|e| classify(e, commit))?;
    Ok(plan.results)
}

async fn rollback(tx: sqlx::Transaction<'_, sqlx::Postgres>) {
    // If this fails the connection is broken, and the server rolls back on its own.
    if let Err(err) = tx.rollback().await {
        tracing::debug!(%err, "rollback failed");
    }
}

/// Step 1: every key's locked row, `None` for a placeholder (an absent key).
async fn lock_keys(
    store: &PostgresStore,
    tx: &mut sqlx::PgConnection,
    ops: &[TxOp],
) -> Attempt<HashMap<Key, Option<Versioned<Value>>>> {
    let ctx = Context::read(Operation::Transact, None);
    let (partitions, sorts): (Vec<&str>, Vec<&str>) =
        ops.iter().map(|op| key_columns(op.key())).unzip();
    let rows = sqlx::query(&store.inner().sql.lock_keys)
        .bind(&partitions)
        .bind(&sorts)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| classify(e, ctx))?;
    let column = |e| Failure::Final(crate::error::map(e, ctx));
    let mut current = HashMap::with_capacity(rows.len());
    for row in &rows {
        let partition: &str = row.try_get(0).map_err(column)?;
        let sort: &str = row.try_get(1).map_err(column)?;
        let placeholder: bool = row.try_get(2).map_err(column)?;
        let key = key_from_columns(partition, sort);
        let item = if placeholder {
            None
        } else {
            let key_ctx = Context::read(Operation::Transact, Some(&key));
            Some(item_from_columns(
                key_ctx,
                row.try_get(4).map_err(column)?,
                row.try_get(3).map_err(column)?,
            )?)
        };
        current.insert(key, item);
    }
    if current.len() != ops.len() {
        return Err(bad_row(ctx, "locking the transaction's keys returned other rows").into());
    }
    Ok(current)
}

/// Step 2: the failures, or the writes.
fn decide<'a>(
    ops: &'a [TxOp],
    texts: &'a [Option<String>],
    current: &HashMap<Key, Option<Versioned<Value>>>,
) -> Attempt<Decision<'a>> {
    let state = |key: &Key| current.get(key).and_then(Option::as_ref);
    let failures: Vec<OpFailure> = ops
        .iter()
        .enumerate()
        .filter_map(|(index, op)| {
            op.action()
                .conflict_with(state(op.key()))
                .map(|conflict| OpFailure {
                    index,
                    key: op.key().clone(),
                    conflict,
                })
        })
        .collect();
    if !failures.is_empty() {
        return Ok(Decision::Refuse(failures));
    }
    let mut plan = Plan::default();
    for (op, text) in ops.iter().zip(texts) {
        let (partition, sort) = key_columns(op.key());
        let ctx = Context::read(Operation::Transact, Some(op.key()));
        let result = match (op.action(), text) {
            (TxAction::Insert(_) | TxAction::Update { .. } | TxAction::Put(_), Some(text)) => {
                let version = match state(op.key()) {
                    Some(item) => next_version(ctx, item.version)?,
                    None => Version::FIRST,
                };
                plan.write_partitions.push(partition);
                plan.write_sorts.push(sort);
                plan.write_values.push(text);
                // next_version keeps versions within BIGINT.
                plan.write_versions
                    .push(i64::try_from(version.get()).unwrap_or(i64::MAX));
                Some(version)
            }
            (TxAction::Check { expected }, _) => Some(*expected),
            (TxAction::Delete { .. } | TxAction::Remove, _) => {
                plan.delete_partitions.push(partition);
                plan.delete_sorts.push(sort);
                None
            }
            _ => return Err(bad_row(ctx, "a write op without its encoded value").into()),
        };
        plan.results.push(result);
    }
    Ok(Decision::Apply(plan))
}

/// Step 3: the writes, on rows this transaction holds locked.
async fn apply(store: &PostgresStore, tx: &mut sqlx::PgConnection, plan: &Plan<'_>) -> Attempt<()> {
    let ctx = Context::read(Operation::Transact, None);
    if plan.write_partitions.is_empty() && plan.delete_partitions.is_empty() {
        return Ok(()); // only checks
    }
    let row = sqlx::query(&store.inner().sql.apply)
        .bind(&plan.write_partitions)
        .bind(&plan.write_sorts)
        .bind(&plan.write_values)
        .bind(&plan.write_versions)
        .bind(&plan.delete_partitions)
        .bind(&plan.delete_sorts)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| classify(e, ctx))?;
    let column = |e| Failure::Final(crate::error::map(e, ctx));
    let written: i64 = row.try_get(0).map_err(column)?;
    let deleted: i64 = row.try_get(1).map_err(column)?;
    let expected = (plan.write_partitions.len(), plan.delete_partitions.len());
    if usize::try_from(written).ok() != Some(expected.0)
        || usize::try_from(deleted).ok() != Some(expected.1)
    {
        return Err(bad_row(
            ctx,
            format!(
                "the transaction's locked rows changed: wrote {written} of {}, deleted {deleted} of {}",
                expected.0, expected.1
            ),
        )
        .into());
    }
    Ok(())
}

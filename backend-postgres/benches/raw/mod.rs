//! The bare-sqlx side of the PostgreSQL benches: the store's own statements, written
//! out, bound and decoded by hand, on connections like the store's: a fixed number,
//! opened and with every statement prepared before the first call, each handed back
//! as it is when a call ends (sqlx's `PgPool` would send one more exchange per call,
//! which the store's own pool does not). Shared by `postgres.rs` and `report.rs`.

#![allow(dead_code)] // each bench uses its part

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, PoisonError};

use serde_json::Value;
use sqlx::{Connection, Executor, PgConnection, Row};
use tokio::sync::Semaphore;

/// The store's statements on one table, run with bare sqlx.
pub struct Raw {
    idle: Mutex<Vec<PgConnection>>,
    available: Semaphore,
    table: String,
    get: String,
    insert: String,
    update: String,
}

/// A connection taken from [`Raw`]'s idle list, handed back when dropped.
pub struct Lease<'r> {
    conn: Option<PgConnection>,
    raw: &'r Raw,
}

impl Deref for Lease<'_> {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }
}

impl DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn
            .as_mut()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.raw
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
            self.raw.available.add_permits(1);
        }
    }
}

impl Raw {
    /// `connections` connections to `url`, each with the statements on `table` (which
    /// a store has created) prepared.
    pub async fn connect(url: &str, table: &str, connections: u32) -> Result<Self, sqlx::Error> {
        let t = format!("\"{table}\"");
        let mut raw = Raw {
            idle: Mutex::new(Vec::new()),
            available: Semaphore::new(0),
            table: t.clone(),
            get: format!(
                "SELECT value::text, version, token FROM {t} WHERE partition = $1 AND sort = $2"
            ),
            insert: format!(
                "INSERT INTO {t} AS t (partition, sort, value, version, token) \
                 VALUES ($1, $2, $3::text::json, 1, $4) \
                 ON CONFLICT (partition, sort) DO UPDATE SET version = t.version \
                 RETURNING t.xmax = 0, \
                 CASE WHEN t.xmax = 0 THEN NULL ELSE t.value::text END, t.version, \
                 CASE WHEN t.xmax = 0 THEN NULL ELSE t.token END"
            ),
            // The store's `replace`, `$6` false: an update of a live item.
            update: format!(
                "WITH cur AS MATERIALIZED (\
                 SELECT version, value, token FROM {t} WHERE partition = $1 AND sort = $2 \
                 FOR UPDATE), \
                 upd AS (UPDATE {t} AS t SET value = $4::text::json, version = t.version + 1, \
                 token = $5, deleted_at = NULL \
                 FROM cur WHERE t.partition = $1 AND t.sort = $2 AND cur.version = $3 \
                 AND (cur.value IS NULL) = $6 RETURNING t.version) \
                 SELECT upd.version, \
                 CASE WHEN upd.version IS NULL THEN cur.value::text END, cur.version, \
                 CASE WHEN upd.version IS NULL THEN cur.token END \
                 FROM cur LEFT JOIN upd ON true"
            ),
        };
        let mut conns = Vec::new();
        for _ in 0..connections.max(1) {
            let mut conn = PgConnection::connect(url).await?;
            // The session the store's connections set up: plans by the primary key at
            // every table size (see the store's pool).
            conn.execute("SET enable_seqscan = off").await?;
            for statement in [&raw.get, &raw.insert, &raw.update] {
                conn.prepare(statement.as_str()).await?;
            }
            conns.push(conn);
        }
        raw.available.add_permits(conns.len());
        raw.idle = Mutex::new(conns);
        Ok(raw)
    }

    /// An idle connection, waiting for one.
    pub async fn lease(&self) -> Lease<'_> {
        if let Ok(permit) = self.available.acquire().await {
            permit.forget();
        }
        let conn = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        Lease { conn, raw: self }
    }

    pub async fn get(&self, key: &str) -> Option<(Value, i64)> {
        let mut conn = self.lease().await;
        let row = sqlx::query(&self.get)
            .bind(key)
            .bind("")
            .fetch_optional(&mut *conn)
            .await
            .ok()??;
        let text: &str = row.try_get(0).ok()?;
        let _token: Option<&str> = row.try_get(2).ok()?;
        Some((serde_json::from_str(text).ok()?, row.try_get(1).ok()?))
    }

    pub async fn insert(&self, key: &str, value: &Value) -> Option<i64> {
        let text = serde_json::to_string(value).ok()?;
        let mut conn = self.lease().await;
        let row = sqlx::query(&self.insert)
            .bind(key)
            .bind("")
            .bind(text)
            .bind(token())
            .fetch_one(&mut *conn)
            .await
            .ok()?;
        let inserted: bool = row.try_get(0).ok()?;
        inserted.then(|| row.try_get(2).ok()).flatten()
    }

    /// `Ok(new version)` or `Err(current item)`.
    pub async fn update(
        &self,
        key: &str,
        expected: i64,
        value: &Value,
    ) -> Result<i64, Option<(Value, i64)>> {
        let text = serde_json::to_string(value).map_err(|_| None)?;
        let mut conn = self.lease().await;
        let row = sqlx::query(&self.update)
            .bind(key)
            .bind("")
            .bind(expected)
            .bind(text)
            .bind(token())
            .bind(false)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|_| None)?
            .ok_or(None)?;
        drop(conn);
        if let Ok(Some(version)) = row.try_get::<Option<i64>, _>(0) {
            return Ok(version);
        }
        let text: Option<&str> = row.try_get(1).map_err(|_| None)?;
        let _token: Option<&str> = row.try_get(3).map_err(|_| None)?;
        let current = serde_json::from_str(text.unwrap_or("null")).map_err(|_| None)?;
        Err(Some((current, row.try_get(2).map_err(|_| None)?)))
    }

    /// Rows `from..to` (partition `name(n)`, no sort part) at version 1 holding `json`:
    /// one multi-row INSERT per ten thousand, in one transaction.
    pub async fn fill(&self, from: u64, to: u64, name: fn(u64) -> String, json: &str) {
        const CHUNK: u64 = 10_000;
        let sql = format!(
            "INSERT INTO {} (partition, sort, value, version, token) \
             SELECT p, '', $2::text::json, 1, k FROM unnest($1::text[], $3::text[]) AS u(p, k)",
            self.table
        );
        let mut conn = self.lease().await;
        let Ok(mut tx) = conn.begin().await else {
            eprintln!("filling items {from}..{to}: no transaction");
            return;
        };
        let mut start = from;
        while start < to {
            let end = (start + CHUNK).min(to);
            let names: Vec<String> = (start..end).map(name).collect();
            let tokens: Vec<String> = (start..end).map(|_| token()).collect();
            let done = sqlx::query(&sql)
                .bind(names)
                .bind(json)
                .bind(tokens)
                .execute(&mut *tx)
                .await;
            if let Err(err) = done {
                eprintln!("filling items {start}..{end}: {err}");
                return;
            }
            start = end;
        }
        if let Err(err) = tx.commit().await {
            eprintln!("filling items {from}..{to}: {err}");
        }
    }

    /// Closes every idle connection.
    pub async fn close(&self) {
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner));
        for conn in idle {
            let _ = conn.close().await;
        }
    }
}

/// A write token as the store makes one: 128 random bits as 32 hex digits.
pub fn token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

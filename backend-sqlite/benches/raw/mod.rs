//! The bare-sqlx side of the SQLite benches: the store's own SQL, bound and decoded by
//! hand, on the same kind of connection. Shared by `sqlite.rs` and `report.rs`.

#![allow(dead_code)] // each bench uses its part

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};
use tokio::sync::Mutex;

/// The bare-sqlx side: the store's own SQL on the same kind of connection.
pub enum Raw {
    Memory(Mutex<SqliteConnection>),
    Pool(SqlitePool),
}

pub const CREATE: &str = "CREATE TABLE IF NOT EXISTS optimist_items (\
    partition_key TEXT NOT NULL, \
    has_sort INTEGER NOT NULL CHECK (has_sort IN (0, 1)), \
    sort_key TEXT NOT NULL CHECK (has_sort = 1 OR sort_key = ''), \
    value TEXT, \
    version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0), \
    token TEXT, \
    deleted_at INTEGER, \
    PRIMARY KEY (partition_key, has_sort, sort_key)) STRICT";
pub const GET: &str = "SELECT value, version, token FROM optimist_items WHERE partition_key = ?1 AND has_sort = ?2 AND sort_key = ?3";
pub const INSERT: &str = "INSERT INTO optimist_items (partition_key, has_sort, sort_key, value, token, version) \
    VALUES (?1, ?2, ?3, ?4, ?5, 1) ON CONFLICT DO NOTHING";
// The store's `update_if_at`: ?6 the expected version, ?7 the new one.
pub const UPDATE: &str = "UPDATE optimist_items SET value = ?4, token = ?5, version = ?7 \
    WHERE partition_key = ?1 AND has_sort = ?2 AND sort_key = ?3 AND version = ?6 \
    AND value IS NOT NULL";

/// A fresh write token as the store writes one: 32 hex digits, new for every write.
pub fn token() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{:032x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

impl Raw {
    pub async fn get(&self, key: &str) -> Option<(Value, i64)> {
        let query = sqlx::query(GET).bind(key).bind(0i64).bind("");
        let row = match self {
            Raw::Memory(conn) => query.fetch_optional(&mut *conn.lock().await).await,
            Raw::Pool(pool) => query.fetch_optional(pool).await,
        };
        let row = row.ok()??;
        let text: &str = row.try_get(0).ok()?;
        let _token: Option<&str> = row.try_get(2).ok()?;
        Some((serde_json::from_str(text).ok()?, row.try_get(1).ok()?))
    }

    pub async fn execute(
        &self,
        sql: &str,
        key: &str,
        value: Option<&str>,
        version: Option<i64>,
    ) -> u64 {
        let mut query = sqlx::query(sql).bind(key).bind(0i64).bind("");
        if let Some(value) = value {
            query = query.bind(value).bind(token());
        }
        if let Some(version) = version {
            query = query.bind(version).bind(version + 1);
        }
        let done = match self {
            Raw::Memory(conn) => query.execute(&mut *conn.lock().await).await,
            Raw::Pool(pool) => query.execute(pool).await,
        };
        done.map_or(0, |d| d.rows_affected())
    }

    pub async fn insert(&self, key: &str, value: &Value) -> bool {
        let text = serde_json::to_string(value).unwrap_or_default();
        self.execute(INSERT, key, Some(&text), None).await == 1
    }

    pub async fn update(&self, key: &str, expected: i64, value: &Value) -> bool {
        let text = serde_json::to_string(value).unwrap_or_default();
        self.execute(UPDATE, key, Some(&text), Some(expected)).await == 1
    }

    /// An update as the store sends it, refused or not: the one autocommit UPDATE and,
    /// when it changes no row, the store's locked path: BEGIN IMMEDIATE, the SELECT of
    /// the current row under the write lock, then either the UPDATE and COMMIT (another
    /// writer made the version match in between) or a ROLLBACK that reports the row.
    /// `Ok(())`: applied; `Err(current)`: refused (with the current item, if read).
    pub async fn update_as_store(
        &self,
        key: &str,
        expected: i64,
        value: &Value,
    ) -> Result<(), Option<(Value, i64)>> {
        let text = serde_json::to_string(value).unwrap_or_default();
        let mut pooled;
        let mut guard;
        let conn: &mut SqliteConnection = match self {
            Raw::Memory(conn) => {
                guard = conn.lock().await;
                &mut guard
            }
            Raw::Pool(pool) => {
                pooled = pool.acquire().await.map_err(|_| None)?;
                &mut pooled
            }
        };
        let update = |token: String| {
            sqlx::query(UPDATE)
                .bind(key)
                .bind(0i64)
                .bind("")
                .bind(text.clone())
                .bind(token)
                .bind(expected)
                .bind(expected + 1)
        };
        let done = update(token())
            .execute(&mut *conn)
            .await
            .map_err(|_| None)?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(|_| None)?;
        let row = sqlx::query(GET)
            .bind(key)
            .bind(0i64)
            .bind("")
            .fetch_optional(&mut *tx)
            .await
            .map_err(|_| None)?
            .ok_or(None)?;
        let version: i64 = row.try_get(1).map_err(|_| None)?;
        if version == expected {
            update(token()).execute(&mut *tx).await.map_err(|_| None)?;
            tx.commit().await.map_err(|_| None)?;
            return Ok(());
        }
        // Dropping `tx` rolls back, as the store's refusal does.
        let text: &str = row.try_get(0).map_err(|_| None)?;
        let _token: Option<&str> = row.try_get(2).map_err(|_| None)?;
        Err(Some((
            serde_json::from_str(text).map_err(|_| None)?,
            version,
        )))
    }
}

pub fn options() -> SqliteConnectOptions {
    SqliteConnectOptions::new().busy_timeout(optimist_sqlite::DEFAULT_BUSY_TIMEOUT)
}

/// A fresh directory for a bench's database files: under `OPTIMIST_TMP` (set by the
/// scripts), else the system's temporary directory; `None` if it cannot be made.
pub fn bench_dir(name: &str) -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("OPTIMIST_TMP")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("{name}-{}", std::process::id()));
    match std::fs::create_dir_all(&dir) {
        Ok(()) => Some(dir),
        Err(err) => {
            eprintln!("cannot create {}: {err}", dir.display());
            None
        }
    }
}

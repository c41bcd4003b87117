//! The bare-driver side of the Redis benches: the store's own Lua scripts sent with
//! `EVALSHA`, the same keys and seven arguments per write, a fresh write token each,
//! on connections like the store's (as many `ConnectionManager`s as its pool, with its
//! default configuration and its protocol, taken in turn). Shared by `redis.rs` and
//! `report.rs`.

#![allow(dead_code)] // each bench uses its part
#![allow(clippy::panic)] // a bench with a broken setup has nothing to measure

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use optimist_core::url_options::{option_name, split_query};
use optimist_core::{Operation, WriteToken};
use optimist_redis::{DEFAULT_POOL_SIZE, RedisStoreBuilder};
use redis::aio::ConnectionManager;
use redis::{IntoConnectionInfo, ProtocolVersion};
use serde_json::Value;

/// The item in a read (`at` 0) or refusal (`at` 1) reply (`version, token, json`),
/// decoded as a caller would.
pub fn decode_item(reply: redis::Value, at: usize) -> Option<(Value, u64, Option<WriteToken>)> {
    let parts: Vec<Vec<u8>> = redis::from_redis_value(reply).ok()?;
    let version = std::str::from_utf8(parts.get(at)?).ok()?.parse().ok()?;
    let token = std::str::from_utf8(parts.get(at + 1)?).ok()?.parse().ok();
    let json = serde_json::from_slice(parts.get(at + 2)?).ok()?;
    Some((json, version, token))
}

/// A fresh write token as the scripts take it, drawn as the engine draws one.
pub fn token() -> String {
    WriteToken::random().to_string()
}

/// The bare driver: the same scripts, keys spelled and values encoded by hand.
pub struct Raw {
    conns: Vec<ConnectionManager>,
    next: AtomicUsize,
    prefix: String,
    shas: HashMap<Operation, String>,
}

impl Raw {
    /// [`DEFAULT_POOL_SIZE`] connections to `url`, each with the store's default
    /// configuration, for the store whose prefix is `prefix` (which loaded the scripts).
    pub async fn connect(url: &str, prefix: &str) -> redis::RedisResult<Self> {
        let mut info = url.into_connection_info()?;
        // The store speaks RESP3 unless its URL names a protocol.
        let named = split_query(url)
            .pairs()
            .any(|pair| option_name(pair) == "protocol");
        if !named {
            let settings = info
                .redis_settings()
                .clone()
                .set_protocol(ProtocolVersion::RESP3);
            info = info.set_redis_settings(settings);
        }
        let client = redis::Client::open(info)?;
        let mut conns = Vec::with_capacity(DEFAULT_POOL_SIZE);
        for _ in 0..DEFAULT_POOL_SIZE {
            conns.push(
                ConnectionManager::new_with_config(
                    client.clone(),
                    RedisStoreBuilder::default_config(),
                )
                .await?,
            );
        }
        let shas = [Operation::Get, Operation::Insert, Operation::Update]
            .into_iter()
            .map(|op| {
                let source = optimist_redis::lua_source(op).unwrap_or_default();
                (op, redis::Script::new(source).get_hash().to_string())
            })
            .collect();
        Ok(Self {
            conns,
            next: AtomicUsize::new(0),
            prefix: prefix.to_string(),
            shas,
        })
    }

    /// The Redis key of the item `partition` (no sort part), on one server.
    pub fn key(&self, partition: &str) -> String {
        format!("{{{}}}{}:{partition}", self.prefix, partition.len())
    }

    /// `read.lua` on one key.
    pub async fn read(&self, key: &str) -> redis::Value {
        self.evalsha(Operation::Get, &[key], &[]).await
    }

    /// `write.lua` on the item `partition` (no sort part): its key, its partition's
    /// index and the partitions set, and the write's five arguments followed by the
    /// key's index entry (partition, empty sort part).
    pub async fn write(&self, op: Operation, partition: &str, args: [&[u8]; 5]) -> redis::Value {
        let key = self.key(partition);
        let index = format!("{key}#index");
        let set = format!("{{{}}}#partitions", self.prefix);
        let mut all: Vec<&[u8]> = args.to_vec();
        all.extend([partition.as_bytes(), b""]);
        self.evalsha(op, &[&key, &index, &set], &all).await
    }

    /// One `EVALSHA` on the next connection in turn, as the store's pool takes them.
    async fn evalsha(&self, op: Operation, keys: &[&str], args: &[&[u8]]) -> redis::Value {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(self.shas.get(&op).map_or("", String::as_str))
            .arg(keys.len());
        for key in keys {
            cmd.arg(*key);
        }
        for arg in args {
            cmd.arg(*arg);
        }
        let at = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        let mut conn = self.conns[at].clone();
        cmd.query_async(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("raw {op}: {e}"))
    }

    /// An update of item `partition` as `write.lua` takes it: expecting `expected`,
    /// with a fresh token.
    pub async fn update(&self, partition: &str, expected: u64, json: &[u8]) -> redis::Value {
        let (expected, token) = (expected.to_string(), token());
        let args: [&[u8]; 5] = [b"at", expected.as_bytes(), b"put", json, token.as_bytes()];
        self.write(Operation::Update, partition, args).await
    }

    /// The version after an applied update (`{applied, previous}`), 0 if refused.
    pub fn next_after(&self, reply: redis::Value, expected: u64) -> u64 {
        let parts: Vec<String> = redis::from_redis_value(reply).unwrap_or_default();
        match parts.first().map(String::as_str) {
            Some("applied") => expected + 1,
            _ => 0,
        }
    }

    /// Items `from..to` (named by `name`), each inserted by `write.lua` at version 1
    /// holding `json`: the scripts pipelined, a thousand per round trip.
    pub async fn fill(&self, from: u64, to: u64, name: fn(u64) -> String, json: &[u8]) {
        const CHUNK: u64 = 1000;
        let sha = self.shas.get(&Operation::Insert).map_or("", String::as_str);
        let set = format!("{{{}}}#partitions", self.prefix);
        let mut conn = self.conns[0].clone();
        let mut start = from;
        while start < to {
            let end = (start + CHUNK).min(to);
            let mut pipe = redis::pipe();
            for n in start..end {
                let partition = name(n);
                let key = self.key(&partition);
                pipe.cmd("EVALSHA")
                    .arg(sha)
                    .arg(3)
                    .arg(&key)
                    .arg(format!("{key}#index"))
                    .arg(&set)
                    .arg("absent")
                    .arg("")
                    .arg("put")
                    .arg(json)
                    .arg(token())
                    .arg(&partition)
                    .arg("")
                    .ignore();
            }
            if let Err(err) = pipe.query_async::<()>(&mut conn).await {
                panic!("filling items {start}..{end}: {err}");
            }
            start = end;
        }
    }
}

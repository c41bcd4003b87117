//! The Lua scripts, one per storage request (read, read many, query, scan, write,
//! commit, purge), and how they are sent: `EVALSHA`, falling back to `EVAL` when the server's script cache lacks the
//! script (`NOSCRIPT`).

use std::sync::OnceLock;

use redis::{Cmd, ErrorKind, RedisResult, ServerErrorKind, Value};

use crate::RedisConnection;

macro_rules! lua {
    ($shebang:literal, $file:literal) => {
        concat!(
            $shebang,
            "\n",
            include_str!("lua/prelude.lua"),
            include_str!(concat!("lua/", $file))
        )
    };
}

/// One server-side script: its source and SHA1.
#[derive(Debug)]
pub(crate) struct Script {
    pub(crate) name: &'static str,
    pub(crate) body: &'static str,
    pub(crate) sha: String,
}

impl Script {
    fn new(name: &'static str, body: &'static str) -> Self {
        let sha = redis::Script::new(body).get_hash().to_string();
        Self { name, body, sha }
    }
}

/// Every script the store runs: one per [`Storage`](optimist_core::Storage) method.
#[derive(Debug)]
pub(crate) struct Scripts {
    /// `read.lua`: one item.
    pub(crate) read: Script,
    /// `write.lua`: one conditional write (insert, update, delete, put, remove).
    pub(crate) write: Script,
    /// `commit.lua`: a transaction's writes, all or none.
    pub(crate) commit: Script,
    /// `purge.lua`: removes the old tombstones among the keys of one SCAN step.
    pub(crate) purge: Script,
    /// `read_many.lua`: several items at once.
    pub(crate) read_many: Script,
    /// `query.lua`: one page of a partition, from its index.
    pub(crate) query: Script,
    /// `scan.lua`: one page of the whole store, from its partitions set and indexes.
    pub(crate) scan: Script,
}

impl Scripts {
    pub(crate) fn all(&self) -> [&Script; 7] {
        [
            &self.read,
            &self.write,
            &self.commit,
            &self.purge,
            &self.read_many,
            &self.query,
            &self.scan,
        ]
    }
}

/// The scripts, hashed once per process.
pub(crate) fn scripts() -> &'static Scripts {
    static SCRIPTS: OnceLock<Scripts> = OnceLock::new();
    SCRIPTS.get_or_init(|| Scripts {
        // `#!lua` declares the flags up front (Redis 7): a script without `allow-oom`
        // is refused before it starts when the server is out of memory, rather than
        // failing between two writes. `read` writes nothing, so replicas may run it.
        read: Script::new("read", lua!("#!lua flags=no-writes", "read.lua")),
        write: Script::new("write", lua!("#!lua", "write.lua")),
        commit: Script::new("commit", lua!("#!lua", "commit.lua")),
        purge: Script::new("purge", lua!("#!lua", "purge.lua")),
        // The reads below write nothing either.
        read_many: Script::new("read_many", lua!("#!lua flags=no-writes", "read_many.lua")),
        query: Script::new("query", lua!("#!lua flags=no-writes", "query.lua")),
        scan: Script::new("scan", lua!("#!lua flags=no-writes", "scan.lua")),
    })
}

/// The Lua source a store runs for `operation`; `None` for operations without a
/// script of their own (`Check` runs inside `transact`, `Setup` runs none).
pub(crate) fn source(operation: optimist_core::Operation) -> Option<&'static str> {
    use optimist_core::Operation as Op;
    let s = scripts();
    let script = match operation {
        Op::Get => &s.read,
        Op::Insert | Op::Update | Op::Delete | Op::Put | Op::Remove => &s.write,
        Op::Transact => &s.commit,
        Op::PurgeTombstones => &s.purge,
        Op::GetMany => &s.read_many,
        Op::Query => &s.query,
        Op::Scan => &s.scan,
        _ => return None,
    };
    Some(script.body)
}

/// The arguments of one script call.
pub(crate) struct Call<'a> {
    pub(crate) keys: &'a [Vec<u8>],
    pub(crate) args: &'a [&'a [u8]],
}

impl Call<'_> {
    fn command(&self, verb: &str, script: &str) -> Cmd {
        // Sized up front: the command is written once, without growing its buffers
        // argument by argument (a measurable share of a call's own cost).
        let count = 3 + self.keys.len() + self.args.len();
        let bytes = verb.len()
            + script.len()
            + 4
            + self.keys.iter().map(Vec::len).sum::<usize>()
            + self.args.iter().map(|arg| arg.len()).sum::<usize>();
        let mut cmd = Cmd::with_capacity(count, bytes);
        cmd.arg(verb).arg(script).arg(self.keys.len());
        for key in self.keys {
            cmd.arg(key.as_slice());
        }
        for arg in self.args {
            cmd.arg(*arg);
        }
        cmd
    }
}

/// Runs `script`: one round trip while the server has it cached, which it has from the
/// store's build on (`SCRIPT LOAD`); after a `SCRIPT FLUSH` or a restart, the first call
/// of each script takes a second round trip (`EVAL`, which caches it again).
pub(crate) async fn run(
    conn: &RedisConnection,
    script: &Script,
    call: Call<'_>,
) -> RedisResult<Value> {
    let mut conn = conn.clone();
    match call
        .command("EVALSHA", &script.sha)
        .query_async(&mut conn)
        .await
    {
        Err(err) if err.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
            tracing::debug!(
                script = script.name,
                "script not cached on the server, sending it"
            );
            call.command("EVAL", script.body)
                .query_async(&mut conn)
                .await
        }
        other => other,
    }
}

/// Loads every script into the server's cache, in one round trip; on a cluster, into
/// every node's, one `SCRIPT LOAD` per script (the cluster client sends each to every
/// node, and it cannot route a pipeline to several).
pub(crate) async fn load_all(conn: &RedisConnection) -> RedisResult<()> {
    if let RedisConnection::Cluster(cluster) = conn {
        let mut cluster = cluster.clone();
        for script in scripts().all() {
            redis::cmd("SCRIPT")
                .arg("LOAD")
                .arg(script.body)
                .query_async::<()>(&mut cluster)
                .await?;
        }
        return Ok(());
    }
    let mut pipe = redis::pipe();
    for script in scripts().all() {
        pipe.cmd("SCRIPT").arg("LOAD").arg(script.body).ignore();
    }
    let mut conn = conn.clone();
    pipe.query_async::<()>(&mut conn).await
}

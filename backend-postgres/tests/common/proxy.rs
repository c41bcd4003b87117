//! A TCP proxy between the store and the server that counts what the client sends, to
//! prove how many round trips an operation takes.
//!
//! In PostgreSQL's protocol a client waits for the server only after a `Sync` (extended
//! protocol: Parse/Bind/Execute... then Sync) or a simple `Query`; each one is answered
//! by ReadyForQuery. So round trips = Sync + Query messages sent, every one of them. A
//! Sync sent alone is a ping (sqlx's own pool pings every connection it takes back,
//! after the call returned): it is a round trip, and is also counted apart, to name it.
//!
//! It can also play a server that goes away ([`Proxy::cut`]) or one that stops
//! answering on the connections open now ([`Proxy::stall_open`]): their answers are held
//! back (and counted) while new connections work normally.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the client sent since the last reset.
#[derive(Default)]
pub struct Counts {
    syncs: AtomicUsize,
    pings: AtomicUsize,
    queries: AtomicUsize,
    parses: AtomicUsize,
    kinds: std::sync::Mutex<Vec<u8>>,
}

/// A snapshot of [`Counts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Sync + Query messages, pings included: each waits for the server's answer.
    pub round_trips: usize,
    /// Syncs sent alone: connection checks, not statements.
    pub pings: usize,
    /// Parse messages: statements prepared.
    pub parses: usize,
}

/// One proxied connection: its pipe, and whether its answers are held back.
struct Pipe {
    task: JoinHandle<()>,
    stalled: Arc<AtomicBool>,
}

/// A running proxy.
pub struct Proxy {
    pub port: u16,
    counts: Arc<Counts>,
    cut: Arc<AtomicBool>,
    accept: JoinHandle<()>,
    pipes: Arc<std::sync::Mutex<Vec<Pipe>>>,
    /// Connections accepted and forwarded.
    connections: Arc<AtomicUsize>,
    /// Connections refused (closed at once) after a cut.
    refused: Arc<AtomicUsize>,
    /// Bytes of answers held back on stalled connections.
    held: Arc<AtomicUsize>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream` (host:port).
    pub async fn start(upstream: String) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let counts = Arc::new(Counts::default());
        let cut = Arc::new(AtomicBool::new(false));
        let pipes: Arc<std::sync::Mutex<Vec<Pipe>>> = Arc::default();
        let connections = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let held = Arc::new(AtomicUsize::new(0));
        let accept = {
            let (counts, cut, pipes) = (counts.clone(), cut.clone(), pipes.clone());
            let (connections, refused, held) = (connections.clone(), refused.clone(), held.clone());
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    if cut.load(Ordering::SeqCst) {
                        refused.fetch_add(1, Ordering::SeqCst);
                        continue; // refuse by closing at once
                    }
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        continue;
                    };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let stalled = Arc::new(AtomicBool::new(false));
                    let task = tokio::spawn(pipe(
                        client,
                        server,
                        counts.clone(),
                        stalled.clone(),
                        held.clone(),
                    ));
                    pipes
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(Pipe { task, stalled });
                }
            })
        };
        Ok(Proxy {
            port,
            counts,
            cut,
            accept,
            pipes,
            connections,
            refused,
            held,
        })
    }

    /// Connections accepted and forwarded so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Connections refused since [`cut`](Self::cut).
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    /// Bytes of answers held back by [`stall_open`](Self::stall_open) so far.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// The server stops answering on every connection open now: what it sends there is
    /// held back from then on (what the client sends still reaches it). Connections
    /// opened later are not stalled.
    pub fn stall_open(&self) {
        for pipe in self.pipes.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            pipe.stalled.store(true, Ordering::SeqCst);
        }
    }

    /// Forgets what was counted.
    pub fn reset(&self) {
        self.counts.syncs.store(0, Ordering::SeqCst);
        self.counts.pings.store(0, Ordering::SeqCst);
        self.counts.queries.store(0, Ordering::SeqCst);
        self.counts.parses.store(0, Ordering::SeqCst);
        self.counts
            .kinds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// What the client sent since the last reset.
    pub fn sent(&self) -> Sent {
        Sent {
            round_trips: self.counts.syncs.load(Ordering::SeqCst)
                + self.counts.queries.load(Ordering::SeqCst),
            pings: self.counts.pings.load(Ordering::SeqCst),
            parses: self.counts.parses.load(Ordering::SeqCst),
        }
    }

    /// The message types sent since the last reset, as letters (`Q`, `B`, `E`, `S`...).
    pub fn kinds(&self) -> String {
        let kinds = self.counts.kinds.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&kinds).into_owned()
    }

    /// Breaks every open connection and closes new ones at once: the server "goes away".
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for pipe in self
            .pipes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            pipe.task.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn pipe(
    client: TcpStream,
    server: TcpStream,
    counts: Arc<Counts>,
    stalled: Arc<AtomicBool>,
    held: Arc<AtomicUsize>,
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let down = tokio::spawn(async move {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = match server_read.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if stalled.load(Ordering::SeqCst) {
                // Held for good: the client gives up and closes, which ends this task.
                held.fetch_add(n, Ordering::SeqCst);
                continue;
            }
            if client_write.write_all(&chunk[..n]).await.is_err() {
                break;
            }
        }
    });
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut started = false;
    let mut since_sync = 0usize;
    loop {
        let n = match client_read.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        buffer.extend_from_slice(&chunk[..n]);
        // Count every complete message; bytes are forwarded unchanged.
        loop {
            let (kind, len) = if started {
                if buffer.len() < 5 {
                    break;
                }
                let len = u32::from_be_bytes([buffer[1], buffer[2], buffer[3], buffer[4]]) as usize;
                (Some(buffer[0]), len + 1)
            } else {
                if buffer.len() < 8 {
                    break;
                }
                let len = u32::from_be_bytes([buffer[0], buffer[1], buffer[2], buffer[3]]) as usize;
                let code = u32::from_be_bytes([buffer[4], buffer[5], buffer[6], buffer[7]]);
                // SSLRequest and GSSENCRequest come before the startup message.
                if code == 196_608 {
                    started = true;
                }
                (None, len)
            };
            if buffer.len() < len {
                break;
            }
            if let Some(kind) = kind {
                counts
                    .kinds
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(kind);
            }
            if kind == Some(b'S') && since_sync == 0 {
                counts.pings.fetch_add(1, Ordering::SeqCst);
            }
            since_sync = if matches!(kind, Some(b'S' | b'Q')) {
                0
            } else {
                since_sync + 1
            };
            match kind {
                Some(b'S') => counts.syncs.fetch_add(1, Ordering::SeqCst),
                Some(b'Q') => counts.queries.fetch_add(1, Ordering::SeqCst),
                Some(b'P') => counts.parses.fetch_add(1, Ordering::SeqCst),
                _ => 0,
            };
            buffer.drain(..len);
        }
        if server_write.write_all(&chunk[..n]).await.is_err() {
            break;
        }
    }
    down.abort();
}

//! A TCP proxy between a store and the Redis server that counts what the client sends,
//! so tests can prove "one round trip per operation" by observation, and can cut the
//! connection to play an outage. It also tells its connections apart (numbered in the
//! order they were accepted), so a test can hold the answers on them, count the
//! commands each carried, and cut one alone.
//!
//! A *turn* is a burst of client bytes after a server reply (or the first ever): the
//! client had to wait for an answer before sending again, which is one round trip.
//! *Commands* are the RESP commands parsed out of the client's bytes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Default)]
struct Shared {
    commands: Mutex<Vec<String>>,
    turns: AtomicUsize,
    awaiting_reply: AtomicBool,
    swallow_replies: AtomicBool,
    swallow_next_reply: AtomicBool,
    refuse_hello: AtomicBool,
    connections: Mutex<Vec<Connection>>,
}

/// One accepted connection: its forwarding task, and what it carried.
struct Connection {
    task: JoinHandle<()>,
    seen: Arc<Seen>,
}

/// What one connection carried, and whether its answers are held back.
struct Seen {
    commands: Mutex<Vec<String>>,
    hold: watch::Sender<bool>,
}

/// What the client sent since the last [`Proxy::take`].
#[derive(Debug, PartialEq, Eq)]
pub struct Traffic {
    /// Command names in order (`EVALSHA`, ...).
    pub commands: Vec<String>,
    /// Round trips.
    pub turns: usize,
}

pub struct Proxy {
    addr: SocketAddr,
    info: ConnectionInfo,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// A proxy on a free loopback port to the server of `url`.
    pub async fn start(url: &str) -> Proxy {
        let info = url
            .into_connection_info()
            .unwrap_or_else(|e| panic!("bad test URL: {e}"));
        let ConnectionAddr::Tcp(host, port) = info.addr().clone() else {
            panic!("the test server must be reached over plain TCP");
        };
        let upstream = tokio::net::lookup_host((host.as_str(), port))
            .await
            .ok()
            .and_then(|mut addrs| addrs.next())
            .unwrap_or_else(|| panic!("cannot resolve the test server's host"));
        Self::listen(
            upstream,
            info,
            "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()),
        )
        .await
    }

    /// A new proxy on the same port as this stopped one (the server "comes back").
    pub async fn restart(&self, upstream_url: &str) -> Proxy {
        let info = upstream_url
            .into_connection_info()
            .unwrap_or_else(|e| panic!("{e}"));
        let ConnectionAddr::Tcp(host, port) = info.addr().clone() else {
            unreachable!()
        };
        let upstream = tokio::net::lookup_host((host.as_str(), port))
            .await
            .ok()
            .and_then(|mut a| a.next())
            .unwrap_or_else(|| panic!("cannot resolve"));
        Self::listen(upstream, info, self.addr).await
    }

    async fn listen(upstream: SocketAddr, info: ConnectionInfo, at: SocketAddr) -> Proxy {
        let listener = TcpListener::bind(at)
            .await
            .unwrap_or_else(|e| panic!("bind {at}: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let shared = Arc::new(Shared::default());
        let accept_shared = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = accept_shared.clone();
                let seen = Arc::new(Seen {
                    commands: Mutex::new(Vec::new()),
                    hold: watch::Sender::new(false),
                });
                let task_seen = seen.clone();
                let task = tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        forward(client, server, shared, task_seen).await;
                    }
                });
                accept_shared
                    .connections
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(Connection { task, seen });
            }
        });
        let info = info.set_addr(ConnectionAddr::Tcp(addr.ip().to_string(), addr.port()));
        Proxy {
            addr,
            info,
            shared,
            accept,
        }
    }

    /// A connection manager that goes through the proxy, with the same credentials.
    /// Few reconnection attempts, so outage tests do not wait long.
    pub async fn manager(&self) -> ConnectionManager {
        let client = redis::Client::open(self.info.clone()).unwrap_or_else(|e| panic!("{e}"));
        let config = optimist_redis::RedisStoreBuilder::default_config()
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(50));
        ConnectionManager::new_with_config(client, config)
            .await
            .unwrap_or_else(|e| panic!("connect through the proxy: {e}"))
    }

    /// A client that goes through the proxy, with the same credentials.
    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.info.clone()).unwrap_or_else(|e| panic!("{e}"))
    }

    /// How many connections the proxy accepted so far.
    pub fn connections(&self) -> usize {
        self.lock_connections().len()
    }

    /// The command names connection `index` carried so far (`EVALSHA`, ...).
    pub fn commands_on(&self, index: usize) -> Vec<String> {
        let connections = self.lock_connections();
        let seen = &connections
            .get(index)
            .unwrap_or_else(|| panic!("no connection {index}"))
            .seen;
        seen.commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many `EVALSHA` (script calls) connection `index` carried so far.
    pub fn script_calls_on(&self, index: usize) -> usize {
        self.commands_on(index)
            .iter()
            .filter(|c| *c == "EVALSHA")
            .count()
    }

    /// From now on, the answers on connection `index` wait in the proxy (the requests
    /// still reach the server) until [`release`](Self::release).
    pub fn hold(&self, index: usize) {
        self.set_hold(index, true);
    }

    /// Answers held on connection `index` go on.
    pub fn release(&self, index: usize) {
        self.set_hold(index, false);
    }

    fn set_hold(&self, index: usize, hold: bool) {
        let connections = self.lock_connections();
        let seen = &connections
            .get(index)
            .unwrap_or_else(|| panic!("no connection {index}"))
            .seen;
        seen.hold.send_replace(hold);
    }

    /// Closes connection `index`, both ways, as a network failure would: whatever
    /// answers it held are lost. The others go on.
    pub fn cut(&self, index: usize) {
        self.lock_connections()
            .get(index)
            .unwrap_or_else(|| panic!("no connection {index}"))
            .task
            .abort();
    }

    fn lock_connections(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.shared
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets what was counted so far.
    pub fn reset(&self) {
        self.take();
    }

    /// What the client sent since the last call.
    pub fn take(&self) -> Traffic {
        let commands = std::mem::take(
            &mut *self
                .shared
                .commands
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        Traffic {
            commands,
            turns: self.shared.turns.swap(0, Ordering::SeqCst),
        }
    }

    /// From now on, requests still reach the server but the connection is cut as soon
    /// as the server answers: the client never learns the outcome.
    pub fn swallow_replies(&self) {
        self.shared.swallow_replies.store(true, Ordering::SeqCst);
    }

    /// The next reply is lost the same way, once; later ones pass again.
    pub fn swallow_next_reply(&self) {
        self.shared.swallow_next_reply.store(true, Ordering::SeqCst);
    }

    /// From now on, the proxy answers `HELLO` itself with the error a server without
    /// RESP3 gives (Redis before 6), and does not pass it on.
    pub fn refuse_hello(&self) {
        self.shared.refuse_hello.store(true, Ordering::SeqCst);
    }

    /// `url` (the test server's) with the proxy's address in place of the server's.
    pub fn url_through(&self, url: &str) -> String {
        optimist_conformance::network::url_through(url, self.addr)
            .unwrap_or_else(|| panic!("the test URL names no port"))
            .0
    }

    /// Closes every connection, and from now on accepts new ones on the proxy's port
    /// but never answers on them (a server that hangs, a load balancer whose backend
    /// is gone), until [`Silent::close`].
    pub async fn stop_answering(&self) -> Silent {
        self.stop();
        // The port closes once the aborted accept task is dropped, a moment later.
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(e) if tries == 100 => panic!("bind {}: {e}", self.addr),
                Err(_) => tries += 1,
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        Silent(tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        }))
    }

    /// Closes the port and every connection: the server is gone.
    pub fn stop(&self) {
        self.accept.abort();
        for connection in self.lock_connections().drain(..) {
            connection.task.abort();
        }
    }
}

/// A port that takes connections and never answers on them
/// ([`Proxy::stop_answering`]).
pub struct Silent(JoinHandle<()>);

impl Silent {
    /// Closes the port and the connections it took, and returns once it is closed,
    /// so that a [`Proxy::restart`] can take it.
    pub async fn close(mut self) {
        self.0.abort();
        let _cancelled = (&mut self.0).await;
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn forward(client: TcpStream, server: TcpStream, shared: Arc<Shared>, seen: Arc<Seen>) {
    let (mut client_read, client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    // Shared: the proxy answers a refused `HELLO` itself.
    let client_write = tokio::sync::Mutex::new(client_write);
    let up = async {
        let mut buf = vec![0u8; 64 * 1024];
        let mut pending = Vec::new();
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            pending.extend_from_slice(&buf[..n]);
            // Refusing HELLO, the proxy passes on whole commands only, so that it
            // can leave one out; it still counts every command below.
            let mut upstream = Vec::new();
            let mut used_so_far = 0;
            while let Some((used, name)) = parse_command(&pending[used_so_far..]) {
                let command = &pending[used_so_far..used_so_far + used];
                used_so_far += used;
                if name == "HELLO" && shared.refuse_hello.load(Ordering::SeqCst) {
                    let refusal =
                        b"-ERR unknown command `HELLO`, with args beginning with: `3`, \r\n";
                    if client_write.lock().await.write_all(refusal).await.is_err() {
                        return;
                    }
                } else {
                    upstream.extend_from_slice(command);
                }
                seen.commands
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(name.clone());
                shared
                    .commands
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(name);
            }
            pending.drain(..used_so_far);
            let bytes = if shared.refuse_hello.load(Ordering::SeqCst) {
                upstream.as_slice()
            } else {
                &buf[..n]
            };
            if bytes.is_empty() {
                continue;
            }
            // Counted before forwarding, so the reply cannot overtake the count.
            if !shared.awaiting_reply.swap(true, Ordering::SeqCst) {
                shared.turns.fetch_add(1, Ordering::SeqCst);
            }
            if server_write.write_all(bytes).await.is_err() {
                return;
            }
        }
    };
    let down = async {
        let mut buf = vec![0u8; 64 * 1024];
        let mut hold = seen.hold.subscribe();
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            // Held: the answer waits here until released (or the connection is cut).
            if hold.wait_for(|held| !*held).await.is_err() {
                return;
            }
            if shared.swallow_replies.load(Ordering::SeqCst)
                || shared.swallow_next_reply.swap(false, Ordering::SeqCst)
            {
                return;
            }
            // Cleared before the client sees the reply, so its next request is a new turn.
            shared.awaiting_reply.store(false, Ordering::SeqCst);
            if client_write
                .lock()
                .await
                .write_all(&buf[..n])
                .await
                .is_err()
            {
                return;
            }
        }
    };
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

/// One complete RESP command at the start of `buf`: bytes used and the command name.
fn parse_command(buf: &[u8]) -> Option<(usize, String)> {
    let line = |at: usize| -> Option<(&[u8], usize)> {
        let end = buf.get(at..)?.windows(2).position(|w| w == b"\r\n")? + at;
        Some((&buf[at..end], end + 2))
    };
    let number = |text: &[u8]| std::str::from_utf8(text).ok()?.parse::<usize>().ok();
    let (head, mut at) = line(0)?;
    let count = number(head.strip_prefix(b"*")?)?;
    let mut name = String::new();
    for i in 0..count {
        let (len, next) = line(at)?;
        let len = number(len.strip_prefix(b"$")?)?;
        let data = buf.get(next..next + len)?;
        if buf.get(next + len..next + len + 2)? != b"\r\n" {
            return None;
        }
        if i == 0 {
            name = String::from_utf8_lossy(data).to_uppercase();
        }
        at = next + len + 2;
    }
    Some((at, name))
}

//! A fault-injecting HTTP proxy on loopback between a test's SDK client and the
//! DynamoDB server: per write request it forwards, drops the answer after the server
//! applied it, answers itself without forwarding (500, throttling), or delays the
//! request or the answer; it can also stop accepting connections, so the client's
//! next connection is refused. Reads always pass through. It records every request
//! that reached the server.
//!
//! Each connection carries one request: the proxy asks the server to close after its
//! answer and tells the client the same, so the client opens a new connection for its
//! next request and a closed listener refuses it deterministically.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

/// The operations that can write; faults apply to these only.
const WRITES: &[&str] = &["PutItem", "DeleteItem", "UpdateItem", "TransactWriteItems"];

/// What the proxy does with one write request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forward it and relay the answer.
    Forward,
    /// Forward it, wait for the server's answer (so it was applied), then close the
    /// client's connection without replying.
    DropAnswer,
    /// Like `DropAnswer`, but stop accepting connections first: the client's next
    /// connections are refused until [`FaultProxy::accept_again`].
    DropAnswerThenRefuse,
    /// Forward it at once and hold the answer this long before relaying it.
    DelayAnswer(Duration),
    /// Hold the request this long, then forward it (it lands late) and relay the answer.
    DelayRequest(Duration),
    /// Answer with this status, error type and body, without forwarding.
    Reply {
        status: u16,
        error_type: String,
        body: String,
    },
}

impl Fault {
    /// A 500 `InternalServerError`, not forwarded.
    pub fn server_error() -> Self {
        Self::reply(500, "InternalServerError", "injected server error")
    }

    /// A 400 `ThrottlingException`, not forwarded.
    pub fn throttling() -> Self {
        Self::reply(400, "ThrottlingException", "injected throttling")
    }

    fn reply(status: u16, error_type: &str, message: &str) -> Self {
        let body = serde_json::json!({
            "__type": format!("com.amazonaws.dynamodb.v20120810#{error_type}"),
            "message": message,
        });
        Self::Reply {
            status,
            error_type: error_type.to_string(),
            body: body.to_string(),
        }
    }
}

enum Command {
    /// Close the listener; acknowledged once it is closed.
    Close(oneshot::Sender<()>),
    /// Accept on this listener (bound to the same address).
    Open(std::net::TcpListener),
}

struct Shared {
    address: SocketAddr,
    upstream: String,
    script: Mutex<VecDeque<Fault>>,
    commands: mpsc::UnboundedSender<Command>,
    listening: Mutex<bool>,
    writes_received: AtomicUsize,
    forwarded: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
}

/// The proxy; clones share it.
#[derive(Clone)]
pub struct FaultProxy(Arc<Shared>);

impl FaultProxy {
    /// A proxy on a free loopback port in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Self {
        let upstream = upstream
            .strip_prefix("http://")
            .unwrap_or(upstream)
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("fault proxy cannot listen: {e}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("fault proxy has no address: {e}"));
        let (commands, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            address,
            upstream,
            script: Mutex::new(VecDeque::new()),
            commands,
            listening: Mutex::new(true),
            writes_received: AtomicUsize::new(0),
            forwarded: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
        });
        tokio::spawn(accept_loop(listener, receiver, shared.clone()));
        Self(shared)
    }

    /// The endpoint to give the SDK client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.0.address)
    }

    /// Applies `faults` to the next write requests, in order; later writes are forwarded.
    pub fn on_next_writes(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.0.script).extend(faults);
    }

    /// Faults queued and not yet applied.
    pub fn pending_faults(&self) -> usize {
        lock(&self.0.script).len()
    }

    /// Stops accepting connections: the client's next connections are refused.
    pub async fn refuse(&self) {
        close_listener(&self.0).await;
    }

    /// Accepts connections again (a no-op when it is accepting). Synchronous, so an
    /// interceptor can call it before the SDK connects.
    pub fn accept_again(&self) {
        let mut listening = lock(&self.0.listening);
        if *listening {
            return;
        }
        // std's bind also listens: connections queue from here on.
        let listener = std::net::TcpListener::bind(self.0.address)
            .unwrap_or_else(|e| panic!("fault proxy cannot listen again: {e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("fault proxy: {e}"));
        *listening = true;
        if self.0.commands.send(Command::Open(listener)).is_err() {
            panic!("the fault proxy's accept loop is gone");
        }
    }

    /// An interceptor for the client that makes the proxy accept again just before
    /// the client's `attempt`th request (counting from 1) is sent.
    pub fn accept_again_before_request(&self, attempt: usize) -> AcceptAgainBefore {
        AcceptAgainBefore {
            proxy: self.clone(),
            attempt,
            seen: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Write requests that reached the proxy.
    pub fn writes_received(&self) -> usize {
        self.0.writes_received.load(Ordering::SeqCst)
    }

    /// The operations (`PutItem`, `GetItem`, ...) forwarded to the server, in order.
    pub fn forwarded(&self) -> Vec<String> {
        lock(&self.0.forwarded).clone()
    }

    /// How many write requests were forwarded to the server.
    pub fn writes_forwarded(&self) -> usize {
        lock(&self.0.forwarded)
            .iter()
            .filter(|op| WRITES.contains(&op.as_str()))
            .count()
    }

    /// Waits until no connection is being handled (a delayed request has landed).
    pub async fn settled(&self) {
        for _ in 0..3000 {
            if self.0.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the fault proxy still handles a connection after 30 s");
    }
}

/// See [`FaultProxy::accept_again_before_request`].
#[derive(Clone)]
pub struct AcceptAgainBefore {
    proxy: FaultProxy,
    attempt: usize,
    seen: Arc<AtomicUsize>,
}

impl std::fmt::Debug for AcceptAgainBefore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcceptAgainBefore")
            .field("attempt", &self.attempt)
            .finish()
    }
}

impl Intercept for AcceptAgainBefore {
    fn name(&self) -> &'static str {
        "fault-proxy-accept-again"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.seen.fetch_add(1, Ordering::SeqCst) + 1 == self.attempt {
            self.proxy.accept_again();
        }
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn close_listener(shared: &Shared) {
    let (ack, acked) = oneshot::channel();
    {
        let mut listening = lock(&shared.listening);
        if !*listening {
            return;
        }
        *listening = false;
        if shared.commands.send(Command::Close(ack)).is_err() {
            panic!("the fault proxy's accept loop is gone");
        }
    }
    let _ = acked.await;
}

async fn accept_loop(
    listener: TcpListener,
    mut commands: mpsc::UnboundedReceiver<Command>,
    shared: Arc<Shared>,
) {
    let mut listener = Some(listener);
    loop {
        let event = match &listener {
            Some(open) => tokio::select! {
                accepted = open.accept() => Ok(accepted),
                command = commands.recv() => Err(command),
            },
            None => Err(commands.recv().await),
        };
        match event {
            Ok(Ok((socket, _))) => {
                shared.in_flight.fetch_add(1, Ordering::SeqCst);
                let shared = shared.clone();
                tokio::spawn(async move {
                    handle(socket, &shared).await;
                    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
                });
            }
            Ok(Err(_)) => {}
            Err(None) => return,
            Err(Some(Command::Close(ack))) => {
                listener = None;
                let _ = ack.send(());
            }
            Err(Some(Command::Open(std))) => {
                listener =
                    Some(TcpListener::from_std(std).unwrap_or_else(|e| panic!("fault proxy: {e}")));
            }
        }
    }
}

/// One HTTP message: the head (start line and headers, without the blank line) and body.
struct Message {
    head: String,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }

    /// The operation named by `X-Amz-Target` (`DynamoDB_20120810.PutItem` -> `PutItem`).
    fn operation(&self) -> String {
        let target = self.header("x-amz-target").unwrap_or("unknown");
        target.rsplit('.').next().unwrap_or(target).to_string()
    }

    /// The bytes, with `Connection: close` in place of any connection header.
    fn closing(&self) -> Vec<u8> {
        let mut out = String::new();
        for (index, line) in self.head.lines().enumerate() {
            let is_connection = line
                .split_once(':')
                .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("connection"));
            if index == 0 || !is_connection {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
        out.push_str("Connection: close\r\n\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

async fn handle(mut client: TcpStream, shared: &Shared) {
    let Some(request) = read_request(&mut client).await else {
        return;
    };
    let operation = request.operation();
    let fault = if WRITES.contains(&operation.as_str()) {
        shared.writes_received.fetch_add(1, Ordering::SeqCst);
        lock(&shared.script).pop_front().unwrap_or(Fault::Forward)
    } else {
        Fault::Forward
    };
    match fault {
        Fault::Forward => {
            let answer = forward(shared, &request, &operation).await;
            let _ = client.write_all(&answer.closing()).await;
        }
        Fault::DropAnswer => {
            let _ = forward(shared, &request, &operation).await;
        }
        Fault::DropAnswerThenRefuse => {
            let _ = forward(shared, &request, &operation).await;
            close_listener(shared).await;
        }
        Fault::DelayAnswer(pause) => {
            let answer = forward(shared, &request, &operation).await;
            tokio::time::sleep(pause).await;
            let _ = client.write_all(&answer.closing()).await;
        }
        Fault::DelayRequest(pause) => {
            tokio::time::sleep(pause).await;
            let answer = forward(shared, &request, &operation).await;
            let _ = client.write_all(&answer.closing()).await;
        }
        Fault::Reply {
            status,
            error_type,
            body,
        } => {
            let answer = Message {
                head: format!(
                    "HTTP/1.1 {status} Injected\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-errortype: {error_type}\r\ncontent-length: {}",
                    body.len()
                ),
                body: body.into_bytes(),
            };
            let _ = client.write_all(&answer.closing()).await;
        }
    }
    // Dropping the socket closes the client's connection.
}

/// Sends the request to the server on a new connection and reads its whole answer.
async fn forward(shared: &Shared, request: &Message, operation: &str) -> Message {
    let mut server = TcpStream::connect(&shared.upstream)
        .await
        .unwrap_or_else(|e| panic!("fault proxy cannot reach {}: {e}", shared.upstream));
    server
        .write_all(&request.closing())
        .await
        .unwrap_or_else(|e| panic!("fault proxy cannot send to the server: {e}"));
    lock(&shared.forwarded).push(operation.to_string());
    // The server closes after its answer (Connection: close).
    let mut bytes = Vec::new();
    server
        .read_to_end(&mut bytes)
        .await
        .unwrap_or_else(|e| panic!("fault proxy cannot read the server's answer: {e}"));
    let end = find(&bytes, b"\r\n\r\n")
        .unwrap_or_else(|| panic!("the server's answer has no head: {bytes:?}"));
    Message {
        head: String::from_utf8_lossy(&bytes[..end]).into_owned(),
        body: bytes[end + 4..].to_vec(),
    }
}

/// Reads one request (head, then `Content-Length` bytes); `None` if the client left.
async fn read_request(client: &mut TcpStream) -> Option<Message> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            break end;
        }
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    let mut message = Message {
        head,
        body: Vec::new(),
    };
    let length = message
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buffer.split_off(end + 4);
    while body.len() < length {
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    message.body = body;
    Some(message)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

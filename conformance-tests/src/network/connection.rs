//! One proxied connection: bytes relayed both ways, exchanges told apart by who spoke
//! last, and the exchange's fault applied to its request or its answer.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::sync::watch;

use super::fault::Fault;
use super::http;
use super::shared::{Busy, Shared};

/// How long a connection whose client left waits for the answer to the request it
/// forwarded, so the request is processed as it would be without the proxy.
const ANSWER_WAIT: Duration = Duration::from_secs(30);

/// How long the proxy waits for a client to close after the proxy answered it itself.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

const BUFFER: usize = 64 * 1024;

/// How a connection ended.
#[derive(PartialEq)]
enum End {
    /// One side closed, or a fault closed it.
    Closed,
    /// An outage or [`cut`](super::FaultProxy::cut) cut it.
    Cut,
}

/// A request forwarded whose answer has not come yet, and what to do to that answer.
struct Exchange {
    fault: Fault,
    /// Held while the exchange was delayed, until its answer is relayed.
    _busy: Option<Busy>,
}

/// Relays between `client` and a new connection to the upstream until either side
/// closes, a fault closes it, or the connections are cut.
pub(super) async fn run(shared: Arc<Shared>, mut client: TcpStream) {
    let mut cut = shared.cut_signal();
    let mut server = match TcpStream::connect(shared.upstream).await {
        Ok(server) => server,
        Err(err) => {
            tracing::debug!(upstream = %shared.upstream, error = %err, "fault proxy: upstream unreachable");
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let end = relay(&shared, &mut client, &mut server, &mut cut).await;
    if end == End::Cut {
        shared.count(|c| c.connections_cut += 1);
    }
}

async fn relay(
    shared: &Arc<Shared>,
    client: &mut TcpStream,
    server: &mut TcpStream,
    cut: &mut watch::Receiver<u64>,
) -> End {
    let (mut client_in, mut client_out) = client.split();
    let (mut server_in, mut server_out) = server.split();
    let mut up = vec![0u8; BUFFER];
    let mut down = vec![0u8; BUFFER];
    let mut open: Option<Exchange> = None;
    loop {
        tokio::select! {
            changed = cut.changed() => {
                let _ = changed;
                return End::Cut;
            }
            read = client_in.read(&mut up) => {
                let n = match read {
                    Ok(0) | Err(_) => {
                        if open.is_some() {
                            await_answer(&mut server_in, &mut down, cut).await;
                        }
                        return End::Closed;
                    }
                    Ok(n) => n,
                };
                if open.is_none() {
                    let (fault, label) = shared.decide(&up[..n]);
                    let mut busy = None;
                    match &fault {
                        Fault::Answer(answer) => {
                            shared.count(|c| c.answered += 1);
                            answer_and_close(&mut client_in, &mut client_out, answer).await;
                            return End::Closed;
                        }
                        Fault::DelayRequest(pause) => {
                            shared.count(|c| c.delayed_requests += 1);
                            busy = Some(shared.busy());
                            if !wait(*pause, cut).await {
                                return End::Cut;
                            }
                        }
                        _ => {}
                    }
                    if let Some(label) = label {
                        shared.record_forwarded(label);
                    }
                    open = Some(Exchange { fault, _busy: busy });
                }
                if server_out.write_all(&up[..n]).await.is_err() {
                    return End::Closed;
                }
            }
            read = server_in.read(&mut down) => {
                let n = match read {
                    Ok(0) | Err(_) => return End::Closed,
                    Ok(n) => n,
                };
                // The first bytes after a request are its answer; any others (the rest
                // of a long answer, a notice the server sent unasked) pass.
                // Kept to the end of this branch: a delayed request counts as held
                // back until its answer is relayed.
                let exchange = open.take();
                let mut held = None;
                match exchange.as_ref().map(|e| &e.fault) {
                    Some(Fault::DropAnswer) => {
                        shared.count(|c| c.dropped_answers += 1);
                        return End::Closed;
                    }
                    Some(Fault::ServerError) => {
                        shared.count(|c| c.server_errors += 1);
                        answer_and_close(&mut client_in, &mut client_out, &http::server_error()).await;
                        return End::Closed;
                    }
                    Some(Fault::Outage(period)) => {
                        shared.count(|c| c.outages += 1);
                        shared.refuse(Some(*period)).await;
                        shared.cut_all();
                        return End::Cut;
                    }
                    Some(Fault::DelayAnswer(pause)) => {
                        shared.count(|c| c.delayed_answers += 1);
                        held = Some(shared.busy());
                        if !wait(*pause, cut).await {
                            return End::Cut;
                        }
                    }
                    Some(Fault::Refuse(period)) => {
                        shared.count(|c| c.refusals += 1);
                        shared.refuse(Some(*period)).await;
                    }
                    Some(Fault::Pass | Fault::DelayRequest(_) | Fault::Answer(_)) | None => {}
                }
                if client_out.write_all(&down[..n]).await.is_err() {
                    return End::Closed;
                }
                drop(held);
                drop(exchange);
            }
        }
    }
}

/// Sleeps `pause`; `false` when the connections were cut meanwhile.
async fn wait(pause: Duration, cut: &mut watch::Receiver<u64>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(pause) => true,
        _ = cut.changed() => false,
    }
}

/// Waits (bounded) for the server's answer to a request forwarded for a client that
/// left, so the server processes it as it would with the client still there.
async fn await_answer(
    server_in: &mut ReadHalf<'_>,
    buffer: &mut [u8],
    cut: &mut watch::Receiver<u64>,
) {
    tokio::select! {
        _ = tokio::time::timeout(ANSWER_WAIT, server_in.read(buffer)) => {}
        _ = cut.changed() => {}
    }
}

/// Writes `answer` to the client and closes gracefully: the client reads the whole
/// answer before it sees the end (closing with its bytes unread would reset the
/// connection, and it might lose the answer).
async fn answer_and_close(
    client_in: &mut ReadHalf<'_>,
    client_out: &mut WriteHalf<'_>,
    answer: &[u8],
) {
    if client_out.write_all(answer).await.is_err() {
        return;
    }
    let _ = client_out.shutdown().await;
    let drain = async {
        let mut sink = [0u8; 4096];
        while matches!(client_in.read(&mut sink).await, Ok(n) if n > 0) {}
    };
    let _ = tokio::time::timeout(CLOSE_WAIT, drain).await;
}

//! The fault proxy itself, in front of a small echo server on loopback: each fault
//! does what it says to the request and to the answer, and is counted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use optimist_conformance::network::{Fault, FaultProxy, FaultRates, http_response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An echo server that keeps every byte it received.
struct Echo {
    address: String,
    received: Arc<Mutex<Vec<u8>>>,
}

impl Echo {
    async fn start() -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&received);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let kept = Arc::clone(&kept);
                tokio::spawn(async move {
                    let mut buffer = [0u8; 1024];
                    while let Ok(n @ 1..) = socket.read(&mut buffer).await {
                        kept.lock().unwrap().extend_from_slice(&buffer[..n]);
                        if socket.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Echo { address, received }
    }

    fn received(&self) -> String {
        String::from_utf8(self.received.lock().unwrap().clone()).unwrap()
    }

    /// Waits until the server received `expected` (it may arrive after the client's
    /// call returned: the proxy forwards on its own task).
    async fn wait_for(&self, expected: &str) {
        for _ in 0..500 {
            if self.received() == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "the server received {:?}, not {expected:?}",
            self.received()
        );
    }
}

/// Sends `request` and reads what comes back until the connection closes.
async fn exchange(client: &mut TcpStream, request: &[u8], answer_len: usize) -> Vec<u8> {
    client.write_all(request).await.unwrap();
    let mut answer = vec![0u8; answer_len];
    let mut read = 0;
    while read < answer_len {
        match client.read(&mut answer[read..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    answer.truncate(read);
    answer
}

#[tokio::test]
async fn a_dropped_answer_reaches_the_server_and_closes_the_connection() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.address).await.unwrap();
    let mut client = TcpStream::connect(proxy.address()).await.unwrap();
    assert_eq!(exchange(&mut client, b"one", 3).await, b"one");
    proxy.inject([Fault::DropAnswer]);
    assert_eq!(
        exchange(&mut client, b"two", 3).await,
        b"",
        "no answer, closed"
    );
    echo.wait_for("onetwo").await;
    let counts = proxy.counts();
    assert_eq!(
        (counts.exchanges, counts.dropped_answers, counts.faults()),
        (2, 1, 1)
    );
}

#[tokio::test]
async fn a_server_error_replaces_the_answer_of_a_processed_request() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.address).await.unwrap();
    proxy.inject([Fault::ServerError]);
    let mut client = TcpStream::connect(proxy.address()).await.unwrap();
    let answer = exchange(&mut client, b"GET / HTTP/1.1\r\n\r\n", 4096).await;
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 500 "), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    echo.wait_for("GET / HTTP/1.1\r\n\r\n").await;
    assert_eq!(proxy.counts().server_errors, 1);
}

#[tokio::test]
async fn an_answer_given_by_the_proxy_never_reaches_the_server() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.address).await.unwrap();
    let throttled = http_response(400, &[("x-kind", "throttled")], b"slow down");
    proxy.inject([Fault::Answer(throttled.clone()), Fault::Pass]);
    let mut client = TcpStream::connect(proxy.address()).await.unwrap();
    assert_eq!(exchange(&mut client, b"first", 4096).await, throttled);
    // The next connection's request passes; the first never reached the server.
    let mut client = TcpStream::connect(proxy.address()).await.unwrap();
    assert_eq!(exchange(&mut client, b"second", 6).await, b"second");
    echo.wait_for("second").await;
    assert_eq!(proxy.counts().answered, 1);
    assert_eq!(proxy.pending(), 0);
}

#[tokio::test]
async fn a_delayed_answer_comes_after_the_delay() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.address).await.unwrap();
    proxy.inject([Fault::DelayAnswer(Duration::from_secs(2))]);
    let mut client = TcpStream::connect(proxy.address()).await.unwrap();
    client.write_all(b"held").await.unwrap();
    let mut answer = [0u8; 4];
    // The proxy holds the answer 2 s: a client waiting 100 ms gives up first.
    let early =
        tokio::time::timeout(Duration::from_millis(100), client.read_exact(&mut answer)).await;
    assert!(early.is_err(), "the answer came before its delay");
    echo.wait_for("held").await;
    client.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"held");
    assert!(proxy.settled(Duration::from_secs(10)).await);
    assert_eq!(proxy.counts().delayed_answers, 1);
}

#[tokio::test]
async fn a_delayed_request_still_reaches_the_server_after_its_client_left() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.address).await.unwrap();
    proxy.inject([Fault::DelayRequest(Duration::from_millis(300))]);
    let mut client = TcpStream::connect(proxy.address()).await.unwrap();
    client.write_all(b"late").await.unwrap();
    drop(client);
    echo.wait_for("late").await;
    assert!(proxy.settled(Duration::from_secs(10)).await);
    assert_eq!(proxy.counts().delayed_requests, 1);
}

#[tokio::test]
async fn refused_connections_come_back_after_the_period_or_on_accept() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.address).await.unwrap();
    proxy.refuse().await;
    assert!(TcpStream::connect(proxy.address()).await.is_err());
    proxy.accept().unwrap();
    let mut client = TcpStream::connect(proxy.address()).await.unwrap();
    assert_eq!(exchange(&mut client, b"back", 4).await, b"back");

    // A refusal drawn at an exchange: that answer passes, the open connection goes
    // on, new ones are refused until the period ends.
    proxy.inject([Fault::Refuse(Duration::from_secs(1))]);
    assert_eq!(exchange(&mut client, b"more", 4).await, b"more");
    assert!(TcpStream::connect(proxy.address()).await.is_err());
    assert_eq!(exchange(&mut client, b"open", 4).await, b"open");
    let mut reconnected = None;
    for _ in 0..500 {
        if let Ok(client) = TcpStream::connect(proxy.address()).await {
            reconnected = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut client = reconnected.expect("the proxy never accepted again");
    assert_eq!(exchange(&mut client, b"again", 5).await, b"again");
    assert_eq!(proxy.counts().refusals, 2);
}

#[tokio::test]
async fn an_outage_cuts_every_connection_and_refuses_new_ones() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.address).await.unwrap();
    let mut first = TcpStream::connect(proxy.address()).await.unwrap();
    let mut second = TcpStream::connect(proxy.address()).await.unwrap();
    assert_eq!(exchange(&mut second, b"idle", 4).await, b"idle");
    proxy.inject([Fault::Outage(Duration::from_secs(60))]);
    assert_eq!(
        exchange(&mut first, b"lost", 4).await,
        b"",
        "its answer is lost"
    );
    let mut rest = [0u8; 1];
    assert_eq!(
        second.read(&mut rest).await.unwrap_or(0),
        0,
        "the idle one is cut too"
    );
    assert!(TcpStream::connect(proxy.address()).await.is_err());
    echo.wait_for("idlelost").await;
    proxy.heal().unwrap();
    let mut client = TcpStream::connect(proxy.address()).await.unwrap();
    assert_eq!(exchange(&mut client, b"up", 2).await, b"up");
    let counts = proxy.counts();
    assert_eq!((counts.outages, counts.connections_cut), (1, 2));
}

#[tokio::test]
async fn a_target_limits_faults_to_the_requests_it_names() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::builder(echo.address.clone())
        .target(|request| {
            request
                .starts_with(b"W")
                .then(|| String::from_utf8_lossy(request).into_owned())
        })
        .start()
        .await
        .unwrap();
    proxy.inject([Fault::DropAnswer]);
    let mut client = TcpStream::connect(proxy.address()).await.unwrap();
    assert_eq!(
        exchange(&mut client, b"R1", 2).await,
        b"R1",
        "not a target: passes"
    );
    assert_eq!(
        exchange(&mut client, b"W1", 2).await,
        b"",
        "the first target is hit"
    );
    let mut client = TcpStream::connect(proxy.address()).await.unwrap();
    assert_eq!(exchange(&mut client, b"W2", 2).await, b"W2");
    assert_eq!(proxy.forwarded(), vec!["W1".to_string(), "W2".to_string()]);
    let counts = proxy.counts();
    assert_eq!((counts.exchanges, counts.targeted), (3, 2));
}

/// The faults a proxy draws for `requests` requests sent one after the other, each on
/// a new connection, with `seed`.
async fn drawn(seed: u64, requests: usize) -> (u64, u64) {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.address).await.unwrap();
    let rates = FaultRates {
        drop_answer: 300,
        delay_answer: 200,
        delay: Duration::from_millis(1),
        ..FaultRates::none()
    };
    proxy.inject_randomly(seed, rates);
    for _ in 0..requests {
        let mut client = TcpStream::connect(proxy.address()).await.unwrap();
        exchange(&mut client, b"x", 1).await;
    }
    let counts = proxy.counts();
    (counts.dropped_answers, counts.delayed_answers)
}

#[tokio::test]
async fn random_faults_follow_the_seed() {
    let first = drawn(42, 40).await;
    assert_eq!(first, drawn(42, 40).await, "the same seed, the same faults");
    assert!(first.0 > 0 && first.1 > 0, "{first:?}");
}

#[tokio::test]
async fn dropping_the_proxy_closes_its_port_and_its_connections() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.address).await.unwrap();
    let address = proxy.address();
    let mut client = TcpStream::connect(address).await.unwrap();
    assert_eq!(exchange(&mut client, b"hi", 2).await, b"hi");
    drop(proxy);
    let mut rest = [0u8; 1];
    assert_eq!(client.read(&mut rest).await.unwrap_or(0), 0, "cut");
    assert!(TcpStream::connect(address).await.is_err(), "port closed");
}

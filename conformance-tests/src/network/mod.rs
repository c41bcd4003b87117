//! A fault-injecting TCP proxy for the tests of a networked backend: [`FaultProxy`]
//! listens on a loopback port in front of the backend's server, relays bytes both
//! ways, and injects the failures a network and a server produce, so a test can check
//! what the store reports then (contract R12: an error other than `Indeterminate`
//! means nothing was written; R13, R14):
//!
//! - forward a request, then drop its answer and close the connection
//!   ([`Fault::DropAnswer`]),
//! - answer an HTTP `500` in place of the server's answer ([`Fault::ServerError`]),
//! - hold an answer past the client's timeout ([`Fault::DelayAnswer`]), or a request
//!   ([`Fault::DelayRequest`]),
//! - answer without forwarding ([`Fault::Answer`], with [`http_response`]),
//! - refuse connections for a while ([`Fault::Refuse`], [`FaultProxy::refuse_for`]),
//! - cut every open connection and refuse new ones: a server outage
//!   ([`Fault::Outage`], [`FaultProxy::outage`]).
//!
//! Faults are given in order ([`FaultProxy::inject`]) or drawn from a seed
//! ([`FaultProxy::inject_randomly`] with [`FaultRates`]), and counted per kind
//! ([`FaultProxy::counts`]).
//!
//! ## Requests and answers, without reading the protocol
//!
//! The proxy parses nothing. An *exchange* begins with the first bytes a client sends
//! on a connection after the server last sent something (or since the connection
//! opened): a request. Its *answer* is the first bytes the server sends after that.
//! This fits every protocol where the client waits for an answer (HTTP/1.1, RESP,
//! PostgreSQL's); with a client that pipelines, the requests it sends before the
//! first answer comes are one exchange, and a fault on it hits them all, as a lost
//! connection would. Connection setup (a handshake, authentication) is made of
//! exchanges too. Only [`Fault::ServerError`] speaks a protocol, HTTP/1.1.
//! [`FaultProxyBuilder::target`] limits faults to the requests a test cares about.
//!
//! [`url_through`] points a server URL at the proxy.
//!
//! Refusing closes the listener and binds its address again after; a closed port on
//! loopback refuses at once, as a server that is down does.
//!
//! ```
//! use optimist_conformance::network::{Fault, FaultProxy};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use tokio::net::{TcpListener, TcpStream};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // A server that answers each request with the same bytes.
//! let server = TcpListener::bind("127.0.0.1:0").await?;
//! let upstream = server.local_addr()?.to_string();
//! tokio::spawn(async move {
//!     while let Ok((mut socket, _)) = server.accept().await {
//!         tokio::spawn(async move {
//!             let mut buffer = [0u8; 64];
//!             while let Ok(n @ 1..) = socket.read(&mut buffer).await {
//!                 if socket.write_all(&buffer[..n]).await.is_err() { break; }
//!             }
//!         });
//!     }
//! });
//!
//! let proxy = FaultProxy::start(&upstream).await?;
//! let mut client = TcpStream::connect(proxy.address()).await?;
//! let mut answer = [0u8; 4];
//! client.write_all(b"ping").await?;
//! client.read_exact(&mut answer).await?;
//! assert_eq!(&answer, b"ping");
//!
//! // The server answers the next request, and the client never sees it.
//! proxy.inject([Fault::DropAnswer]);
//! client.write_all(b"pong").await?;
//! assert_eq!(client.read(&mut answer).await.unwrap_or(0), 0, "connection closed");
//! assert_eq!(proxy.counts().dropped_answers, 1);
//!
//! // Refused: nothing reaches the server.
//! proxy.refuse().await;
//! assert!(TcpStream::connect(proxy.address()).await.is_err());
//! proxy.accept()?;
//! assert!(TcpStream::connect(proxy.address()).await.is_ok());
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```

mod connection;
mod fault;
mod http;
mod proxy;
mod shared;
mod url;

pub use fault::{Fault, FaultRates, ProxyCounts};
pub use http::http_response;
pub use proxy::{FaultProxy, FaultProxyBuilder};
pub use url::url_through;

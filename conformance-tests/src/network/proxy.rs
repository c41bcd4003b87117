//! [`FaultProxy`] and its builder: the public face of the proxy.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::fault::{Fault, FaultRates, ProxyCounts};
use super::shared::{Shared, Target, accept_loop};
use crate::rng::SplitMix64;

/// A fault-injecting TCP proxy on a loopback port in front of one server; see the
/// [module docs](super). Clones share one proxy; it stops (its port closes, its
/// connections are cut) when the last clone is dropped.
#[derive(Clone)]
pub struct FaultProxy {
    shared: Arc<Shared>,
    _running: Arc<Running>,
}

/// Stops the proxy when the last [`FaultProxy`] clone goes.
struct Running {
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.accept.abort();
        self.shared.stop();
    }
}

/// Builds a [`FaultProxy`]: [`FaultProxy::builder`].
pub struct FaultProxyBuilder {
    upstream: String,
    target: Option<Target>,
}

impl FaultProxyBuilder {
    /// Faults hit only the requests `target` names: it sees the first bytes of each
    /// request as read from the client (on loopback, a request written at once), and
    /// returns a name for one that faults may hit, `None` for one that always passes.
    /// The names of the requests forwarded are kept in order:
    /// [`FaultProxy::forwarded`]. Without a target, every exchange may be hit and no
    /// name is kept.
    ///
    /// ```
    /// // Only HTTP POSTs, named by their request line.
    /// let builder = optimist_conformance::network::FaultProxy::builder("127.0.0.1:8000")
    ///     .target(|request| {
    ///         let line = request.split(|b| *b == b'\r').next()?;
    ///         line.starts_with(b"POST ").then(|| String::from_utf8_lossy(line).into_owned())
    ///     });
    /// ```
    pub fn target(
        mut self,
        target: impl Fn(&[u8]) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.target = Some(Arc::new(target));
        self
    }

    /// Listens on a free loopback port and starts relaying. Each client connection
    /// gets its own connection to the upstream. An error if the upstream's address
    /// does not resolve or no port can be had. Needs a tokio runtime.
    pub async fn start(self) -> io::Result<FaultProxy> {
        let upstream = tokio::net::lookup_host(self.upstream.as_str())
            .await?
            .next()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{} resolves to no address", self.upstream),
                )
            })?;
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let (shared, commands) = Shared::new(address, upstream, self.target);
        let accept = tokio::spawn(accept_loop(Arc::clone(&shared), listener, commands));
        tracing::debug!(%address, %upstream, "fault proxy started");
        Ok(FaultProxy {
            _running: Arc::new(Running {
                shared: Arc::clone(&shared),
                accept,
            }),
            shared,
        })
    }
}

impl FaultProxy {
    /// A proxy in front of `upstream` (`host:port`) that may fault every exchange:
    /// `FaultProxy::builder(upstream).start()`.
    pub async fn start(upstream: &str) -> io::Result<FaultProxy> {
        Self::builder(upstream).start().await
    }

    /// A builder for a proxy in front of `upstream` (`host:port`).
    ///
    /// ```
    /// let builder = optimist_conformance::network::FaultProxy::builder("127.0.0.1:6379");
    /// ```
    pub fn builder(upstream: impl Into<String>) -> FaultProxyBuilder {
        FaultProxyBuilder {
            upstream: upstream.into(),
            target: None,
        }
    }

    /// The loopback address to point the client at.
    pub fn address(&self) -> SocketAddr {
        self.shared.address
    }

    /// Applies `faults` to the next exchanges faults may hit, in order, before any
    /// random fault.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.script(faults);
    }

    /// Faults given to [`inject`](Self::inject) and not applied yet.
    pub fn pending(&self) -> usize {
        self.shared.pending()
    }

    /// From now on, draws a fault for each exchange faults may hit, as `rates` says,
    /// from a generator seeded with `seed`: the same seed draws the same sequence of
    /// faults (which exchange gets which depends on the order requests arrive in).
    pub fn inject_randomly(&self, seed: u64, rates: FaultRates) {
        self.shared.randomly(Some((SplitMix64::new(seed), rates)));
    }

    /// No more faults: random drawing stops, faults not yet applied are forgotten, and
    /// connections are accepted again. Answers already held back still come late.
    pub fn heal(&self) -> io::Result<()> {
        self.shared.randomly(None);
        self.shared.clear_script();
        self.shared.accept()
    }

    /// Refuses new connections until [`accept`](Self::accept); open ones go on.
    /// Returns once a new connection would be refused.
    pub async fn refuse(&self) {
        self.shared.count(|c| c.refusals += 1);
        self.shared.refuse(None).await;
    }

    /// Refuses new connections for `period`; open ones go on.
    pub async fn refuse_for(&self, period: Duration) {
        self.shared.count(|c| c.refusals += 1);
        self.shared.refuse(Some(period)).await;
    }

    /// Accepts connections again (nothing to do if it does). Synchronous, so a
    /// client's callback can call it between two attempts.
    pub fn accept(&self) -> io::Result<()> {
        self.shared.accept()
    }

    /// Cuts every open connection, as a server that restarts does.
    pub fn cut(&self) {
        self.shared.cut_all();
    }

    /// Cuts every open connection and refuses new ones for `period`.
    pub async fn outage(&self, period: Duration) {
        self.shared.count(|c| c.outages += 1);
        self.shared.refuse(Some(period)).await;
        self.shared.cut_all();
    }

    /// What the proxy saw and did so far.
    pub fn counts(&self) -> ProxyCounts {
        self.shared.counts()
    }

    /// The names the [target](FaultProxyBuilder::target) gave the requests forwarded
    /// to the upstream, in order.
    pub fn forwarded(&self) -> Vec<String> {
        self.shared.forwarded()
    }

    /// Waits until no delayed request or answer is held back, at most `limit`;
    /// `false` if one still is.
    pub async fn settled(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.shared.is_busy() {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }
}

impl fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultProxy")
            .field("address", &self.shared.address)
            .field("upstream", &self.shared.upstream)
            .field("counts", &self.counts())
            .finish_non_exhaustive()
    }
}

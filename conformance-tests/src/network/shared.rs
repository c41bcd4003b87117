//! What the proxy's tasks share: the faults to come, the counts, the listener (which
//! refuses connections by closing and binds the same address again to accept), and
//! the signal that cuts every open connection.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

use super::connection;
use super::fault::{Fault, FaultRates, ProxyCounts};
use crate::rng::SplitMix64;

/// Names the requests faults may hit; see [`FaultProxyBuilder::target`](super::FaultProxyBuilder::target).
pub(super) type Target = Arc<dyn Fn(&[u8]) -> Option<String> + Send + Sync>;

/// How often a listener that cannot bind its address again is retried, and how long
/// apart: another socket may hold the port for a moment.
const REBIND_TRIES: u32 = 50;
const REBIND_PAUSE: Duration = Duration::from_millis(20);

/// What the accept loop is told to do.
pub(super) enum Command {
    /// Close the listener; acknowledged once it is closed.
    Close(oneshot::Sender<()>),
    /// Accept on this listener, bound to the proxy's address.
    Open(std::net::TcpListener),
}

/// Whether the proxy accepts connections, and until when it refuses them.
struct Listening {
    open: bool,
    /// The end of the current refusal; `None` while refusing until `accept`.
    until: Option<Instant>,
}

pub(super) struct Shared {
    pub(super) address: SocketAddr,
    pub(super) upstream: SocketAddr,
    target: Option<Target>,
    script: Mutex<VecDeque<Fault>>,
    random: Mutex<Option<(SplitMix64, FaultRates)>>,
    counts: Mutex<ProxyCounts>,
    forwarded: Mutex<Vec<String>>,
    listening: Mutex<Listening>,
    commands: mpsc::UnboundedSender<Command>,
    /// Bumped to cut every open connection.
    cut: watch::Sender<u64>,
    /// Delayed requests and answers not relayed yet.
    busy: AtomicUsize,
    stopped: AtomicBool,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// The shared state, and the receiver its accept loop takes commands from.
    pub(super) fn new(
        address: SocketAddr,
        upstream: SocketAddr,
        target: Option<Target>,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<Command>) {
        let (commands, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Self {
            address,
            upstream,
            target,
            script: Mutex::new(VecDeque::new()),
            random: Mutex::new(None),
            counts: Mutex::new(ProxyCounts::default()),
            forwarded: Mutex::new(Vec::new()),
            listening: Mutex::new(Listening {
                open: true,
                until: None,
            }),
            commands,
            cut: watch::Sender::new(0),
            busy: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
        });
        (shared, receiver)
    }

    pub(super) fn count(&self, change: impl FnOnce(&mut ProxyCounts)) {
        change(&mut lock(&self.counts));
    }

    pub(super) fn counts(&self) -> ProxyCounts {
        *lock(&self.counts)
    }

    pub(super) fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.script).extend(faults);
    }

    pub(super) fn pending(&self) -> usize {
        lock(&self.script).len()
    }

    pub(super) fn randomly(&self, draw: Option<(SplitMix64, FaultRates)>) {
        *lock(&self.random) = draw;
    }

    pub(super) fn clear_script(&self) {
        lock(&self.script).clear();
    }

    pub(super) fn forwarded(&self) -> Vec<String> {
        lock(&self.forwarded).clone()
    }

    pub(super) fn record_forwarded(&self, label: String) {
        lock(&self.forwarded).push(label);
    }

    /// The fault for a new exchange whose request begins with `request`, and its name
    /// when a target named it: the next scripted fault, else a random one, else none.
    pub(super) fn decide(&self, request: &[u8]) -> (Fault, Option<String>) {
        let label = match &self.target {
            None => None,
            Some(target) => match target(request) {
                Some(label) => Some(label),
                None => {
                    self.count(|c| c.exchanges += 1);
                    return (Fault::Pass, None);
                }
            },
        };
        self.count(|c| {
            c.exchanges += 1;
            c.targeted += 1;
        });
        let scripted = lock(&self.script).pop_front();
        let fault = scripted
            .or_else(|| {
                lock(&self.random)
                    .as_mut()
                    .map(|(rng, rates)| rates.draw(rng))
            })
            .unwrap_or(Fault::Pass);
        (fault, label)
    }

    /// A receiver that changes when every connection is to be cut.
    pub(super) fn cut_signal(&self) -> watch::Receiver<u64> {
        self.cut.subscribe()
    }

    /// Cuts every open connection.
    pub(super) fn cut_all(&self) {
        self.cut.send_modify(|generation| *generation += 1);
    }

    /// Marks a delayed request or answer in progress until the guard drops.
    pub(super) fn busy(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::SeqCst);
        Busy(Arc::clone(self))
    }

    pub(super) fn is_busy(&self) -> bool {
        self.busy.load(Ordering::SeqCst) > 0
    }

    /// Closes the listener (new connections are refused) until `period` has passed,
    /// or until [`accept`](Self::accept) when `period` is `None`. Returns once closed.
    pub(super) async fn refuse(self: &Arc<Self>, period: Option<Duration>) {
        let until = period.map(|p| Instant::now() + p);
        let closed = {
            let mut state = lock(&self.listening);
            // Refusing until `accept` outlasts any timed refusal; of two timed ones,
            // the later end holds.
            state.until = match (state.open, state.until, until) {
                (true, _, until) => until,
                (false, None, _) | (false, Some(_), None) => None,
                (false, Some(a), Some(b)) => Some(a.max(b)),
            };
            if state.open && !self.stopped.load(Ordering::SeqCst) {
                state.open = false;
                let (ack, closed) = oneshot::channel();
                let _ = self.commands.send(Command::Close(ack));
                Some(closed)
            } else {
                None
            }
        };
        if let Some(closed) = closed {
            let _ = closed.await;
        }
        if let Some(until) = until {
            let shared = Arc::clone(self);
            tokio::spawn(async move {
                tokio::time::sleep_until(until.into()).await;
                shared.reopen_when_due().await;
            });
        }
    }

    /// Accepts again if the current timed refusal is over.
    async fn reopen_when_due(&self) {
        for _ in 0..REBIND_TRIES {
            let due = {
                let state = lock(&self.listening);
                !state.open && state.until.is_some_and(|end| end <= Instant::now())
            };
            if !due {
                return;
            }
            match self.accept() {
                Ok(()) => return,
                Err(err) => {
                    tracing::warn!(address = %self.address, error = %err, "fault proxy: cannot listen again yet");
                    tokio::time::sleep(REBIND_PAUSE).await;
                }
            }
        }
        tracing::warn!(address = %self.address, "fault proxy: gave up listening again; call accept()");
    }

    /// Accepts connections again (nothing to do when it accepts already). Synchronous,
    /// so it can run from any callback; connections queue from its return on.
    pub(super) fn accept(&self) -> io::Result<()> {
        let mut state = lock(&self.listening);
        if state.open || self.stopped.load(Ordering::SeqCst) {
            return Ok(());
        }
        // std's bind listens too (and sets SO_REUSEADDR on Unix, so connections of the
        // closed listener in TIME_WAIT do not block the address).
        let listener = std::net::TcpListener::bind(self.address)?;
        listener.set_nonblocking(true)?;
        self.commands
            .send(Command::Open(listener))
            .map_err(|_| io::Error::other("the fault proxy has stopped"))?;
        state.open = true;
        state.until = None;
        Ok(())
    }

    /// Stops for good: no more listening, every connection cut.
    pub(super) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.cut_all();
    }
}

/// See [`Shared::busy`].
pub(super) struct Busy(Arc<Shared>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Accepts connections and hands each to its own task, until aborted; closes and
/// opens the listener as told.
pub(super) async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    enum Event {
        Accepted(io::Result<(tokio::net::TcpStream, SocketAddr)>),
        Told(Option<Command>),
    }
    let mut listener = Some(listener);
    loop {
        let event = match &listener {
            Some(open) => tokio::select! {
                accepted = open.accept() => Event::Accepted(accepted),
                command = commands.recv() => Event::Told(command),
            },
            None => Event::Told(commands.recv().await),
        };
        match event {
            Event::Accepted(Ok((client, _))) => {
                shared.count(|c| c.connections += 1);
                tokio::spawn(connection::run(Arc::clone(&shared), client));
            }
            Event::Accepted(Err(err)) => {
                tracing::debug!(error = %err, "fault proxy: accept failed");
                // Out of descriptors, say: do not spin on it.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Event::Told(None) => return,
            Event::Told(Some(Command::Close(ack))) => {
                listener = None;
                let _ = ack.send(());
            }
            Event::Told(Some(Command::Open(std))) => match TcpListener::from_std(std) {
                Ok(open) => listener = Some(open),
                Err(err) => tracing::warn!(error = %err, "fault proxy: cannot listen again"),
            },
        }
    }
}

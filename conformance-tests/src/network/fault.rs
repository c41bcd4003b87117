//! What the proxy can do to one exchange, how often when faults are drawn at random,
//! and how many it did.

use std::fmt;
use std::time::Duration;

use crate::rng::SplitMix64;

/// What the proxy does to one exchange (a request and its answer; see the
/// [module docs](super)).
///
/// ```
/// use std::time::Duration;
/// use optimist_conformance::network::Fault;
/// let faults = [Fault::DropAnswer, Fault::DelayAnswer(Duration::from_secs(2)), Fault::Pass];
/// assert_eq!(faults.len(), 3);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Forward the request and relay the answer.
    Pass,
    /// Forward the request, wait for the server's answer (so the server processed the
    /// request), then close both connections without relaying it: the client never
    /// learns the outcome.
    DropAnswer,
    /// Forward the request, wait for the server's answer, and answer an HTTP/1.1 `500`
    /// in its place, then close. For HTTP protocols only.
    ServerError,
    /// Forward the request at once and hold its answer this long before relaying it:
    /// longer than the client's timeout, the client gives up on a request the server
    /// has processed.
    DelayAnswer(Duration),
    /// Hold the request this long, then forward it and relay its answer: past the
    /// client's timeout, it reaches the server after the client gave up.
    DelayRequest(Duration),
    /// Answer these bytes without forwarding the request, then close: the server never
    /// sees it. [`http_response`](super::http_response) writes an HTTP answer.
    Answer(Vec<u8>),
    /// Forward and relay, then refuse new connections for this long; open connections
    /// go on.
    Refuse(Duration),
    /// Forward the request, wait for its answer, then cut every open connection
    /// (this one's answer is lost) and refuse new connections for this long: the
    /// server goes away and comes back.
    Outage(Duration),
}

/// How often each fault hits an exchange when faults are drawn at random
/// ([`FaultProxy::inject_randomly`](super::FaultProxy::inject_randomly)), per thousand
/// exchanges the proxy may fault (a protocol may need several exchanges per
/// operation, so rates finer than percents); the rest pass. The rates add up to at
/// most 1000 (draws past it pass).
///
/// ```
/// use std::time::Duration;
/// use optimist_conformance::network::FaultRates;
/// let rates = FaultRates { drop_answer: 30, delay_answer: 5, delay: Duration::from_millis(1500), ..FaultRates::none() };
/// assert_eq!(rates.total(), 35);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultRates {
    /// Per thousand exchanges: the answer is dropped ([`Fault::DropAnswer`]).
    pub drop_answer: u64,
    /// Per thousand: answered `500` after the server processed the request ([`Fault::ServerError`]);
    /// leave at 0 for a protocol other than HTTP.
    pub server_error: u64,
    /// Per thousand: the answer is held for [`delay`](Self::delay) ([`Fault::DelayAnswer`]).
    pub delay_answer: u64,
    /// Per thousand: after the answer, new connections are refused for
    /// [`refusal`](Self::refusal) ([`Fault::Refuse`]).
    pub refuse: u64,
    /// Per thousand: the exchange starts an outage of [`refusal`](Self::refusal) ([`Fault::Outage`]).
    pub outage: u64,
    /// How long a delayed answer is held: set it past the client's timeout.
    pub delay: Duration,
    /// How long connections are refused after a refusal or an outage.
    pub refusal: Duration,
}

impl FaultRates {
    /// No fault at all.
    ///
    /// ```
    /// assert_eq!(optimist_conformance::network::FaultRates::none().total(), 0);
    /// ```
    pub fn none() -> Self {
        Self {
            drop_answer: 0,
            server_error: 0,
            delay_answer: 0,
            refuse: 0,
            outage: 0,
            delay: Duration::ZERO,
            refusal: Duration::ZERO,
        }
    }

    /// Per thousand exchanges, how many get a fault.
    ///
    /// ```
    /// use optimist_conformance::network::FaultRates;
    /// assert_eq!(FaultRates { outage: 1, refuse: 2, ..FaultRates::none() }.total(), 3);
    /// ```
    pub fn total(&self) -> u64 {
        self.drop_answer + self.server_error + self.delay_answer + self.refuse + self.outage
    }

    /// The fault for one exchange, drawn from `rng`.
    pub(super) fn draw(&self, rng: &mut SplitMix64) -> Fault {
        let roll = rng.below(1000);
        let choices = [
            (self.drop_answer, Fault::DropAnswer),
            (self.server_error, Fault::ServerError),
            (self.delay_answer, Fault::DelayAnswer(self.delay)),
            (self.refuse, Fault::Refuse(self.refusal)),
            (self.outage, Fault::Outage(self.refusal)),
        ];
        let mut below = 0;
        for (percent, fault) in choices {
            below += percent;
            if roll < below {
                return fault;
            }
        }
        Fault::Pass
    }
}

/// What a proxy saw and did, since it started.
///
/// ```
/// let counts = optimist_conformance::network::ProxyCounts::default();
/// assert_eq!(counts.faults(), 0);
/// println!("{counts}");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyCounts {
    /// Client connections accepted.
    pub connections: u64,
    /// Exchanges begun (requests seen).
    pub exchanges: u64,
    /// Exchanges faults could hit: all of them, or those the
    /// [target](super::FaultProxyBuilder::target) names.
    pub targeted: u64,
    /// Answers dropped after the server processed the request.
    pub dropped_answers: u64,
    /// Answers replaced by an HTTP `500`.
    pub server_errors: u64,
    /// Answers held back.
    pub delayed_answers: u64,
    /// Requests held back.
    pub delayed_requests: u64,
    /// Requests answered by the proxy, never forwarded.
    pub answered: u64,
    /// Periods of refused connections, outages apart.
    pub refusals: u64,
    /// Outages.
    pub outages: u64,
    /// Connections cut by outages or [`cut`](super::FaultProxy::cut).
    pub connections_cut: u64,
}

impl ProxyCounts {
    /// Faults injected, of every kind (connections cut apart: an outage counts once).
    ///
    /// ```
    /// use optimist_conformance::network::ProxyCounts;
    /// let counts = ProxyCounts { dropped_answers: 2, outages: 1, connections_cut: 5, ..ProxyCounts::default() };
    /// assert_eq!(counts.faults(), 3);
    /// ```
    pub fn faults(&self) -> u64 {
        self.dropped_answers
            + self.server_errors
            + self.delayed_answers
            + self.delayed_requests
            + self.answered
            + self.refusals
            + self.outages
    }
}

impl fmt::Display for ProxyCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} faults in {} exchanges ({} targeted) on {} connections: {} answers dropped, \
             {} answered 500, {} answers delayed, {} requests delayed, {} answered by the \
             proxy, {} refusals, {} outages ({} connections cut)",
            self.faults(),
            self.exchanges,
            self.targeted,
            self.connections,
            self.dropped_answers,
            self.server_errors,
            self.delayed_answers,
            self.delayed_requests,
            self.answered,
            self.refusals,
            self.outages,
            self.connections_cut,
        )
    }
}

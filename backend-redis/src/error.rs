//! The one place where the driver's errors become [`StorageError`]s (for the requests
//! the engine sends) and [`Error`]s (for building a store). The driver's
//! [`RedisError`] stays the source: callers walk `source()` for the server's words.
//!
//! The question for every error is whether the script may have run. (A cluster's
//! redirects, `MOVED` and `ASK`, are answers: the script did not run.) A reply from the
//! server (an error reply included) means the server answered, and our scripts raise
//! every error before their first write, so nothing was written. A refused connection
//! means nothing was sent, and so does a connection the pool found down before
//! sending on it ([`Failed::unsent`]). Anything else at the I/O level (a reset, a
//! closed connection, a response timeout) can happen after the request left: a write
//! may have been applied, while `read.lua` cannot write anything.

use std::fmt;

use optimist_core::redact::Secrets;
use optimist_core::{Applied, BoxError, Error, ErrorKind, Operation, StorageError};
use redis::{ErrorKind as DriverKind, RedisError, ServerErrorKind};

/// The backend's name in errors and spans.
pub(crate) const BACKEND: &str = "redis";

/// A driver error, and whether the request it failed was sent.
pub(crate) struct Failed {
    err: RedisError,
    sent: bool,
}

impl Failed {
    /// A request not sent: its connection was found down first.
    pub(crate) fn unsent(err: RedisError) -> Self {
        Self { err, sent: false }
    }
}

impl From<RedisError> for Failed {
    fn from(err: RedisError) -> Self {
        Self { err, sent: true }
    }
}

/// Maps a driver error of a script call. `if_lost` is what a request whose answer
/// never came means: [`Applied::Maybe`] for a script that writes, [`Applied::No`] for
/// `read.lua`, which cannot. A request never sent applied nothing; its connection was
/// found down ([`ErrorKind::Unavailable`]) or silent ([`ErrorKind::Timeout`]).
pub(crate) fn from_redis(err: impl Into<Failed>, if_lost: Applied) -> StorageError {
    let Failed { err, sent } = err.into();
    let (kind, answered) = classify(&err);
    match (answered, sent) {
        (true, _) => StorageError::new(kind, Applied::No, err),
        (false, false) if kind == ErrorKind::Io => {
            StorageError::new(ErrorKind::Unavailable, Applied::No, err)
        }
        (false, false) => StorageError::new(kind, Applied::No, err),
        (false, true) => StorageError::new(kind, if_lost, err),
    }
}

/// Maps an error met while connecting or loading the scripts: a [`Error::Backend`]
/// of [`Operation::Setup`] whose source names the (redacted) `address`, then the
/// driver's error, or its text scrubbed of `secrets` should it show one.
pub(crate) fn setup(err: RedisError, address: &str, secrets: &Secrets) -> Error {
    let (kind, _) = classify(&err);
    let source = AtServer {
        address: address.to_string(),
        source: secrets.scrub_error(err),
    };
    Error::backend(BACKEND, Operation::Setup, None, kind, source)
}

/// A URL the driver cannot use (it does not parse, names no host, asks for TLS the
/// crate was built without): a configuration problem, stated in the driver's words
/// with every secret scrubbed. ([`Error::Configuration`] carries a reason, no
/// source.)
pub(crate) fn bad_url(err: &RedisError, address: &str, secrets: &Secrets) -> Error {
    Error::configuration(
        BACKEND,
        format!(
            "the Redis URL {address} is not usable: {}",
            secrets.scrub_chain(err)
        ),
    )
}

/// A setup error's cause: which server, then the driver's error.
#[derive(Debug)]
pub(crate) struct AtServer {
    address: String,
    source: BoxError,
}

impl fmt::Display for AtServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redis at {}", self.address)
    }
}

impl std::error::Error for AtServer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// Whether `err` is the server's refusal of a connection's setup (`AUTH`, `HELLO`): a
/// wrong or missing password, or too many clients. Only a connection's setup meets
/// these; the driver keeps such a connection failed and reconnects only after an I/O
/// error, so the pool replaces it.
pub(crate) fn refused_at_setup(err: &RedisError) -> bool {
    err.kind() == DriverKind::AuthenticationFailed
        || matches!(err.code(), Some("WRONGPASS" | "NOAUTH"))
        || too_many_clients(err)
}

/// The server's answer to a connection past its `maxclients`.
fn too_many_clients(err: &RedisError) -> bool {
    err.code() == Some("ERR")
        && err
            .detail()
            .is_some_and(|detail| detail.contains("max number of clients reached"))
}

/// The kind of a driver error, and whether the server answered (or nothing was sent),
/// so that nothing ran.
fn classify(err: &RedisError) -> (ErrorKind, bool) {
    if err.is_connection_refusal() {
        return (ErrorKind::Unavailable, true);
    }
    let kind = match err.kind() {
        DriverKind::Server(kind) => match kind {
            // TRYAGAIN: a multi-key request met a slot in mid-migration.
            ServerErrorKind::BusyLoading | ServerErrorKind::TryAgain => ErrorKind::Busy,
            // MOVED and ASK (a cluster's slot served, or being moved, elsewhere): the
            // script did not run. The store's cluster client resends nothing itself
            // (a resent script may run twice), so the engine sends it again, after
            // the client has refreshed its slot map (MOVED) or the migration ended.
            ServerErrorKind::Moved
            | ServerErrorKind::Ask
            | ServerErrorKind::ClusterDown
            | ServerErrorKind::MasterDown
            | ServerErrorKind::ReadOnly => ErrorKind::Unavailable,
            // CROSSSLOT: the store sent keys of several slots in one request, a bug.
            ServerErrorKind::CrossSlot => ErrorKind::Other,
            // Full for now: nothing ran, and a client may leave.
            _ if too_many_clients(err) => ErrorKind::Unavailable,
            // NOPERM, ERR (a script error included), ...: for good.
            _ => ErrorKind::Rejected,
        },
        // Error codes the driver has no kind for.
        DriverKind::Extension => match err.code() {
            // Another script runs past `busy-reply-threshold`: temporary.
            Some("BUSY") => ErrorKind::Busy,
            // The key holds something that is not one of our items.
            Some("OPTIMIST_CORRUPT" | "WRONGTYPE") => ErrorKind::Corrupt,
            // The engine and the scripts disagree on the arguments: a bug.
            Some("OPTIMIST_PROTOCOL") => ErrorKind::Other,
            // OOM, NOAUTH, WRONGPASS, ...
            _ => ErrorKind::Rejected,
        },
        DriverKind::AuthenticationFailed
        | DriverKind::InvalidClientConfig
        | DriverKind::RESP3NotSupported
        | DriverKind::EmptySentinelList => ErrorKind::Rejected,
        DriverKind::MasterNameNotFoundBySentinel
        | DriverKind::NoValidReplicasFoundBySentinel
        | DriverKind::ClusterConnectionNotFound => ErrorKind::Unavailable,
        DriverKind::Client | DriverKind::UnexpectedReturnType => ErrorKind::Other,
        // I/O after the request may have left, or a reply that could not be parsed.
        _ if err.is_timeout() => return (ErrorKind::Timeout, false),
        _ => return (ErrorKind::Io, false),
    };
    (kind, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;
    use std::io;

    #[test]
    fn a_refused_connection_applied_nothing_and_keeps_the_driver_error() {
        let err = RedisError::from(io::Error::from(io::ErrorKind::ConnectionRefused));
        let mapped = from_redis(err, Applied::Maybe);
        assert_eq!(
            (mapped.kind(), mapped.applied()),
            (ErrorKind::Unavailable, Applied::No)
        );
        assert!(mapped.is_transient());
        let driver = mapped.source_ref().downcast_ref::<RedisError>();
        assert!(
            driver.is_some_and(RedisError::is_connection_refusal),
            "{mapped:?}"
        );
    }

    #[test]
    fn a_lost_answer_may_have_applied_a_write_but_not_a_read() {
        let lost = || RedisError::from(io::Error::from(io::ErrorKind::ConnectionReset));
        let write = from_redis(lost(), Applied::Maybe);
        assert_eq!(
            (write.kind(), write.applied()),
            (ErrorKind::Io, Applied::Maybe)
        );
        assert!(!write.is_transient());
        let read = from_redis(lost(), Applied::No);
        assert_eq!((read.kind(), read.applied()), (ErrorKind::Io, Applied::No));
        assert!(read.is_transient());
    }

    #[test]
    fn a_request_never_sent_applied_nothing_and_keeps_the_driver_error() {
        let down = RedisError::from(io::Error::from(io::ErrorKind::ConnectionReset));
        let mapped = from_redis(Failed::unsent(down), Applied::Maybe);
        assert_eq!(
            (mapped.kind(), mapped.applied()),
            (ErrorKind::Unavailable, Applied::No)
        );
        assert!(mapped.is_transient());
        assert!(mapped.source_ref().downcast_ref::<RedisError>().is_some());
        let silent = RedisError::from(io::Error::from(io::ErrorKind::TimedOut));
        let mapped = from_redis(Failed::unsent(silent), Applied::Maybe);
        assert_eq!(
            (mapped.kind(), mapped.applied()),
            (ErrorKind::Timeout, Applied::No)
        );
    }

    #[test]
    fn a_timeout_is_a_timeout() {
        let err = RedisError::from(io::Error::from(io::ErrorKind::TimedOut));
        let mapped = from_redis(err, Applied::Maybe);
        assert_eq!(
            (mapped.kind(), mapped.applied()),
            (ErrorKind::Timeout, Applied::Maybe)
        );
    }

    #[test]
    fn error_replies_applied_nothing() {
        let reply = |code: &str| {
            from_redis(
                redis::make_extension_error(code.into(), Some("detail".into())),
                Applied::Maybe,
            )
        };
        for (code, kind) in [
            ("OPTIMIST_CORRUPT", ErrorKind::Corrupt),
            ("WRONGTYPE", ErrorKind::Corrupt),
            ("OPTIMIST_PROTOCOL", ErrorKind::Other),
            ("BUSY", ErrorKind::Busy),
            ("OOM", ErrorKind::Rejected),
        ] {
            let mapped = reply(code);
            assert_eq!(
                (mapped.kind(), mapped.applied()),
                (kind, Applied::No),
                "{code}"
            );
            let driver = mapped.source_ref().downcast_ref::<RedisError>();
            assert_eq!(driver.and_then(RedisError::code), Some(code));
        }
    }

    /// The error the driver makes of a server's error reply `line`.
    fn server_error(line: &str) -> RedisError {
        let reply = redis::parse_redis_value(format!("-{line}\r\n").as_bytes());
        let parsed = reply.and_then(redis::Value::extract_error);
        parsed
            .err()
            .unwrap_or_else(|| RedisError::from((DriverKind::Client, "no error")))
    }

    #[test]
    fn refusals_of_a_connections_setup_are_told_from_answers() {
        for line in [
            "WRONGPASS invalid username-password pair or user is disabled.",
            "NOAUTH HELLO must be called with the client already authenticated",
            "ERR max number of clients reached",
        ] {
            assert!(refused_at_setup(&server_error(line)), "{line}");
        }
        for line in [
            "ERR Error running script",
            "NOPERM no permissions",
            "BUSY x",
        ] {
            assert!(!refused_at_setup(&server_error(line)), "{line}");
        }
        let io = RedisError::from(io::Error::from(io::ErrorKind::ConnectionReset));
        assert!(!refused_at_setup(&io));
    }

    #[test]
    fn too_many_clients_is_unavailable_for_now_and_applied_nothing() {
        let mapped = from_redis(
            server_error("ERR max number of clients reached"),
            Applied::Maybe,
        );
        assert_eq!(
            (mapped.kind(), mapped.applied()),
            (ErrorKind::Unavailable, Applied::No)
        );
        assert!(mapped.is_transient());
        let wrong_password = from_redis(server_error("WRONGPASS invalid"), Applied::Maybe);
        assert_eq!(
            (wrong_password.kind(), wrong_password.applied()),
            (ErrorKind::Rejected, Applied::No)
        );
    }

    #[test]
    fn cluster_redirects_and_outages_applied_nothing_and_are_sent_again() {
        for (code, detail, kind) in [
            ("MOVED", "3999 127.0.0.1:7001", ErrorKind::Unavailable),
            ("ASK", "3999 127.0.0.1:7001", ErrorKind::Unavailable),
            (
                "TRYAGAIN",
                "Multiple keys request during rehashing of slot",
                ErrorKind::Busy,
            ),
            ("CLUSTERDOWN", "The cluster is down", ErrorKind::Unavailable),
        ] {
            let reply = format!("-{code} {detail}\r\n");
            let err = redis::parse_redis_value(reply.as_bytes())
                .and_then(redis::Value::extract_error)
                .err();
            let Some(err) = err else {
                unreachable!("{code}: not an error");
            };
            let mapped = from_redis(err, Applied::Maybe);
            assert_eq!(
                (mapped.kind(), mapped.applied()),
                (kind, Applied::No),
                "{code}"
            );
            assert!(mapped.is_transient(), "{code}");
        }
    }

    #[test]
    fn a_setup_error_names_the_server_and_keeps_the_driver_error() {
        let err = RedisError::from(io::Error::from(io::ErrorKind::ConnectionRefused));
        let mapped = setup(
            err,
            "redis://:***@127.0.0.1:1",
            &Secrets::new().with("hunter2"),
        );
        assert_eq!(mapped.backend_kind(), Some(ErrorKind::Unavailable));
        assert!(mapped.is_retryable());
        let at = mapped.source().map(ToString::to_string);
        assert_eq!(at.as_deref(), Some("Redis at redis://:***@127.0.0.1:1"));
        let driver = mapped
            .source()
            .and_then(|at| at.source())
            .and_then(|d| d.downcast_ref::<RedisError>());
        assert!(driver.is_some(), "{mapped:?}");
    }

    #[test]
    fn a_setup_error_that_shows_a_secret_is_scrubbed() {
        let err = redis::make_extension_error("WRONGPASS".into(), Some("hunter2 bad".into()));
        let mapped = setup(
            err,
            "redis://:***@127.0.0.1:1",
            &Secrets::new().with("hunter2"),
        );
        let shown = format!("{mapped} {mapped:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("WRONGPASS"), "{shown}");
        assert_eq!(mapped.backend_kind(), Some(ErrorKind::Rejected));
    }
}

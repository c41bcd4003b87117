//! Which protocol the store's connections speak: RESP3 unless the URL names one.
//!
//! Why it matters: on RESP2 a multiplexed connection that the server (or anything on
//! the way) closes while it is idle is found dead only by the next request sent on
//! it, which fails with `broken pipe`; the driver cannot say whether that request
//! left, so a write fails as `Indeterminate` (a burst after an idle close lost 2 puts
//! of 32 that way on a pool of 4). On RESP3 the connection manager listens for the
//! close and opens a new connection at once, so requests sent after it go on the new
//! one. A server without RESP3 (Redis before 6) still gets a store: on RESP2, with
//! that weakness.

use optimist_core::url_options::{option_name, split_query};
use redis::{Client, ErrorKind, ProtocolVersion, RedisError, RedisResult};

/// Whether the URL chooses the protocol itself (`?protocol=…`, the parameter the
/// driver reads): then it is kept.
pub(crate) fn named_in(url: &str) -> bool {
    split_query(url)
        .pairs()
        .any(|pair| option_name(pair) == "protocol")
}

/// `client`'s address and credentials on RESP3.
pub(crate) fn on_resp3(client: &Client) -> RedisResult<Client> {
    let info = client.get_connection_info().clone();
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    Client::open(info.set_redis_settings(settings))
}

/// Whether connecting failed because the server does not speak RESP3: it refused
/// `HELLO`. The driver names Redis's own refusal; other servers word it their way,
/// and the cluster client wraps it in an I/O error, but only that command's failure
/// names it. (Taking another failure for one costs an attempt on RESP2, which fails
/// the same way.)
pub(crate) fn refused(err: &RedisError) -> bool {
    err.kind() == ErrorKind::RESP3NotSupported
        || err.to_string().to_ascii_uppercase().contains("HELLO")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_protocol_parameter_names_the_protocol() {
        assert!(named_in("redis://h:6379?protocol=resp2"));
        assert!(named_in("redis://h:6379/0?db=1&protocol=3"));
        assert!(!named_in("redis://h:6379/0"));
        // A password that looks like the parameter is not one.
        assert!(!named_in("redis://:protocol=2@h:6379"));
        assert!(!named_in("redis://h:6379?prefix=protocol"));
    }
}

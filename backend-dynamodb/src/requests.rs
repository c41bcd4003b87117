//! The client every request of a store goes out on: a copy of the caller's client,
//! built once with the store's own request settings, so that no request pays for
//! settings of its own.
//!
//! The SDK's retry classifiers resend after a timeout, an I/O error or a 5xx, none of
//! which says whether the first attempt reached DynamoDB; an attempt timeout even
//! resends while the first attempt is still travelling, so it can land after the call
//! returned. So the copy never resends (core's engine resends instead, only what
//! [`crate::error`] judges provably not applied or what it settled by the write token,
//! within the store's retry policy), and bounds each request by the store's response
//! timeout, so a server that never answers cannot hang a caller. Everything else
//! (credentials, region, endpoint, HTTP client, interceptors, the client's connect and
//! read timeouts) is the caller's; the caller's client itself is not changed.
//!
//! The settings used to travel with each request as a `config_override`, which makes
//! the SDK merge configs and rebuild the runtime components on every request: a cost
//! paid per call for the same answer each time.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{Config, SharedAsyncSleep};
use aws_smithy_async::rt::sleep::default_async_sleep;
use optimist_core::Error;

use crate::error::configuration;

/// A copy of `client` that sends each request once, bounded by `response_timeout`.
///
/// The SDK panics when it builds a client that has timeouts but nothing to sleep with;
/// such a client is refused here as [`Error::Configuration`] instead.
pub(crate) fn once_client(client: &Client, response_timeout: Duration) -> Result<Client, Error> {
    let config = client.config();
    can_time_out(config.sleep_impl(), default_async_sleep())?;
    let config: Config = config
        .to_builder()
        .retry_config(RetryConfig::disabled())
        // Merged into the client's own timeouts (its connect and read timeouts stay).
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(response_timeout)
                .operation_timeout(response_timeout)
                .build(),
        )
        .build();
    Ok(Client::from_conf(config))
}

/// Whether a client can bound its requests: it needs something to sleep with, its own
/// or the SDK's default (there whenever the SDK's Tokio runtime support is on, as this
/// crate turns it on).
fn can_time_out(
    configured: Option<SharedAsyncSleep>,
    default: Option<SharedAsyncSleep>,
) -> Result<(), Error> {
    match configured.or(default) {
        Some(_) => Ok(()),
        None => Err(configuration(
            "the client has no async sleep implementation (sleep_impl), which the store needs to bound each request by its response timeout",
        )),
    }
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used)] // tests fail by panicking
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Region};

    fn client(retry: RetryConfig, timeouts: Option<TimeoutConfig>) -> Client {
        let mut config = Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .retry_config(retry);
        if let Some(timeouts) = timeouts {
            config = config.timeout_config(timeouts);
        }
        Client::from_conf(config.build())
    }

    #[test]
    fn the_copy_sends_once_within_the_timeout_and_leaves_the_client_alone() {
        let connect = Duration::from_millis(700);
        let own = TimeoutConfig::builder()
            .connect_timeout(connect)
            .operation_attempt_timeout(Duration::from_secs(30))
            .build();
        let given = client(RetryConfig::standard().with_max_attempts(5), Some(own));
        let limit = Duration::from_millis(1500);
        let copy = once_client(&given, limit).unwrap_or_else(|e| panic!("{e}"));

        let retry = copy.config().retry_config().unwrap();
        assert_eq!(retry.max_attempts(), 1);
        let timeouts = copy.config().timeout_config().unwrap();
        assert_eq!(timeouts.operation_attempt_timeout(), Some(limit));
        assert_eq!(timeouts.operation_timeout(), Some(limit));
        assert_eq!(timeouts.connect_timeout(), Some(connect));
        assert_eq!(
            copy.config().region().map(Region::as_ref),
            Some("eu-west-1")
        );

        // The caller's client keeps its own settings.
        assert_eq!(given.config().retry_config().unwrap().max_attempts(), 5);
        let own = given.config().timeout_config().unwrap();
        assert_eq!(
            own.operation_attempt_timeout(),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn nothing_to_sleep_with_is_a_configuration_error() {
        let err = can_time_out(None, None).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Configuration {
                    backend: "dynamodb",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("sleep"), "{err}");
        // The SDK's default is there in this build, so no client is refused for it.
        let default = default_async_sleep();
        assert!(default.is_some());
        assert!(can_time_out(None, default).is_ok());
    }
}

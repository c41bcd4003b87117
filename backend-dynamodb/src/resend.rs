//! How every request that can write is sent: the SDK never resends it, and this
//! backend resends it only after an answer that proves the earlier attempt was not
//! applied (SPEC R12).
//!
//! The SDK's retry classifiers resend after a timeout, an I/O error or a 5xx, none of
//! which says whether the first attempt reached DynamoDB; an attempt timeout even
//! resends while the first attempt is still travelling, so it can land after the call
//! returned. So each write goes out with the client's retry config narrowed to one
//! attempt (per request, the client itself is untouched), and the loop below resends
//! only what [`crate::error`] judges provably not applied: throttling answers,
//! transient transaction cancellations, connections that never opened.
//!
//! How often and how patiently comes from the client's own retry config (attempts,
//! initial and largest backoff), so a client with retries disabled gets no resends,
//! and `aws_config`'s default (standard, 3 attempts) gets up to 3 attempts. Waits are
//! exponential with full jitter. Reads keep the SDK's own retries.

use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Builder as ConfigOverride;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::error::SdkError;
use optimist_core::retry::RetryPolicy;
use tokio::time::Instant;

/// Sends one write request: `attempt` sends it once with the config override it is
/// given (apply it with `.customize().config_override(..)`), and is called again only
/// while `not_applied` says the last failure proves nothing was written and the
/// client's retry budget allows. The result is the last attempt's.
pub(crate) async fn send_write<T, E, Fut>(
    client: &Client,
    not_applied: impl Fn(&SdkError<E, HttpResponse>) -> bool,
    mut attempt: impl FnMut(ConfigOverride) -> Fut,
) -> Result<T, SdkError<E, HttpResponse>>
where
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    let config = client.config();
    // A client built without a retry config does not retry (the SDK's own default).
    let retry = config
        .retry_config()
        .cloned()
        .unwrap_or_else(RetryConfig::disabled);
    let policy = RetryPolicy::new(
        retry.max_attempts(),
        retry.initial_backoff(),
        retry.max_backoff(),
    );
    // The user's whole-operation timeout also bounds the resends.
    let budget = config
        .timeout_config()
        .and_then(|timeouts| timeouts.operation_timeout());
    let started = Instant::now();
    let mut sent = 1;
    loop {
        let once = ConfigOverride::new().retry_config(retry.clone().with_max_attempts(1));
        let err = match attempt(once).await {
            Ok(output) => return Ok(output),
            Err(err) => err,
        };
        if sent >= policy.max_attempts() || !not_applied(&err) {
            return Err(err);
        }
        let pause = policy.delay(sent);
        if budget.is_some_and(|budget| started.elapsed() + pause >= budget) {
            return Err(err);
        }
        tracing::debug!(
            attempt = sent,
            ?pause,
            "write refused without being applied; sending it again"
        );
        sleep(pause).await;
        sent += 1;
    }
}

async fn sleep(pause: Duration) {
    if !pause.is_zero() {
        tokio::time::sleep(pause).await;
    }
}

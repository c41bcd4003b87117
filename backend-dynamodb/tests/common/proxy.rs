//! The conformance crate's fault proxy (`optimist_conformance::network`) as the
//! DynamoDB tests use it: faults aimed at write requests, DynamoDB's own error
//! answers, and an SDK interceptor that makes the proxy accept again between two
//! attempts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use optimist_conformance::network::{Fault, FaultProxy, http_response};

/// The operations that can write.
const WRITES: &[&str] = &["PutItem", "DeleteItem", "UpdateItem", "TransactWriteItems"];

/// `host:port` of an endpoint URL (`http://host:port`).
pub fn host_port(endpoint: &str) -> String {
    endpoint
        .strip_prefix("http://")
        .unwrap_or(endpoint)
        .trim_end_matches('/')
        .to_string()
}

/// The write operation a request carries (`X-Amz-Target: DynamoDB_20120810.PutItem`
/// gives `PutItem`); `None` for reads and anything else.
pub fn write_operation(request: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(request);
    let target = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("x-amz-target")
            .then(|| value.trim().to_string())
    })?;
    let operation = target.rsplit('.').next()?;
    WRITES.contains(&operation).then(|| operation.to_string())
}

/// A proxy in front of `endpoint` whose faults hit write requests only, and which
/// names the writes it forwards.
pub async fn writes_proxy(endpoint: &str) -> FaultProxy {
    FaultProxy::builder(host_port(endpoint))
        .target(write_operation)
        .start()
        .await
        .unwrap_or_else(|e| panic!("fault proxy: {e}"))
}

/// The endpoint URL of a proxy.
pub fn endpoint_of(proxy: &FaultProxy) -> String {
    format!("http://{}", proxy.address())
}

/// DynamoDB's error answer of type `error_type` with `status`, given by the proxy
/// without forwarding the request.
pub fn service_error(status: u16, error_type: &str, message: &str) -> Fault {
    let body = serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{error_type}"),
        "message": message,
    });
    Fault::Answer(http_response(
        status,
        &[
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amzn-errortype", error_type),
        ],
        body.to_string().as_bytes(),
    ))
}

/// A 500 `InternalServerError`, not forwarded.
pub fn server_error() -> Fault {
    service_error(500, "InternalServerError", "injected server error")
}

/// A 400 `ThrottlingException`, not forwarded.
pub fn throttling() -> Fault {
    service_error(400, "ThrottlingException", "injected throttling")
}

/// An interceptor for the client that makes `proxy` accept connections again just
/// before the client's `attempt`th request (counting from 1) is sent.
pub fn accept_before_request(proxy: &FaultProxy, attempt: usize) -> AcceptBefore {
    AcceptBefore {
        proxy: proxy.clone(),
        attempt,
        seen: Arc::new(AtomicUsize::new(0)),
    }
}

/// See [`accept_before_request`].
#[derive(Clone, Debug)]
pub struct AcceptBefore {
    proxy: FaultProxy,
    attempt: usize,
    seen: Arc<AtomicUsize>,
}

impl Intercept for AcceptBefore {
    fn name(&self) -> &'static str {
        "fault-proxy-accept-before"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.seen.fetch_add(1, Ordering::SeqCst) + 1 == self.attempt {
            self.proxy.accept()?;
        }
        Ok(())
    }
}

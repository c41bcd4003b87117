//! The proxy's only protocol: an HTTP/1.1 answer it writes itself.

/// An HTTP/1.1 answer with `status`, the given headers, `body`, its `Content-Length`
/// and `Connection: close`: for [`Fault::Answer`](super::Fault::Answer), and what
/// [`Fault::ServerError`](super::Fault::ServerError) sends.
///
/// ```
/// let answer = optimist_conformance::network::http_response(
///     400,
///     &[("x-amzn-errortype", "ThrottlingException")],
///     b"{}",
/// );
/// let text = String::from_utf8(answer).unwrap();
/// assert!(text.starts_with("HTTP/1.1 400 "));
/// assert!(text.contains("content-length: 2\r\n") && text.ends_with("\r\n\r\n{}"));
/// ```
pub fn http_response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} Injected Fault\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut answer = head.into_bytes();
    answer.extend_from_slice(body);
    answer
}

/// The answer of [`Fault::ServerError`](super::Fault::ServerError).
pub(super) fn server_error() -> Vec<u8> {
    http_response(
        500,
        &[("content-type", "text/plain")],
        b"injected fault: the server processed the request, its answer was replaced",
    )
}

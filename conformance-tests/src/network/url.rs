//! A server's URL pointed at the proxy.

/// A server URL (`scheme://[user[:password]@]host:port[/path][?query]`) pointed at
/// `proxy` instead, and the `host:port` it named, to start the proxy with: the same
/// credentials, database and options, another address. `None` when the URL names no
/// port.
///
/// ```
/// use optimist_conformance::network::url_through;
/// let proxy = "127.0.0.1:4000".parse().unwrap();
/// let (url, upstream) = url_through("redis://user:p@ss@10.1.2.3:6379/0", proxy).unwrap();
/// assert_eq!(url, "redis://user:p@ss@127.0.0.1:4000/0");
/// assert_eq!(upstream, "10.1.2.3:6379");
/// assert_eq!(url_through("postgres://localhost/app", proxy), None);
/// ```
pub fn url_through(url: &str, proxy: std::net::SocketAddr) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    // The authority ends at the path or the query; a password may hold '@', the
    // host may not.
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host),
        None => (String::new(), authority),
    };
    let port_given = host
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    port_given.then(|| (format!("{scheme}://{user}{proxy}{tail}"), host.to_string()))
}

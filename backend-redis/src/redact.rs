//! URLs as they may be shown: without user name and password.

/// The URL with its user information replaced by `***` and its query dropped; a URL
/// that does not look like `scheme://authority…` is not shown at all.
///
/// ```
/// use optimist_redis::redact_url;
/// assert_eq!(redact_url("redis://:pw@host:6379/0"), "redis://***@host:6379/0");
/// assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
/// assert_eq!(redact_url("not a url :pw@"), "(a Redis URL that does not parse)");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(a Redis URL that does not parse)".to_string();
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return "(a Redis URL that does not parse)".to_string();
    }
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    // Everything up to the last '@' is user information, even where a '/' in a
    // password would make a URL parser see a path: hiding too much beats leaking.
    match rest.rsplit_once('@') {
        Some((_, host_and_path)) => format!("{scheme}://***@{host_and_path}"),
        None => format!("{scheme}://{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_credentials_in_every_spelling() {
        for url in [
            "redis://user:s3cret@h:1/2",
            "redis://:s3cret@h:1",
            "rediss://u:s3cret@h",
            "redis://u:s3c@ret@h:1",
            "redis://h:1/0?password=s3cret",
            "redis+unix:///tmp/s.sock?pass=s3cret",
            "redis://u:s3c/ret@h:1",
        ] {
            let shown = redact_url(url);
            assert!(!shown.contains("s3c"), "{url} -> {shown}");
        }
    }
}

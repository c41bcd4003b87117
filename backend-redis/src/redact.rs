//! URLs as they may be shown, and the secrets a URL holds: nothing a password is made
//! of may reach a message or a `Debug` output.

use redis::IntoConnectionInfo;

/// What is shown of a URL that does not look like `scheme://…`.
const UNPARSED: &str = "(a Redis URL that does not parse)";

/// The URL with its user information replaced by `***` and its query and fragment
/// dropped; a URL that does not look like `scheme://authority…` is not shown at all.
///
/// Everything up to the last `@` counts as user information, even where a `/`, `?` or
/// `#` in an unencoded password would make a URL parser end the authority earlier:
/// hiding too much beats leaking. When an `@` follows a `?` or `#`, what follows the
/// `@` may be part of a secret too (`?pass=a@b`), so only the scheme is shown.
///
/// ```
/// use optimist_redis::redact_url;
/// assert_eq!(redact_url("redis://:pw@host:6379/0"), "redis://***@host:6379/0");
/// assert_eq!(redact_url("redis://u:p/w?x#y@host:6379"), "redis://***");
/// assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
/// assert_eq!(redact_url("not a url :pw@"), "(a Redis URL that does not parse)");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = split_scheme(url) else {
        return UNPARSED.to_string();
    };
    let query_at = rest.find(['?', '#']).unwrap_or(rest.len());
    match rest.rfind('@') {
        Some(at) if at > query_at => format!("{scheme}://***"),
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..query_at]),
        None => format!("{scheme}://{}", &rest[..query_at]),
    }
}

/// Every spelling of a secret the URL may hold, longest first, to be scrubbed from a
/// driver's message: the user information (up to the last `@`), its password part,
/// `pass`/`password` query values (Unix socket URLs), and the password as the driver
/// decodes it.
pub(crate) fn secrets_in(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    if let Some((_, rest)) = split_scheme(url) {
        if let Some((userinfo, _)) = rest.rsplit_once('@') {
            secrets.push(userinfo.to_string());
            if let Some((_, password)) = userinfo.split_once(':') {
                secrets.push(password.to_string());
            }
        }
        if let Some((_, query)) = rest.split_once('?') {
            for pair in query.split('&') {
                if let Some(("pass" | "password", value)) = pair.split_once('=') {
                    // Whole, and cut where a URL parser ends the query (`#`).
                    let cut = value.split('#').next().unwrap_or_default();
                    secrets.extend([value.to_string(), cut.to_string()]);
                }
            }
        }
    }
    if let Ok(info) = url.into_connection_info() {
        secrets.extend(info.redis_settings().password().map(str::to_string));
    }
    secrets.retain(|s| !s.is_empty());
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    secrets
}

/// `text` with every secret replaced by `***`.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .fold(text.to_string(), |text, secret| text.replace(secret, "***"))
}

fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let valid = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    valid.then_some((scheme, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words a password is made of here, so a test can check that no piece of it
    /// shows, not only the whole.
    const WORDS: [&str; 8] = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    ];

    /// A password with every character that has a meaning in a URL, and non-ASCII.
    fn hostile_password() -> String {
        "alpha/bravo?charlie#delta@echo:foxtrot%golfé€hotel".to_string()
    }

    fn encoded(password: &str) -> String {
        password
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    fn assert_hidden(shown: &str, what: &str) {
        for word in WORDS {
            assert!(!shown.contains(word), "{what}: {word:?} shows in {shown:?}");
        }
        assert!(
            !shown.contains('é') && !shown.contains('€'),
            "{what}: {shown:?}"
        );
    }

    #[test]
    fn hides_credentials_in_every_spelling() {
        for url in [
            "redis://user:s3cret@h:1/2",
            "redis://:s3cret@h:1",
            "rediss://u:s3cret@h",
            "redis://u:s3c@ret@h:1",
            "redis://h:1/0?password=s3cret",
            "redis+unix:///tmp/s.sock?pass=s3cret",
            "redis+unix:///tmp/s.sock?pass=s3c@ret",
            "redis://u:s3c/ret@h:1",
            "redis://u:s3c?ret@h:1",
            "redis://u:s3c#ret@h:1",
            "redis://u:12#s3c@h:1",
        ] {
            let shown = redact_url(url);
            assert!(
                !shown.contains("s3c") && !shown.contains("ret"),
                "{url} -> {shown}"
            );
        }
    }

    #[test]
    fn hides_a_hostile_password_raw_or_encoded() {
        let password = hostile_password();
        for url in [
            format!("redis://default:{password}@127.0.0.1:6379/0"),
            format!("redis://:{password}@127.0.0.1:6379"),
            format!("redis://default:{}@127.0.0.1:6379/0", encoded(&password)),
            format!("redis+unix:///tmp/s.sock?pass={password}"),
            format!("redis+unix:///tmp/s.sock?pass={}", encoded(&password)),
        ] {
            assert_hidden(&redact_url(&url), &url);
            let scrubbed = scrub(
                &format!("the driver says {url} and {password}"),
                &secrets_in(&url),
            );
            assert_hidden(&scrubbed, &url);
        }
    }

    #[test]
    fn shows_where_the_server_is() {
        let url = format!(
            "redis://default:{}@127.0.0.1:6379/0",
            encoded(&hostile_password())
        );
        assert_eq!(redact_url(&url), "redis://***@127.0.0.1:6379/0");
    }
}

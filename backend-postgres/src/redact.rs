//! Keeping a connection URL's password out of every message and `Debug` output.
//!
//! A password may hold any character, raw or percent-encoded, and a raw `/`, `?`, `#`
//! or `@` makes a URL ambiguous: to a URL parser `postgres://me:12/x@db/app` is host
//! `me`, port `12`, path `/x@db/app`. So redaction trusts no parse. Everything
//! between `://` and the *last* `@` counts as user info, and all of it after the first
//! `:` is hidden; an `@` later in the URL (in a parameter, say) only makes more of the
//! URL hidden, never less. A `password=` parameter is hidden too.

/// The URL as it may be shown: user info's password and `password=` parameters
/// replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // Not a URL: nothing tells where a password would be, so nothing is shown.
        return "(not a URL, hidden)".to_string();
    };
    let shown = match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    };
    redact_password_params(&shown)
}

/// Every form in which a password of `url` could appear in a message: as written,
/// percent-decoded and percent-encoded, longest first, to be cut out by [`scrub`].
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let mut written: Vec<&str> = Vec::new();
    if let Some((_, rest)) = url.split_once("://") {
        // As redact_url reads it: user info up to the last '@'.
        if let Some((userinfo, _)) = rest.rsplit_once('@') {
            written.extend(userinfo.split_once(':').map(|(_, password)| password));
        }
        // As a URL parser reads it: the authority ends at the first '/', '?' or '#'.
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            written.extend(userinfo.split_once(':').map(|(_, password)| password));
        }
    }
    written.extend(password_params(url));
    let mut secrets: Vec<String> = Vec::new();
    for raw in written {
        let decoded = percent_decode(raw);
        let as_form = percent_decode(&raw.replace('+', " "));
        for form in [
            raw.to_string(),
            percent_encode(&decoded, false),
            percent_encode(&decoded, true),
            decoded,
            as_form,
        ] {
            if !form.is_empty() && !secrets.contains(&form) {
                secrets.push(form);
            }
        }
    }
    secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    secrets
}

/// `text` with every secret replaced by `***` (longest first, so no part of a longer
/// secret is left behind by a shorter one).
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|secret| !secret.is_empty())
        .fold(text.to_string(), |text, secret| {
            text.replace(secret.as_str(), "***")
        })
}

/// The values of `password=` parameters, as written.
fn password_params(url: &str) -> impl Iterator<Item = &str> {
    url.split_once('?')
        .map(|(_, query)| query)
        .into_iter()
        .flat_map(|query| query.split('&'))
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, _)| is_password_param(name))
        .map(|(_, value)| value)
}

fn is_password_param(name: &str) -> bool {
    percent_decode(name).eq_ignore_ascii_case("password")
}

fn redact_password_params(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_password_param(name) => format!("{name}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` percent-encoded: every byte but ASCII letters, digits and `-._~` when `all`,
/// else only bytes outside ASCII (as URL parsers encode user info).
fn percent_encode(text: &str, all: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let keep = if all {
            byte.is_ascii_alphanumeric() || b"-._~".contains(&byte)
        } else {
            byte.is_ascii()
        };
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Passwords with every character that makes URLs hard, and how a URL may hold them.
    fn hard_cases() -> Vec<(String, String)> {
        let mut cases = Vec::new();
        for password in [
            "a/b",
            "a?b",
            "a#b",
            "a@b",
            "a:b",
            "50%off",
            "pässwörd",
            "/?#@:%é",
        ] {
            let encoded = percent_encode(password, true);
            for written in [password.to_string(), encoded] {
                cases.push((
                    password.to_string(),
                    format!("postgres://me:{written}@db.example:5432/app?sslmode=disable"),
                ));
                cases.push((
                    password.to_string(),
                    format!("postgres://me@db.example/app?password={written}&sslmode=disable"),
                ));
            }
        }
        cases
    }

    #[test]
    fn shown_urls_never_hold_the_password() {
        for (password, url) in hard_cases() {
            let shown = redact_url(&url);
            let encoded = percent_encode(password.as_str(), true);
            assert!(
                !shown.contains(&password) && !shown.contains(&encoded),
                "{url} shown as {shown}"
            );
            assert!(shown.contains("***"), "{shown}");
        }
    }

    #[test]
    fn every_written_form_is_scrubbed() {
        for (password, url) in hard_cases() {
            let secrets = url_secrets(&url);
            for form in [
                password.clone(),
                percent_encode(&password, true),
                percent_encode(&password, false),
            ] {
                let message = format!("failed at {url} with {form}!");
                let scrubbed = scrub(&message, &secrets);
                assert!(!scrubbed.contains(&password), "{scrubbed}");
                assert!(!scrubbed.contains(&form), "{scrubbed}");
            }
        }
    }

    #[test]
    fn plain_urls_stay_readable() {
        assert_eq!(
            redact_url("postgres://me:s3cret@db:5432/app"),
            "postgres://me:***@db:5432/app"
        );
        assert_eq!(
            redact_url("postgres://me:p@ss@db/app?sslmode=require&password=x"),
            "postgres://me:***@db/app?sslmode=require&password=***"
        );
        assert_eq!(redact_url("postgres://db/app"), "postgres://db/app");
        assert_eq!(redact_url("postgres://me@db/app"), "postgres://me@db/app");
        assert_eq!(redact_url("host=db password=x"), "(not a URL, hidden)");
        assert!(url_secrets("postgres://me@db/app").is_empty());
    }

    #[test]
    fn an_at_sign_after_the_host_hides_more_not_less() {
        let url = "postgres://me:pw@db/app?application_name=a@b";
        let shown = redact_url(url);
        assert!(!shown.contains("pw"), "{shown}");
        let url = "postgres://db/app?password=x@y";
        assert_eq!(redact_url(url), "postgres://db/app?password=***");
    }
}

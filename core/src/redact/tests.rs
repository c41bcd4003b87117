//! Passwords made of every character a URL gives a meaning to (`/ ? # @ : %`) and of
//! non-ASCII ones, written raw or percent-encoded, in the user information or as a
//! parameter: no piece of them shows in a redacted URL, a scrubbed message or a
//! scrubbed error.

use super::percent::{Encode, encode};
use super::{REDACTED, Secrets, redact_url};

/// Words the hostile password is made of, so a test sees any piece of it that shows,
/// not only the whole.
const WORDS: [&str; 8] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
];

/// Every URL-special character between two words, `%` before two hex digits too, and
/// non-ASCII.
const HOSTILE: &str = "alpha/bravo?charlie#delta@echo:foxtrot%golf%41é€hotel";

/// One password per special character, and the hostile one.
fn passwords() -> Vec<&'static str> {
    vec![
        "pass/word",
        "pass?word",
        "pass#word",
        "pass@word",
        "pass:word",
        "pass%word",
        "pass%2Fword",
        "pässwörd€",
        "/?#@:%é",
        HOSTILE,
    ]
}

/// Every spelling of `password` that must never show.
fn spellings(password: &str) -> Vec<String> {
    let mut all = vec![password.to_string()];
    for how in [Encode::AllUpper, Encode::AllLower, Encode::NonAscii] {
        all.push(encode(password, how));
    }
    all.retain(|s| !s.is_empty());
    all
}

/// URLs of several schemes that carry `password`, raw and percent-encoded, as user
/// information or as a parameter, with the server named after it.
fn urls(password: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for written in [password.to_string(), encode(password, Encode::AllUpper)] {
        urls.extend([
            format!("redis://default:{written}@127.0.0.1:6379/0"),
            format!("redis://:{written}@127.0.0.1:6379"),
            format!("rediss://user:{written}@cache.example:6380"),
            format!("postgres://me:{written}@db.example:5432/app?sslmode=disable"),
            format!("postgres://me@db.example/app?password={written}&sslmode=disable"),
            format!("postgres://me@db.example/app?sslpassword={written}"),
            format!("redis+unix:///tmp/redis.sock?pass={written}"),
        ]);
    }
    urls
}

fn assert_hidden(password: &str, shown: &str, what: &str) {
    for spelling in spellings(password) {
        assert!(
            !shown.contains(&spelling),
            "{what}: {spelling:?} shows in {shown:?}"
        );
    }
    if password == HOSTILE {
        for word in WORDS {
            assert!(!shown.contains(word), "{what}: {word:?} shows in {shown:?}");
        }
        for c in ['é', '€'] {
            assert!(!shown.contains(c), "{what}: {c:?} shows in {shown:?}");
        }
    }
}

#[test]
fn a_redacted_url_shows_no_piece_of_a_password() {
    for password in passwords() {
        for url in urls(password) {
            let shown = redact_url(&url);
            assert_hidden(password, &shown, &url);
            assert!(shown.contains(REDACTED), "{url} shown as {shown}");
        }
    }
}

#[test]
fn a_redacted_url_still_says_where_the_server_is() {
    let encoded = encode(HOSTILE, Encode::AllUpper);
    for (url, shown) in [
        (
            format!("redis://default:{encoded}@127.0.0.1:6379/0"),
            "redis://default:***@127.0.0.1:6379/0",
        ),
        (
            format!("redis://:{HOSTILE}@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0",
        ),
        (
            format!("postgres://me:{HOSTILE}@db:5432/app?sslmode=require"),
            "postgres://me:***@db:5432/app?sslmode=require",
        ),
        (
            format!("postgres://me@db/app?sslmode=require&password={HOSTILE}"),
            "postgres://me@db/app?sslmode=require&password=***",
        ),
    ] {
        assert_eq!(redact_url(&url), shown, "{url}");
    }
}

#[test]
fn urls_without_secrets_stay_readable_and_non_urls_stay_hidden() {
    for url in [
        "redis://127.0.0.1:6379/0",
        "postgres://me@db/app?sslmode=require",
        "redis+unix:///tmp/redis.sock?db=2",
    ] {
        assert_eq!(redact_url(url), url);
        assert!(Secrets::from_url(url).is_empty(), "{url}");
    }
    for text in [
        "host=db password=pw",
        "not a url :pw@",
        "bad scheme://u:pw@h",
    ] {
        assert_eq!(redact_url(text), "(not a URL, hidden)");
    }
}

#[test]
fn an_at_sign_after_the_host_hides_more_not_less() {
    let shown = redact_url("postgres://me:pw@db/app?application_name=a@b");
    assert!(!shown.contains("pw"), "{shown}");
    assert_eq!(
        redact_url("postgres://db/app?password=x@y"),
        "postgres://db/app?password=***"
    );
    assert_eq!(
        redact_url("redis+unix:///tmp/s.sock?pass=s3c@r:et"),
        "redis+unix:///tmp/s.sock?pass=***"
    );
}

#[test]
fn every_spelling_is_scrubbed_from_a_message() {
    for password in passwords() {
        for url in urls(password) {
            let secrets = Secrets::from_url(&url);
            for spelling in spellings(password) {
                let message = format!("connecting to {url} failed: {spelling} refused");
                let scrubbed = secrets.scrub(&message);
                assert_hidden(password, &scrubbed, &url);
                assert!(secrets.shown_in(&message), "{url}");
                assert!(!secrets.shown_in(&scrubbed), "{url}: {scrubbed}");
            }
        }
    }
}

#[test]
fn a_known_secret_is_scrubbed_in_every_spelling() {
    for password in passwords() {
        let secrets = Secrets::new().with(password);
        for spelling in spellings(password) {
            let scrubbed = secrets.scrub(&format!("[{spelling}]"));
            assert_eq!(scrubbed, "[***]", "{password}: {spelling}");
        }
    }
}

/// An error that shows its secret only in a cause, only in `Debug`, or not at all.
#[derive(Debug)]
struct Driver {
    message: &'static str,
    detail: String,
    cause: Option<std::io::Error>,
}

impl std::fmt::Display for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message)
    }
}

impl std::error::Error for Driver {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_ref().map(|c| c as _)
    }
}

/// Everything that can be seen of an error: each cause's Display and Debug.
fn everything(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut cause = Some(err);
    while let Some(err) = cause {
        text.push_str(&format!("{err} {err:?} // "));
        cause = err.source();
    }
    text
}

#[test]
fn an_error_showing_a_secret_anywhere_in_its_chain_is_replaced() {
    let url = format!("redis://default:{HOSTILE}@127.0.0.1:6379/0");
    let secrets = Secrets::from_url(&url);
    let leaks = [
        Driver {
            message: "refused",
            detail: String::new(),
            cause: Some(std::io::Error::other(format!("bad password {HOSTILE}"))),
        },
        Driver {
            message: "refused",
            detail: encode(HOSTILE, Encode::AllLower),
            cause: None,
        },
    ];
    for leak in leaks {
        let scrubbed = secrets.scrub_error(leak);
        assert_hidden(HOSTILE, &everything(&*scrubbed), &url);
        assert!(scrubbed.to_string().starts_with("refused"), "{scrubbed}");
    }
    // One that shows nothing is kept as it is, its chain intact.
    let clean = Driver {
        message: "refused",
        detail: "port 6379".to_string(),
        cause: Some(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
    };
    let kept = secrets.scrub_error(clean);
    let driver = kept.downcast_ref::<Driver>();
    assert!(driver.is_some_and(|d| d.detail == "port 6379"), "{kept:?}");
    assert!(std::error::Error::source(&*kept).is_some());
}

#[test]
fn secrets_never_show_in_debug() {
    let secrets = Secrets::from_url(&format!("redis://u:{HOSTILE}@h:1"));
    assert_hidden(HOSTILE, &format!("{secrets:?}"), "Debug");
}

//! Which backend a URL names, and whether this build has it.

use std::fmt;

use optimist_core::Error;
use optimist_core::redact::redact_url;

/// The name `connect`'s own errors carry as their backend.
pub(crate) const CONNECT: &str = "optimist";

/// A backend a URL can name.
///
/// ```
/// use optimist::Backend;
/// assert_eq!(Backend::of_url("rediss://cache:6380?prefix=p")?, Backend::Redis);
/// assert_eq!(Backend::Postgres.feature(), "postgres");
/// assert!(Backend::Memory.compiled_in());
/// # Ok::<(), optimist::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// `memory://`
    Memory,
    /// `sqlite:`
    Sqlite,
    /// `postgres://`, `postgresql://`
    Postgres,
    /// `redis://`, `rediss://`, `redis+unix://`, `redis+cluster://`, `rediss+cluster://`
    Redis,
    /// `dynamodb://`
    DynamoDb,
}

/// The schemes `connect` knows, as its errors list them.
const KNOWN: &str = "memory://, sqlite:, postgres://, postgresql://, redis://, rediss://, redis+unix://, redis+cluster://, rediss+cluster://, dynamodb://";

impl Backend {
    /// Every backend.
    pub const ALL: [Backend; 5] = [
        Backend::Memory,
        Backend::Sqlite,
        Backend::Postgres,
        Backend::Redis,
        Backend::DynamoDb,
    ];

    /// The backend `url`'s scheme names. A text without a scheme or with an unknown one
    /// is `Error::Configuration` listing the known schemes (the URL shown with its
    /// password hidden).
    ///
    /// ```
    /// use optimist::Backend;
    /// assert_eq!(Backend::of_url("sqlite::memory:")?, Backend::Sqlite);
    /// let err = Backend::of_url("mongodb://db/app").unwrap_err();
    /// assert!(err.to_string().contains("unknown scheme `mongodb`"), "{err}");
    /// # Ok::<(), optimist::Error>(())
    /// ```
    pub fn of_url(url: &str) -> Result<Backend, Error> {
        let url = url.trim();
        let scheme = match url.split_once(':') {
            Some((scheme, _)) if is_scheme(scheme) => scheme.to_ascii_lowercase(),
            _ => {
                return Err(Error::configuration(
                    CONNECT,
                    format!(
                        "{} is not a store URL: it starts with a scheme, one of {KNOWN}",
                        shown(url)
                    ),
                ));
            }
        };
        Ok(match scheme.as_str() {
            "memory" => Backend::Memory,
            "sqlite" => Backend::Sqlite,
            "postgres" | "postgresql" => Backend::Postgres,
            "redis" | "rediss" | "redis+unix" | "redis+cluster" | "rediss+cluster" => {
                Backend::Redis
            }
            "dynamodb" => Backend::DynamoDb,
            other => {
                return Err(Error::configuration(
                    CONNECT,
                    format!("unknown scheme `{other}`: optimist connects to {KNOWN}"),
                ));
            }
        })
    }

    /// The cargo feature of `optimist` that compiles the backend in.
    pub fn feature(self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Redis => "redis",
            Backend::DynamoDb => "dynamodb",
        }
    }

    /// Whether this build has the backend.
    pub fn compiled_in(self) -> bool {
        match self {
            Backend::Memory => cfg!(feature = "memory"),
            Backend::Sqlite => cfg!(feature = "sqlite"),
            Backend::Postgres => cfg!(feature = "postgres"),
            Backend::Redis => cfg!(feature = "redis"),
            Backend::DynamoDb => cfg!(feature = "dynamodb"),
        }
    }

    /// The error for a URL of this backend in a build without it: it names the
    /// feature to enable.
    ///
    /// ```
    /// let err = optimist::Backend::DynamoDb.not_compiled_in();
    /// assert!(err.to_string().contains(r#"features = ["dynamodb"]"#), "{err}");
    /// ```
    pub fn not_compiled_in(self) -> Error {
        Error::configuration(
            CONNECT,
            format!(
                "{self} URLs need the `{feature}` feature of optimist, which this build lacks: \
                 optimist = {{ version = \"0.1\", features = [\"{feature}\"] }}",
                feature = self.feature()
            ),
        )
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Memory => "memory",
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
            Backend::Redis => "Redis",
            Backend::DynamoDb => "DynamoDB",
        })
    }
}

fn is_scheme(scheme: &str) -> bool {
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// A URL as an error may show it: redacted, and not at all if it is not `scheme://…`.
pub(crate) fn shown(url: &str) -> String {
    if url.is_empty() {
        "an empty text".to_string()
    } else {
        redact_url(url)
    }
}

#[cfg(test)]
#[allow(clippy::panic)] // tests fail by panicking
mod tests {
    use super::*;

    #[test]
    fn every_scheme_names_its_backend() {
        for (url, backend) in [
            ("memory://", Backend::Memory),
            ("MEMORY://", Backend::Memory),
            ("sqlite::memory:", Backend::Sqlite),
            ("sqlite://a.db?mode=rwc", Backend::Sqlite),
            ("postgres://h/db", Backend::Postgres),
            ("postgresql://h/db", Backend::Postgres),
            ("redis://h?prefix=p", Backend::Redis),
            ("rediss://h?prefix=p", Backend::Redis),
            ("redis+unix:///tmp/r.sock?prefix=p", Backend::Redis),
            ("redis+cluster://h:7000,h:7001?prefix=p", Backend::Redis),
            ("dynamodb://t?region=r", Backend::DynamoDb),
        ] {
            assert_eq!(Backend::of_url(url).ok(), Some(backend), "{url}");
        }
    }

    #[test]
    fn no_scheme_or_an_unknown_one_is_refused_without_the_password() {
        for (url, says) in [
            ("mysql://root:hunter22@db/app", "unknown scheme `mysql`"),
            ("localhost:6379", "unknown scheme `localhost`"),
            ("", "an empty text is not a store URL"),
            ("hunter22", "not a store URL"),
            ("://x", "not a store URL"),
        ] {
            match Backend::of_url(url) {
                Err(Error::Configuration { reason, .. }) => {
                    assert!(reason.contains(says), "{url}: {reason}");
                    assert!(!reason.contains("hunter22"), "{url}: {reason}");
                    assert!(reason.contains("dynamodb://"), "{url}: {reason}");
                }
                other => panic!("{url}: expected a configuration error, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_backend_not_compiled_in_names_its_feature() {
        for backend in Backend::ALL {
            let err = backend.not_compiled_in().to_string();
            let feature = backend.feature();
            assert!(err.contains(&format!("`{feature}` feature")), "{err}");
            assert!(
                err.contains(&format!("features = [\"{feature}\"]")),
                "{err}"
            );
        }
    }
}

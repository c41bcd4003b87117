//! [`Target`]: the store a URL names, from the built-in schemes or the registry.

use std::sync::Arc;

use optimist::redact::redact_url;
use optimist::{StoreConfig, VersionedStore};

use crate::exit::Failure;
use crate::registry::{MakeStore, Registry};

/// The store a command works on.
#[derive(Clone)]
pub(crate) enum Target {
    /// A built-in backend's settings.
    Config(Box<StoreConfig>),
    /// A scheme of the registry: each call of `make` is a fresh store.
    Custom {
        /// The scheme, as shown.
        scheme: String,
        /// The maker.
        make: MakeStore,
    },
}

impl Target {
    /// Reads `url`: a registered scheme first, then the built-in ones. Bad input is
    /// [`Failure::bad_input`], naming the problem and never a password.
    pub(crate) fn parse(url: &str, registry: &Registry) -> Result<Self, Failure> {
        if let Some((scheme, make)) = registry.maker(url) {
            return Ok(Target::Custom { scheme, make });
        }
        StoreConfig::from_url(url)
            .map(|config| Target::Config(Box::new(config)))
            .map_err(|err| Failure::setup(&err))
    }

    /// What the store is, as reports show it: its backend and, for a built-in
    /// backend, its settings without a password.
    pub(crate) fn shown(&self) -> String {
        match self {
            Target::Config(config) => describe(config),
            Target::Custom { scheme, .. } => format!("{scheme}:// (registered scheme)"),
        }
    }

    /// The store the URL names, as it is (no fresh table or prefix).
    pub(crate) async fn connect(&self) -> Result<Arc<dyn VersionedStore>, optimist::Error> {
        match self {
            Target::Config(config) => config.connect().await,
            Target::Custom { make, .. } => make().await,
        }
    }
}

/// A built-in store's settings in one line, no password.
fn describe(config: &StoreConfig) -> String {
    match config {
        StoreConfig::Memory(_) => "memory".to_string(),
        StoreConfig::Sqlite(sqlite) => match &sqlite.path {
            Some(path) => format!("SQLite file {}", path.display()),
            None => "SQLite in memory".to_string(),
        },
        StoreConfig::Postgres(pg) => format!("PostgreSQL at {}", redact_url(&pg.url)),
        StoreConfig::Redis(redis) => format!("Redis at {}", redact_url(&redis.url)),
        StoreConfig::DynamoDb(dynamo) => format!(
            "DynamoDB{}{}",
            dynamo
                .endpoint
                .as_deref()
                .map(|e| format!(" at {}", redact_url(e)))
                .unwrap_or_default(),
            dynamo
                .region
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ),
        _ => format!("{} store", config.backend()),
    }
}

//! [`MemoryConfig`]: an in-memory store's settings as data, from a `memory://` URL or
//! from a service's own config file.

use optimist_core::url_options::read_options;
use optimist_core::{Capabilities, Error, Result};
use serde::Deserialize;

use crate::MemoryStore;

const BACKEND: &str = "memory";

/// The settings of a [`MemoryStore`]: read from a URL with
/// [`from_url`](Self::from_url) (`memory://`, `memory://?tombstones=true`) or
/// deserialized from a service's config file (unknown fields are refused, naming them).
///
/// ```
/// use optimist_core::VersionedStore;
/// use optimist_memory::MemoryConfig;
///
/// let config = MemoryConfig::from_url("memory://?tombstones=true")?;
/// assert!(config.tombstones);
/// assert!(config.build().capabilities().tombstones);
///
/// let from_json: MemoryConfig = serde_json::from_str(r#"{"tombstones": false}"#).unwrap();
/// assert_eq!(from_json, MemoryConfig::default());
/// assert!(MemoryConfig::from_url("memory://?tombstone=true").is_err());
/// # Ok::<(), optimist_core::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {
    /// Tombstone mode (contract R15): a delete leaves a tombstone that keeps the
    /// version counting. Off by default.
    #[serde(default)]
    pub tombstones: bool,
}

impl MemoryConfig {
    /// Reads `memory://` (or `memory:`) and its options: `tombstones=true|false`. Any
    /// other scheme, a host or path, or another option is `Error::Configuration`,
    /// naming it.
    ///
    /// ```
    /// use optimist_memory::MemoryConfig;
    /// assert_eq!(MemoryConfig::from_url("memory://")?, MemoryConfig::default());
    /// let err = MemoryConfig::from_url("memory://?size=3").unwrap_err();
    /// assert!(err.to_string().contains("unknown field `size`"), "{err}");
    /// # Ok::<(), optimist_core::Error>(())
    /// ```
    pub fn from_url(url: &str) -> Result<Self> {
        let refuse = |reason: String| Error::configuration(BACKEND, reason);
        let rest = url
            .strip_prefix("memory://")
            .or_else(|| url.strip_prefix("memory:"))
            .ok_or_else(|| refuse("a memory store's URL starts with memory://".to_string()))?;
        let (place, query) = rest.split_once('?').unwrap_or((rest, ""));
        if !place.is_empty() {
            return Err(refuse(format!(
                "a memory store has no host or path (found {place:?}): write memory:// and options after ?"
            )));
        }
        let pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        read_options(&pairs, "").map_err(|why| refuse(format!("invalid option in the URL: {why}")))
    }

    /// A new, empty store with these settings.
    ///
    /// ```
    /// let store = optimist_memory::MemoryConfig::default().build();
    /// assert!(store.is_empty());
    /// ```
    pub fn build(&self) -> MemoryStore {
        MemoryStore::with_capabilities(Capabilities::new().with_tombstones(self.tombstones))
    }
}

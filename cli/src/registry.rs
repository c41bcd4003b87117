//! [`Registry`]: URL schemes the tool does not know, each with a maker of fresh stores.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use optimist::VersionedStore;

/// The future a registered maker returns.
pub(crate) type MakeFuture =
    Pin<Box<dyn Future<Output = Result<Arc<dyn VersionedStore>, optimist::Error>> + Send>>;

/// A registered maker of stores.
pub(crate) type MakeStore = Arc<dyn Fn() -> MakeFuture + Send + Sync>;

/// Extra URL schemes for [`run`](crate::run): a store the binary cannot build itself
/// (a backend under development, a deliberately broken store in a test). Each call of
/// a scheme's maker must make a fresh, isolated store: `check` makes one per case.
///
/// ```
/// let registry = optimist_cli::Registry::new()
///     .with_scheme("scratch", || async { Ok(optimist::memory::MemoryStore::new()) });
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    schemes: Vec<(String, MakeStore)>,
}

impl Registry {
    /// Only the built-in schemes.
    pub fn new() -> Self {
        Self::default()
    }

    /// URLs of `scheme` (`scheme://…`, or `scheme:`; what follows is not read) make
    /// their stores with `make`. A registered scheme wins over a built-in one.
    pub fn with_scheme<F, Fut, S>(mut self, scheme: &str, make: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, optimist::Error>> + Send + 'static,
        S: VersionedStore + 'static,
    {
        let make: MakeStore = Arc::new(move || {
            let made = make();
            Box::pin(async move {
                let store: Arc<dyn VersionedStore> = Arc::new(made.await?);
                Ok(store)
            })
        });
        self.schemes.push((scheme.to_ascii_lowercase(), make));
        self
    }

    /// The maker registered for `url`'s scheme, if one is.
    pub(crate) fn maker(&self, url: &str) -> Option<(String, MakeStore)> {
        let scheme = url.split_once(':')?.0.to_ascii_lowercase();
        self.schemes
            .iter()
            .find(|(name, _)| *name == scheme)
            .map(|(name, make)| (name.clone(), Arc::clone(make)))
    }
}

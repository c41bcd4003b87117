//! optimist's side of a pair: any [`VersionedStore`].

use async_trait::async_trait;
use optimist_core::{Key, Value, Version, VersionedStore};

use crate::{Subject, item_name};

/// A store measured through optimist's API, writing `value()` on each update.
pub struct Optimist<S> {
    store: S,
    value: fn() -> Value,
}

impl<S> Optimist<S> {
    /// `store`, whose updates write what `value` builds (one fresh value per call, as
    /// the raw side encodes one per call).
    pub fn new(store: S, value: fn() -> Value) -> Self {
        Self { store, value }
    }
}

#[async_trait]
impl<S: VersionedStore> Subject for Optimist<S> {
    async fn get(&self, n: u64) -> bool {
        matches!(self.store.get(&Key::new(item_name(n))).await, Ok(Some(_)))
    }

    async fn update(&self, n: u64, expected: u64) -> Result<u64, u64> {
        let key = Key::new(item_name(n));
        match self
            .store
            .update(&key, Version::new(expected), (self.value)())
            .await
        {
            Ok(version) => Ok(version.get()),
            Err(err) => Err(err
                .conflict_ref()
                .and_then(|conflict| conflict.current())
                .map_or(0, |current| current.version.get())),
        }
    }

    async fn fill(&self, from: u64, to: u64) {
        for n in from..to {
            let _ = self
                .store
                .put(&Key::new(item_name(n)), (self.value)())
                .await;
        }
    }
}

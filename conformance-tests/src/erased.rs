//! The one store type the cases are compiled for. Every factory's stores are erased
//! into a [`DynStore`] before a case runs, so the ~100 generic cases are instantiated
//! once, here, in this crate, and not once per store type in every test binary that
//! runs the suite (each such instantiation cost a backend's test binary seconds of
//! build). A call through the erased store costs one indirection more: fine for tests.

use std::any::Any;
use std::ops::Deref;
use std::sync::Arc;

use optimist_core::VersionedStore;

use crate::{MakeFuture, Reopener, StoreFactory, Unavailable};

/// A store of any type that can be handed back as the type its factory made: the
/// durability case gives its store back to the factory's [`Reopener`], which takes
/// the concrete type.
pub(crate) trait AnyStore: VersionedStore + Any {
    /// The same store, seen as [`Any`] to get its type back.
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<S: VersionedStore + 'static> AnyStore for S {
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

/// The store every case runs on: a factory's store behind a trait object. It is a
/// [`VersionedStore`] (`optimist_core` forwards every method through `Arc`), so the
/// cases see exactly the calls and answers of the store inside.
pub(crate) type DynStore = Arc<dyn AnyStore>;

/// Every factory, as the suite runs it: its stores erased into [`DynStore`]s.
pub(crate) type DynFactory<'f> = dyn StoreFactory<Store = DynStore> + 'f;

/// `store` as a [`DynStore`].
pub(crate) fn erase<S: VersionedStore + 'static>(store: S) -> DynStore {
    Arc::new(store)
}

/// A case's argument from a store of another type: what [`crate::cases::all`] hands
/// to the erased case it runs.
pub(crate) fn erase_shared<S: VersionedStore + 'static>(store: Arc<S>) -> Arc<DynStore> {
    Arc::new(store)
}

/// The store inside `store`, of the type its factory made, for that factory's
/// [`Reopener`]. Fails only on a bug of the suite: a store of another type, or one
/// still shared (the reopen must drop the only handle).
fn unerase<S: Send + Sync + 'static>(store: DynStore) -> Result<S, Unavailable> {
    let suite_bug = |why: &str| {
        Unavailable::new(
            "the conformance suite",
            format!("{why} (a bug of the suite, not of the store)"),
        )
    };
    let typed = store
        .into_any()
        .downcast::<S>()
        .map_err(|_| suite_bug("the store to reopen is not of its factory's type"))?;
    Arc::try_unwrap(typed)
        .map_err(|_| suite_bug("the store to reopen is still shared and cannot be dropped"))
}

/// The factory behind `P` (a reference or a box), making [`DynStore`]s. Its
/// description, load, ignored cases and reopen are the factory's own.
pub(crate) struct Erased<P>(pub(crate) P);

impl<P> StoreFactory for Erased<P>
where
    P: Deref + Send + Sync,
    P::Target: StoreFactory,
{
    type Store = DynStore;

    fn describe(&self) -> String {
        self.0.describe()
    }

    fn make(&self) -> MakeFuture<'_, DynStore> {
        let made = self.0.make();
        Box::pin(async move { made.await.map(erase) })
    }

    fn load_percent(&self) -> u32 {
        self.0.load_percent()
    }

    fn ignored_cases(&self) -> &[(String, String)] {
        self.0.ignored_cases()
    }

    fn reopener(&self) -> Result<Reopener<DynStore>, String> {
        let typed = self.0.reopener()?;
        let what = typed.what().to_string();
        Ok(Reopener::new(what, move |store: DynStore| {
            let typed = typed.clone();
            async move { typed.reopen(unerase(store)?).await.map(erase) }
        }))
    }
}

#[cfg(test)]
#[allow(clippy::panic)] // tests fail by panicking
mod tests {
    use optimist_core::{Key, VersionedStore};
    use optimist_memory::MemoryStore;
    use serde_json::json;

    use super::*;
    use crate::factory_fn;

    #[tokio::test]
    async fn the_reopen_gets_the_store_of_its_factory_type_back() {
        let factory = factory_fn("memory", || async {
            Ok::<_, Unavailable>(MemoryStore::new())
        })
        .with_reopen("a clone of the same map", |store: MemoryStore| async move {
            Ok(store.clone())
        });
        let erased = Erased(&factory);
        assert_eq!(erased.describe(), "memory");
        let store = match erased.make().await {
            Ok(store) => store,
            Err(why) => panic!("{why}"),
        };
        let key = Key::new("k");
        assert!(store.insert(&key, json!(1)).await.is_ok());
        let reopener = match erased.reopener() {
            Ok(reopener) => reopener,
            Err(why) => panic!("{why}"),
        };
        assert_eq!(reopener.what(), "a clone of the same map");
        let store = match reopener.reopen(store).await {
            Ok(store) => store,
            Err(why) => panic!("{why}"),
        };
        let item = store.get(&key).await.ok().flatten();
        assert_eq!(item.map(|item| item.value), Some(json!(1)));
    }

    #[tokio::test]
    async fn a_store_still_shared_is_not_reopened() {
        let factory = factory_fn("memory", || async {
            Ok::<_, Unavailable>(MemoryStore::new())
        })
        .with_reopen(
            "a clone",
            |store: MemoryStore| async move { Ok(store.clone()) },
        );
        let erased = Erased(&factory);
        let Ok(store) = erased.make().await else {
            panic!("a memory store is always made");
        };
        let Ok(reopener) = erased.reopener() else {
            panic!("the factory has a reopen");
        };
        let held = Arc::clone(&store);
        match reopener.reopen(store).await {
            Err(why) => assert!(why.reason.contains("still shared"), "{why}"),
            Ok(_) => panic!("a store shared elsewhere must not be reopened"),
        }
        drop(held);
    }

    #[test]
    fn a_factory_without_reopen_keeps_its_reason() {
        let factory = factory_fn("memory", || async {
            Ok::<_, Unavailable>(MemoryStore::new())
        })
        .without_reopen("nothing survives");
        assert_eq!(
            Erased(&factory).reopener().err().as_deref(),
            Some("nothing survives")
        );
    }
}

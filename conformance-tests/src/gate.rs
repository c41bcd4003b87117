//! Whether a case runs, from the one place each reason is declared: the store's
//! capabilities (a missing [`Feature`]), the factory's own ignore list
//! ([`StoreFactory::ignored_cases`]), and whether the server can be reached at all.

use optimist_core::Capabilities;

use crate::{Feature, StoreFactory, Unavailable, env};

/// Why a case does not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Hold {
    /// The store's capabilities lack a feature the case needs: shown as ignored, with
    /// the reason.
    Unsupported(String),
    /// Shown as ignored, with the reason.
    Ignore(String),
    /// Shown as failed, with the message.
    Fail(String),
}

/// An unreachable server: ignored with the server and the reason, or failed when `CI`
/// or `OPTIMIST_REQUIRE_ALL` is set.
pub(crate) fn unavailable(why: &Unavailable) -> Hold {
    if env::require_all() {
        Hold::Fail(format!(
            "{why} (CI or OPTIMIST_REQUIRE_ALL is set, so this fails)"
        ))
    } else {
        Hold::Ignore(format!("skipped, server unavailable: {why}"))
    }
}

/// The reason `factory` ignores the case `name`, if it does.
pub(crate) fn ignored_by<'f, F: StoreFactory + ?Sized>(
    factory: &'f F,
    name: &str,
) -> Option<&'f str> {
    factory
        .ignored_cases()
        .iter()
        .find(|(case, _)| case == name)
        .map(|(_, why)| why.as_str())
}

/// Why the case `name`, needing `features`, does not run on stores from `factory`
/// whose capabilities are `caps`; `None` when it runs. `run_ignored` is set when the
/// caller asked for the factory's ignored cases too (`--ignored`, `--include-ignored`).
pub(crate) fn hold<F: StoreFactory + ?Sized>(
    name: &str,
    features: &[Feature],
    factory: &F,
    caps: &Result<Capabilities, Unavailable>,
    run_ignored: bool,
) -> Option<Hold> {
    let caps = match caps {
        Ok(caps) => caps,
        Err(why) => return Some(unavailable(why)),
    };
    // What the store cannot do wins over the factory's reason: it is never run.
    if let Some(why) = features
        .iter()
        .find_map(|feature| feature.missing_from(caps))
    {
        return Some(Hold::Unsupported(why));
    }
    if features.contains(&Feature::Reopen) {
        if let Err(why) = factory.reopener() {
            return Some(Hold::Unsupported(format!("needs reopen: {why}")));
        }
    }
    match ignored_by(factory, name) {
        Some(why) if !run_ignored => Some(Hold::Ignore(why.to_string())),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::panic)] // tests fail by panicking
mod tests {
    use super::*;
    use crate::factory_fn;
    use optimist_core::KeyShape;

    fn factory() -> impl StoreFactory {
        factory_fn("memory", || async {
            Ok::<_, Unavailable>(optimist_memory::MemoryStore::new())
        })
        .ignore("slow_case", "too slow here")
    }

    #[test]
    fn a_missing_feature_holds_the_case_with_the_reason() {
        let caps = Ok(Capabilities::new().with_key_shape(KeyShape::PartitionOnly));
        let held = hold(
            "c",
            &[Feature::Core, Feature::SortKeys],
            &factory(),
            &caps,
            false,
        );
        assert_eq!(
            held,
            Some(Hold::Unsupported(
                "needs sort_keys: the store's capabilities have key_shape = PartitionOnly".into()
            ))
        );
        assert_eq!(hold("c", &[Feature::Core], &factory(), &caps, false), None);
    }

    #[test]
    fn the_factory_ignore_list_holds_unless_ignored_cases_are_asked_for() {
        let caps = Ok(Capabilities::new());
        assert_eq!(
            hold("slow_case", &[Feature::Core], &factory(), &caps, false),
            Some(Hold::Ignore("too slow here".into()))
        );
        assert_eq!(
            hold("slow_case", &[Feature::Core], &factory(), &caps, true),
            None
        );
        // Asking for ignored cases never runs a case the capabilities rule out.
        let caps = Ok(Capabilities::new().with_transactions(false));
        assert!(matches!(
            hold(
                "slow_case",
                &[Feature::Transactions],
                &factory(),
                &caps,
                true
            ),
            Some(Hold::Unsupported(_))
        ));
    }

    #[test]
    fn a_factory_without_reopen_holds_the_durability_case_with_its_reason() {
        let caps = Ok(Capabilities::new());
        let features = [Feature::Core, Feature::Reopen];
        assert_eq!(
            hold("c", &features, &factory(), &caps, true),
            Some(Hold::Unsupported(format!(
                "needs reopen: {}",
                crate::factory::NO_REOPEN
            )))
        );
        let memory = factory_fn("memory", || async {
            Ok::<_, Unavailable>(optimist_memory::MemoryStore::new())
        });
        assert_eq!(
            hold(
                "c",
                &features,
                &memory.without_reopen("nothing survives"),
                &caps,
                false
            ),
            Some(Hold::Unsupported("needs reopen: nothing survives".into()))
        );
        let reopens = factory_fn("memory", || async {
            Ok::<_, Unavailable>(optimist_memory::MemoryStore::new())
        })
        .with_reopen(
            "a clone",
            |store: optimist_memory::MemoryStore| async move { Ok(store.clone()) },
        );
        assert_eq!(hold("c", &features, &reopens, &caps, false), None);
    }

    #[test]
    fn an_unreachable_server_is_ignored_or_failed_with_its_name() {
        let caps = Err(Unavailable::new("MyServer at 127.0.0.1:1", "refused"));
        match hold("c", &[Feature::Core], &factory(), &caps, false) {
            Some(Hold::Ignore(why) | Hold::Fail(why)) => {
                assert!(why.contains("MyServer at 127.0.0.1:1: refused"), "{why}");
            }
            other => panic!("an unreachable server must hold the case, got {other:?}"),
        }
    }
}

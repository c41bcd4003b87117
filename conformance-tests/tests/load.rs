//! A factory's load percent scales the defaults of the load knobs inside its cases.

use optimist_conformance::{Feature, RunOptions, Unavailable, env, factory_fn, run_case_with};

#[test]
fn a_factory_load_percent_scales_the_default_knobs() {
    let unset = |name: &str| std::env::var(name).is_err();
    let factory = factory_fn("memory at a tenth of the load", || async {
        Ok::<_, Unavailable>(optimist_memory::MemoryStore::new())
    })
    .with_load_percent(10);
    let checks = (
        unset("OPTIMIST_HISTORIES"),
        unset("OPTIMIST_PROPTEST_CASES"),
        unset("OPTIMIST_RACE_INCREMENTS"),
    );
    run_case_with(
        "load",
        Feature::Core,
        &factory,
        &RunOptions::default(),
        move |_store| async move {
            if checks.0 {
                assert_eq!(env::histories(), 10);
            }
            if checks.1 {
                assert_eq!(env::proptest_cases(), 6);
            }
            if checks.2 {
                assert_eq!(env::race_increments(), 2);
            }
        },
    );
    // Outside a case, the defaults are unscaled.
    if checks.0 {
        assert_eq!(env::histories(), 100);
    }
}

//! How the property cases configure proptest: case counts from the environment, and
//! regression files in the crate that runs the suite.

use proptest::test_runner::{Config, FailurePersistence, FileFailurePersistence};

use crate::env;
use crate::runner::CaseContext;

/// The proptest configuration of a property case running in `context`.
pub(crate) fn config(context: &CaseContext) -> Config {
    Config {
        cases: crate::runner::within(context, env::proptest_cases),
        max_shrink_iters: env::proptest_shrink_iters(),
        failure_persistence: persistence(context),
        ..Config::default()
    }
}

fn persistence(context: &CaseContext) -> Option<Box<dyn FailurePersistence>> {
    let dir = context.regressions.as_ref()?;
    let file = dir.join(format!("{}.txt", context.name));
    // proptest wants a 'static path; one small string per property case run.
    let file: &'static str = Box::leak(file.to_string_lossy().into_owned().into_boxed_str());
    Some(Box::new(FileFailurePersistence::Direct(file)))
}

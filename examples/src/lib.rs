//! optimist-examples: work in progress.

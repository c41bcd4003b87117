//! optimist-sqlite: work in progress.

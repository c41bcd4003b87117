//! optimist-postgres: work in progress.

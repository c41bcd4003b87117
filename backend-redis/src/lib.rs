//! optimist-redis: work in progress.

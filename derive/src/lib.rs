//! optimist-derive: work in progress.

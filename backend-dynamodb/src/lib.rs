//! optimist-dynamodb: work in progress.

//! The exit codes of the `optimist` command.

/// Success: the command did what it was asked; `check` found no failing case.
pub const OK: u8 = 0;
/// A failure: a `check` case failed, a `bench` run had errors or inconsistent counts,
/// an operation failed on the server (or its outcome is unknown).
pub const FAILED: u8 = 1;
/// Bad input, nothing done: a malformed URL, an unknown scheme or option, a backend not
/// compiled in, a missing table or prefix, a server that cannot be reached, a value
/// that is not JSON, a usage error.
pub const BAD_INPUT: u8 = 2;
/// A conditional write was refused: the current item is printed on stdout.
pub const CONFLICT: u8 = 3;
/// `get`: the key holds no item.
pub const NOT_FOUND: u8 = 4;

/// A command's failure: its exit code and the one line printed for it.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    /// Bad input ([`BAD_INPUT`]).
    pub(crate) fn bad_input(message: impl Into<String>) -> Self {
        Self {
            code: BAD_INPUT,
            message: message.into(),
        }
    }

    /// Any other failure ([`FAILED`]).
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self {
            code: FAILED,
            message: message.into(),
        }
    }

    /// A store that cannot be set up: bad settings, or a server out of reach. Both are
    /// [`BAD_INPUT`]: nothing was done.
    pub(crate) fn setup(err: &optimist::Error) -> Self {
        Self::bad_input(one_line(err))
    }
}

/// An error and its causes on one line, `error: cause: cause`.
pub(crate) fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(err) = cause {
        let shown = err.to_string();
        if !text.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        cause = err.source();
    }
    text.replace('\n', " ")
}

//! The `optimist` command: everything is in the library (`optimist_cli::run`), so tests
//! can run it with stores of their own.

use std::process::ExitCode;

fn main() -> ExitCode {
    optimist_cli::init_tracing();
    let code = optimist_cli::run(
        std::env::args_os(),
        &optimist_cli::Registry::new(),
        &mut optimist_cli::Io::std(),
    );
    ExitCode::from(code)
}

//! [`Io`]: the standard streams a run reads and writes, real or captured.

use std::io::{Read, Write};

/// The standard streams of one [`run`](crate::run): the process's own, or captured
/// in memory for tests.
pub struct Io {
    stdin: Box<dyn Read>,
    stdout: Box<dyn Write>,
    stderr: Box<dyn Write>,
    captured: Option<(SharedBuffer, SharedBuffer)>,
    /// Whether progress bars may be drawn (stderr is the process's own).
    pub(crate) progress: bool,
}

impl Io {
    /// The process's standard streams; progress bars are drawn when stderr is a
    /// terminal.
    pub fn std() -> Self {
        Self {
            stdin: Box::new(std::io::stdin()),
            stdout: Box::new(std::io::stdout()),
            stderr: Box::new(std::io::stderr()),
            captured: None,
            progress: true,
        }
    }

    /// Streams in memory: `stdin` is read as standard input; what is written is kept
    /// for [`stdout_text`](Self::stdout_text) and [`stderr_text`](Self::stderr_text).
    ///
    /// ```
    /// let io = optimist_cli::Io::captured("{}");
    /// assert_eq!(io.stdout_text(), "");
    /// ```
    pub fn captured(stdin: &str) -> Self {
        let out = SharedBuffer::default();
        let err = SharedBuffer::default();
        Self {
            stdin: Box::new(std::io::Cursor::new(stdin.as_bytes().to_vec())),
            stdout: Box::new(out.clone()),
            stderr: Box::new(err.clone()),
            captured: Some((out, err)),
            progress: false,
        }
    }

    /// What was written to stdout, for captured streams (empty otherwise).
    pub fn stdout_text(&self) -> String {
        self.captured
            .as_ref()
            .map(|(out, _)| out.text())
            .unwrap_or_default()
    }

    /// What was written to stderr, for captured streams (empty otherwise).
    pub fn stderr_text(&self) -> String {
        self.captured
            .as_ref()
            .map(|(_, err)| err.text())
            .unwrap_or_default()
    }

    /// Writes to stdout; a closed pipe is not an error worth more than silence.
    pub(crate) fn out(&mut self, text: &str) {
        let _ = self.stdout.write_all(text.as_bytes());
        let _ = self.stdout.flush();
    }

    /// Writes to stderr.
    pub(crate) fn err(&mut self, text: &str) {
        let _ = self.stderr.write_all(text.as_bytes());
        let _ = self.stderr.flush();
    }

    /// All of standard input.
    pub(crate) fn read_stdin(&mut self) -> std::io::Result<String> {
        let mut text = String::new();
        self.stdin.read_to_string(&mut text)?;
        Ok(text)
    }
}

/// A buffer both the writer and the test hold.
#[derive(Clone, Default)]
struct SharedBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedBuffer {
    fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut bytes) => {
                bytes.extend_from_slice(buf);
                Ok(buf.len())
            }
            Err(_) => Err(std::io::Error::other("the capture buffer is poisoned")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

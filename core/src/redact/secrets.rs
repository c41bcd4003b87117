//! [`Secrets`]: every spelling of the secrets a store was given, to be cut out of any
//! text before it is shown.

use std::fmt;

use super::REDACTED;
use super::percent::{self, Encode};
use crate::BoxError;

/// A piece of a raw password shorter than this is not scrubbed on its own: it would
/// cut ordinary words out of messages. (Whole secrets are scrubbed whatever their
/// length.)
const MIN_PIECE_BYTES: usize = 4;

/// The secrets of one connection (a URL's password, a token), in every spelling a
/// driver or a URL parser may print: as written, percent-decoded, percent-encoded
/// (upper- and lower-case hex, or only non-ASCII bytes), and, for a password written
/// raw in a URL, the pieces a parser cuts it into at `/ ? # @ : &`.
///
/// Its `Debug` output shows how many spellings it holds, never one of them.
///
/// ```
/// use optimist_core::redact::Secrets;
///
/// let secrets = Secrets::from_url("redis://app:p%2Fw%C3%A9@db:6379/0");
/// assert_eq!(secrets.scrub("auth failed for p/wé"), "auth failed for ***");
/// assert_eq!(secrets.scrub("sent p%2fw%c3%a9"), "sent ***");
/// assert!(!format!("{secrets:?}").contains("p/w"));
/// ```
#[derive(Clone, Default)]
pub struct Secrets {
    /// Longest first, so a shorter spelling never leaves part of a longer one behind.
    spellings: Vec<String>,
}

impl Secrets {
    /// No secrets yet; add them with [`with`](Self::with).
    ///
    /// ```
    /// let secrets = optimist_core::redact::Secrets::new().with("hunter2");
    /// assert_eq!(secrets.scrub("bad password hunter2"), "bad password ***");
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Every secret `url` may hold: the password of its user information, however a
    /// raw `/ ? # @ :` in it makes the URL read, and the values of query parameters
    /// that name a secret (`password`, `pass`, `token`, ...). A text that is not a URL
    /// gives none; add what you know with [`with`](Self::with).
    ///
    /// ```
    /// use optimist_core::redact::Secrets;
    /// let secrets = Secrets::from_url("postgres://me:a/b?c#d@db/app?sslpassword=x%26y");
    /// assert_eq!(secrets.scrub("a/b?c#d and x&y"), "*** and ***");
    /// ```
    pub fn from_url(url: &str) -> Self {
        let mut secrets = Self::new();
        for written in super::url::written_secrets(url) {
            secrets = secrets.with(written);
            for piece in written.split(['/', '?', '#', '@', ':', '&']) {
                if piece.len() >= MIN_PIECE_BYTES && piece != written {
                    secrets = secrets.with(piece);
                }
            }
        }
        secrets
    }

    /// This secret too, in every spelling: as given, percent-decoded (also with `+`
    /// as a space, as query strings spell it), and percent-encoded.
    ///
    /// ```
    /// let secrets = optimist_core::redact::Secrets::new().with("50%off é");
    /// assert_eq!(secrets.scrub("[50%25off%20%C3%A9]"), "[***]");
    /// ```
    pub fn with(mut self, secret: &str) -> Self {
        let decoded = percent::decode(secret);
        let form_decoded = percent::decode(&secret.replace('+', " "));
        let mut spellings = vec![secret.to_string()];
        for base in [secret, decoded.as_str()] {
            for how in [Encode::AllUpper, Encode::AllLower, Encode::NonAscii] {
                spellings.push(percent::encode(base, how));
            }
        }
        spellings.extend([decoded, form_decoded]);
        for spelling in spellings {
            if !spelling.is_empty() && !self.spellings.contains(&spelling) {
                self.spellings.push(spelling);
            }
        }
        self.spellings
            .sort_by_key(|spelling| std::cmp::Reverse(spelling.len()));
        self
    }

    /// Whether there is no secret to scrub.
    ///
    /// ```
    /// use optimist_core::redact::Secrets;
    /// assert!(Secrets::from_url("redis://127.0.0.1:6379").is_empty());
    /// assert!(!Secrets::from_url("redis://:pw@127.0.0.1:6379").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.spellings.is_empty()
    }

    /// Whether `text` shows any spelling of a secret.
    ///
    /// ```
    /// let secrets = optimist_core::redact::Secrets::new().with("hunter2");
    /// assert!(secrets.shown_in("pw hunter2"));
    /// assert!(!secrets.shown_in("pw ***"));
    /// ```
    pub fn shown_in(&self, text: &str) -> bool {
        self.spellings
            .iter()
            .any(|spelling| text.contains(spelling.as_str()))
    }

    /// `text` with every spelling of every secret replaced by `***`.
    ///
    /// ```
    /// let secrets = optimist_core::redact::Secrets::new().with("a@b");
    /// assert_eq!(secrets.scrub("a@b, a%40b"), "***, ***");
    /// ```
    pub fn scrub(&self, text: &str) -> String {
        self.spellings
            .iter()
            .fold(text.to_string(), |text, spelling| {
                text.replace(spelling.as_str(), REDACTED)
            })
    }

    /// An error and its causes as one line (`error: cause: cause`), scrubbed: for a
    /// message that has to quote a driver's error, such as a configuration error's
    /// reason.
    ///
    /// ```
    /// let secrets = optimist_core::redact::Secrets::new().with("hunter2");
    /// let err = std::io::Error::other("password hunter2 refused");
    /// assert_eq!(secrets.scrub_chain(&err), "password *** refused");
    /// ```
    pub fn scrub_chain(&self, err: &(dyn std::error::Error + 'static)) -> String {
        let mut text = err.to_string();
        let mut cause = err.source();
        while let Some(err) = cause {
            text.push_str(": ");
            text.push_str(&err.to_string());
            cause = err.source();
        }
        self.scrub(&text)
    }

    /// `err` itself, when neither it nor any of its causes shows a secret in its
    /// `Display` or `Debug` output, so callers can still downcast it and walk its
    /// sources; otherwise an error whose message is its chain, scrubbed
    /// ([`scrub_chain`](Self::scrub_chain)), and which has no source.
    ///
    /// ```
    /// use optimist_core::redact::Secrets;
    /// let secrets = Secrets::new().with("hunter2");
    ///
    /// let clean = secrets.scrub_error(std::io::Error::other("refused"));
    /// assert!(clean.downcast_ref::<std::io::Error>().is_some());
    ///
    /// let leaky = secrets.scrub_error(std::io::Error::other("bad hunter2"));
    /// assert_eq!(leaky.to_string(), "bad ***");
    /// assert!(!format!("{leaky:?}").contains("hunter2"));
    /// ```
    pub fn scrub_error(&self, err: impl Into<BoxError>) -> BoxError {
        let err = err.into();
        if self.is_empty() || !self.shows_in_chain(&*err) {
            return err;
        }
        Box::new(Scrubbed(self.scrub_chain(&*err)))
    }

    fn shows_in_chain(&self, err: &(dyn std::error::Error + 'static)) -> bool {
        let mut cause = Some(err);
        while let Some(err) = cause {
            if self.shown_in(&err.to_string()) || self.shown_in(&format!("{err:?}")) {
                return true;
            }
            cause = err.source();
        }
        false
    }
}

// Hand-written: the spellings are the secrets.
impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("spellings", &self.spellings.len())
            .finish()
    }
}

/// An error whose text showed a secret: its chain as one scrubbed line.
#[derive(Debug)]
struct Scrubbed(String);

impl fmt::Display for Scrubbed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Scrubbed {}

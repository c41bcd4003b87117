//! Keeping secrets out of everything a store shows: connection URLs as they may be
//! printed ([`redact_url`]), and every spelling of a password cut out of a driver's
//! messages ([`Secrets`]). Every backend uses these, so a password is hidden the same
//! way everywhere: in `Debug` output, error messages, and errors' source chains.
//!
//! Passwords may hold any character. A raw `/`, `?`, `#`, `@` or `:` makes a URL
//! ambiguous, and `%` or non-ASCII characters give it several spellings; nothing here
//! trusts a single parse, and hiding too much beats leaking.
//!
//! ```
//! use optimist_core::redact::{Secrets, redact_url};
//!
//! let url = "redis://app:s3/cr?t#@db.internal:6379/0";
//! assert_eq!(redact_url(url), "redis://app:***@db.internal:6379/0");
//! let secrets = Secrets::from_url(url);
//! assert_eq!(secrets.scrub("WRONGPASS for s3/cr?t#"), "WRONGPASS for ***");
//! ```

mod percent;
mod secrets;
mod url;

#[cfg(test)]
mod tests;

pub use secrets::Secrets;

/// What a hidden secret is replaced by.
pub const REDACTED: &str = "***";

/// A connection URL as it may be shown: the password replaced by `***`, the value of
/// every query parameter that names a secret (`password`, `pass`, `sslpassword`,
/// `token`, ...) and whatever follows it replaced too, and the fragment dropped. A
/// text that is not `scheme://…` is not shown at all.
///
/// Everything between `://` and the **last** `@` is the user information, even where
/// an unencoded `/`, `?` or `#` in a password would make a URL parser end the
/// authority earlier; all of it after its first `:` is the password. An `@` later in
/// the URL (in a parameter) only hides more of it, never less. The user name stays:
/// it tells which account failed.
///
/// ```
/// use optimist_core::redact::redact_url;
///
/// assert_eq!(redact_url("postgres://me:pw@db:5432/app"), "postgres://me:***@db:5432/app");
/// assert_eq!(redact_url("redis://:p/w?x#y@h:6379/0"), "redis://:***@h:6379/0");
/// assert_eq!(
///     redact_url("postgres://db/app?sslmode=require&password=a&b"),
///     "postgres://db/app?sslmode=require&password=***"
/// );
/// assert_eq!(redact_url("redis+unix:///tmp/r.sock?pass=pw"), "redis+unix:///tmp/r.sock?pass=***");
/// assert_eq!(redact_url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
/// assert_eq!(redact_url("host=db password=pw"), "(not a URL, hidden)");
/// ```
pub fn redact_url(url: &str) -> String {
    url::redact(url)
}

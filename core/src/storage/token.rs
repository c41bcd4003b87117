//! The unique id each write carries and the storage keeps with what it wrote (contract
//! R14): after a lost answer, the engine reads the key and finds out whether its own
//! write is the one there.

use std::fmt;
use std::str::FromStr;

/// A unique id of one write (one operation: a transaction's writes share theirs).
/// 128 random bits, written as 32 lowercase hex digits where a store keeps it as text.
///
/// ```
/// use optimist_core::WriteToken;
/// let token = WriteToken::random();
/// assert_ne!(token, WriteToken::random());
/// let text = token.to_string();
/// assert_eq!(text.len(), 32);
/// assert_eq!(text.parse::<WriteToken>(), Ok(token));
/// assert!("not hex".parse::<WriteToken>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WriteToken(u128);

impl WriteToken {
    /// A fresh token from the thread's cryptographically secure generator: two writes
    /// never share one.
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// The token with these bits (for stores that keep it as a number, and tests).
    ///
    /// ```
    /// assert_eq!(optimist_core::WriteToken::from_u128(7).as_u128(), 7);
    /// ```
    pub const fn from_u128(bits: u128) -> Self {
        Self(bits)
    }

    /// The token's bits.
    pub const fn as_u128(self) -> u128 {
        self.0
    }
}

impl fmt::Display for WriteToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for WriteToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WriteToken({self})")
    }
}

/// Text that is not a token written by [`WriteToken`]'s `Display`: a stored item
/// carrying it is corrupt.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a write token is 32 lowercase hex digits")]
pub struct ParseTokenError;

impl FromStr for WriteToken {
    type Err = ParseTokenError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let well_formed = text.len() == 32
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(ParseTokenError);
        }
        u128::from_str_radix(text, 16)
            .map(Self)
            .map_err(|_| ParseTokenError)
    }
}

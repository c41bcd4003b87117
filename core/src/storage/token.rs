//! The unique id each write carries and the storage keeps with what it wrote (contract
//! R14): after a lost answer, the engine reads the key and finds out whether its own
//! write is the one there.

use std::cell::Cell;
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
    /// A fresh token: two writes never share one. Every `RUN`-th token is 128 bits
    /// drawn from the thread's cryptographically secure generator, and the tokens
    /// between count up from it, so that most writes pay an increment instead of a
    /// draw. Runs from two random starts overlap with a probability of about
    /// 2^-123. After a `fork`, parent and child may hand out the same few tokens
    /// before their next draw, as the thread's generator itself repeats the few values
    /// it had buffered before it reseeds.
    pub fn random() -> Self {
        NEXT.with(|next| {
            let (last, left) = next.get();
            let bits = if left == 0 {
                rand::random()
            } else {
                last.wrapping_add(1)
            };
            next.set((bits, left.checked_sub(1).unwrap_or(RUN - 1)));
            Self(bits)
        })
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
    // Every write spells its token and every read of a stored one parses it: both by
    // hand, a digit at a time, rather than through `{:032x}` and `from_str_radix`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 32];
        for (i, digit) in text.iter_mut().enumerate() {
            let nibble = (self.0 >> (124 - 4 * i)) & 0xf;
            *digit = DIGITS[nibble as usize];
        }
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for WriteToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WriteToken({self})")
    }
}

/// How many tokens one draw from the generator starts: the draw and `RUN - 1`
/// increments of it.
const RUN: u8 = 16;

thread_local! {
    /// The thread's last token and how many more count up from it before a new draw.
    static NEXT: Cell<(u128, u8)> = const { Cell::new((0, 0)) };
}

/// Text that is not a token written by [`WriteToken`]'s `Display`: a stored item
/// carrying it is corrupt.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a write token is 32 lowercase hex digits")]
pub struct ParseTokenError;

impl FromStr for WriteToken {
    type Err = ParseTokenError;

    // Every read of a stored token parses one: two `u64` halves, sixteen digits at a
    // time (a `u128` shifted a digit at a time cost 505 instructions a PostgreSQL get).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (high, low) = text
            .as_bytes()
            .split_first_chunk::<16>()
            .ok_or(ParseTokenError)?;
        let low: &[u8; 16] = low.try_into().map_err(|_| ParseTokenError)?;
        Ok(Self(
            u128::from(hex_u64(high)?) << 64 | u128::from(hex_u64(low)?),
        ))
    }
}

/// Sixteen lowercase hex digits as the number they spell: all sixteen at once, as the
/// bytes of one `u128` (a table lookup per digit cost ~105 instructions a half).
fn hex_u64(digits: &[u8; 16]) -> Result<u64, ParseTokenError> {
    // A 1 in the lowest bit of every 8-, 16-, 32- and 64-bit lane.
    const ONES: u128 = u128::MAX / 0xff;
    const LANES_16: u128 = u128::MAX / 0xffff;
    const LANES_32: u128 = u128::MAX / 0xffff_ffff;
    const LANES_64: u128 = u128::MAX / u64::MAX as u128;
    const HIGH: u128 = ONES * 0x80;
    // The first digit in the highest byte.
    let x = u128::from_be_bytes(*digits);
    // With no byte above 0x7f, adding at most 0x80 to each carries into no other.
    if x & HIGH != 0 {
        return Err(ParseTokenError);
    }
    // The high bit of each byte in `lo..=hi`.
    let within = |lo: u8, hi: u8| {
        let at_least_lo = x + ONES * u128::from(0x80 - lo);
        let above_hi = x + ONES * u128::from(0x7f - hi);
        at_least_lo & !above_hi & HIGH
    };
    let decimal = within(b'0', b'9');
    let letter = within(b'a', b'f');
    if decimal | letter != HIGH {
        return Err(ParseTokenError);
    }
    // `0`-`9` end in their value, `a`-`f` in their value - 9.
    let nibbles = (x & (ONES * 0x0f)) + (letter >> 7) * 9;
    // Pack the nibbles: neighbours into bytes, bytes into 16-bit halves, those into
    // 32-bit ones, each step in every lane at once; the earlier digits stay higher.
    let bytes = (nibbles | nibbles >> 4) & (LANES_16 * 0xff);
    let pairs = (bytes | bytes >> 8) & (LANES_32 * 0xffff);
    let quads = (pairs | pairs >> 16) & (LANES_64 * 0xffff_ffff);
    let all = quads | quads >> 32;
    // The low 64 bits hold the sixteen digits' value.
    Ok(all as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelled_as_32_lowercase_hex_digits_and_read_back() {
        for bits in [
            0,
            1,
            0xabc,
            u128::MAX,
            u128::MAX / 3,
            1 << 127,
            rand::random(),
        ] {
            let token = WriteToken::from_u128(bits);
            let text = token.to_string();
            assert_eq!(text, format!("{bits:032x}"));
            assert_eq!(text.parse::<WriteToken>(), Ok(token));
        }
    }

    proptest::proptest! {
        #[test]
        fn every_token_reads_back(bits in proptest::prelude::any::<u128>()) {
            let token = WriteToken::from_u128(bits);
            proptest::prop_assert_eq!(token.to_string().parse::<WriteToken>(), Ok(token));
        }
    }

    #[test]
    fn each_byte_is_judged_alone() {
        // Every byte in every position: a digit parses to its value, anything else is
        // refused (the high and the low half are parsed apart).
        let zeros = [b'0'; 32];
        for position in 0..32 {
            for byte in 0..=255u8 {
                let mut text = zeros;
                text[position] = byte;
                let Ok(text) = std::str::from_utf8(&text) else {
                    continue;
                };
                let parsed = text.parse::<WriteToken>();
                match (byte as char).to_digit(16) {
                    Some(digit) if !byte.is_ascii_uppercase() => assert_eq!(
                        parsed,
                        Ok(WriteToken::from_u128(
                            u128::from(digit) << (124 - 4 * position)
                        )),
                        "{text}"
                    ),
                    _ => assert_eq!(parsed, Err(ParseTokenError), "{text}"),
                }
            }
        }
    }

    #[test]
    fn anything_else_is_refused() {
        let good = "0123456789abcdef0123456789abcdef";
        assert!(good.parse::<WriteToken>().is_ok());
        for bad in [
            "",
            &good[1..],
            &format!("{good}0"),
            &good.to_uppercase(),
            "0123456789abcdef0123456789abcdeg",
            "+123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcde\u{e9}",
            " 123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(bad.parse::<WriteToken>(), Err(ParseTokenError), "{bad:?}");
        }
    }

    #[test]
    fn tokens_are_unique_across_runs_and_threads() {
        let draw = || {
            (0..10 * usize::from(RUN) + 3)
                .map(|_| WriteToken::random())
                .collect::<Vec<_>>()
        };
        let mut all = draw();
        let other = std::thread::spawn(draw).join();
        assert!(other.is_ok(), "the other thread's draws panicked");
        all.extend(other.unwrap_or_default());
        let count = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), count, "a token was handed out twice");
    }
}

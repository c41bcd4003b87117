//! Percent-encoding as URLs spell a password, both ways, for [`Secrets`](super::Secrets)
//! to know every spelling of one.

/// `text` with every valid `%XX` decoded; an invalid `%` stays as it is, and bytes that
/// do not form UTF-8 become U+FFFD (a driver prints them no better).
pub(super) fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (byte, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Which bytes [`encode`] spells as `%XX`.
#[derive(Clone, Copy)]
pub(super) enum Encode {
    /// Every byte but ASCII letters, digits and `-._~`, upper-case hex.
    AllUpper,
    /// The same, lower-case hex (both are valid URL spellings).
    AllLower,
    /// Only bytes outside ASCII, as URL parsers re-encode user information.
    NonAscii,
}

/// `text` percent-encoded the way `how` says.
pub(super) fn encode(text: &str, how: Encode) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let keep = match how {
            Encode::AllUpper | Encode::AllLower => {
                byte.is_ascii_alphanumeric() || b"-._~".contains(&byte)
            }
            Encode::NonAscii => byte.is_ascii(),
        };
        if keep {
            out.push(char::from(byte));
        } else if matches!(how, Encode::AllLower) {
            out.push_str(&format!("%{byte:02x}"));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_what_is_not_an_escape() {
        let text = "p/?#@:%é €";
        for how in [Encode::AllUpper, Encode::AllLower, Encode::NonAscii] {
            assert_eq!(decode(&encode(text, how)), text);
        }
        assert_eq!(encode("a/é", Encode::AllUpper), "a%2F%C3%A9");
        assert_eq!(encode("a/é", Encode::AllLower), "a%2f%c3%a9");
        assert_eq!(encode("a/é", Encode::NonAscii), "a/%C3%A9");
        assert_eq!(decode("50%off%"), "50%off%");
        assert_eq!(decode("%41%zz"), "A%zz");
    }
}

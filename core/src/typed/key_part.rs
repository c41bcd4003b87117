//! How typed key fields become the parts of a [`Key`], and back.

use crate::Key;

/// A type a key field can have: it becomes a key part (a string) and is parsed back
/// from one when an entity is loaded.
///
/// Implemented for `String` and the integer types. Implement it for your own id types;
/// `from_key_part(&to_key_part(x))` must give back `x`.
///
/// ```
/// use optimist_core::typed::KeyPart;
///
/// assert_eq!(42u64.to_key_part(), "42");
/// assert_eq!(u64::from_key_part("42"), Ok(42));
/// assert!(u64::from_key_part("forty-two").is_err());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a key field: it does not implement `optimist_core::typed::KeyPart`",
    label = "key fields must be `String`, an integer, or implement `KeyPart`"
)]
pub trait KeyPart: Sized {
    /// The key part for this value.
    fn to_key_part(&self) -> String;

    /// Parses a key part written by [`to_key_part`](Self::to_key_part); the error
    /// says why it is not one (without quoting it: keys can be personal data).
    fn from_key_part(part: &str) -> Result<Self, String>;
}

impl KeyPart for String {
    fn to_key_part(&self) -> String {
        self.clone()
    }

    fn from_key_part(part: &str) -> Result<Self, String> {
        Ok(part.to_owned())
    }
}

macro_rules! integer_key_part {
    ($($ty:ty),*) => {$(
        impl KeyPart for $ty {
            fn to_key_part(&self) -> String {
                self.to_string()
            }

            fn from_key_part(part: &str) -> Result<Self, String> {
                part.parse().map_err(|_| {
                    format!("the key part is not a {}", stringify!($ty))
                })
            }
        }
    )*};
}

integer_key_part!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
);

/// Anything that names one item: a [`Key`], a key part (`"b-1"`, `111`), or a pair
/// of key parts for a key with a sort part (`("author-7", "book-3")`).
///
/// The typed operations that take a key ([`Context::load`](super::Context::load),
/// [`Context::delete_key`](super::Context::delete_key),
/// [`Context::update_with`](super::Context::update_with)) accept any of these, as the
/// .NET context's `Load<Book>(111)` does.
///
/// ```
/// use optimist_core::{Key, typed::IntoKey};
///
/// assert_eq!(111u64.into_key(), Key::new("111"));
/// assert_eq!("b-1".into_key(), Key::new("b-1"));
/// assert_eq!(("author-7", 3u32).into_key(), Key::with_sort("author-7", "3"));
/// assert_eq!(Key::new("k").into_key(), Key::new("k"));
/// ```
pub trait IntoKey {
    /// The key this names.
    fn into_key(self) -> Key;
}

/// A value that can be one part of a key given to [`IntoKey`]: a string slice, a
/// `String` or a [`KeyPart`] such as an integer.
///
/// ```
/// use optimist_core::typed::AsKeyPart;
/// assert_eq!("a".as_key_part(), "a");
/// assert_eq!(7u8.as_key_part(), "7");
/// ```
pub trait AsKeyPart {
    /// The key part.
    fn as_key_part(&self) -> String;
}

impl AsKeyPart for str {
    fn as_key_part(&self) -> String {
        self.to_owned()
    }
}

impl<T: KeyPart> AsKeyPart for T {
    fn as_key_part(&self) -> String {
        self.to_key_part()
    }
}

impl AsKeyPart for &str {
    fn as_key_part(&self) -> String {
        (*self).to_owned()
    }
}

impl AsKeyPart for &String {
    fn as_key_part(&self) -> String {
        (*self).clone()
    }
}

impl IntoKey for Key {
    fn into_key(self) -> Key {
        self
    }
}

impl IntoKey for &Key {
    fn into_key(self) -> Key {
        self.clone()
    }
}

impl IntoKey for &str {
    fn into_key(self) -> Key {
        Key::new(self)
    }
}

impl IntoKey for &String {
    fn into_key(self) -> Key {
        Key::new(self.as_str())
    }
}

impl<T: KeyPart> IntoKey for T {
    fn into_key(self) -> Key {
        Key::new(self.to_key_part())
    }
}

impl<P: AsKeyPart, S: AsKeyPart> IntoKey for (P, S) {
    fn into_key(self) -> Key {
        Key::with_sort(self.0.as_key_part(), self.1.as_key_part())
    }
}

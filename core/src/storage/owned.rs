//! Writes that own what they write: a put handed to the store with its value, for a
//! store that keeps values as they are (in memory) and moves the value in instead of
//! copying it; and a write a store finishes on another task or thread, which cannot
//! borrow from its caller.

use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use crate::{Change, Expect, Held, Key, Outcome, StorageError, Write, WriteToken};

/// A put whose value the store may keep: [`Storage::write_value`](crate::Storage::write_value)'s
/// argument. The same write as [`OwnedPut::write`], with the value owned.
///
/// ```
/// use optimist_core::{Change, Expect, Key, OwnedPut, WriteToken};
/// let key = Key::new("k");
/// let put = OwnedPut::new(&key, Expect::Absent, WriteToken::from_u128(7), serde_json::json!(1));
/// let write = put.write();
/// assert_eq!(write.change, Change::Put(&serde_json::json!(1)));
/// assert_eq!(write.token, WriteToken::from_u128(7));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct OwnedPut<'a> {
    /// The item's key.
    pub key: &'a Key,
    /// The state the item must be in.
    pub expect: Expect,
    /// The write's token, to store with the item.
    pub token: WriteToken,
    /// The value to store.
    pub value: Value,
}

impl<'a> OwnedPut<'a> {
    /// A put of `value` to `key` under `expect`, carrying `token`.
    pub fn new(key: &'a Key, expect: Expect, token: WriteToken, value: Value) -> Self {
        Self {
            key,
            expect,
            token,
            value,
        }
    }

    /// The same put as a [`Write`] borrowing the value, for the judgement
    /// ([`Write::decide`]) or for [`Storage::write`](crate::Storage::write).
    pub fn write(&self) -> Write<'_> {
        // Not `Write::new`: that draws a token, which this put already has.
        Write::carrying(self.key, self.expect, Change::Put(&self.value), self.token)
    }

    /// The store's `answer` to this put, the value handed back: what
    /// [`Storage::write_value`](crate::Storage::write_value) answers for a store that
    /// sends the put as [`write`](Self::write) and keeps no value.
    ///
    /// ```
    /// use optimist_core::{Expect, Held, Key, Outcome, OwnedPut, PutAnswer, WriteToken};
    /// use serde_json::json;
    ///
    /// let key = Key::new("k");
    /// let put = OwnedPut::new(&key, Expect::Absent, WriteToken::from_u128(7), json!(1));
    /// let applied = Ok(Outcome::Applied { previous: Held::Nothing });
    /// let PutAnswer::Answered { answer, value } = put.answered(applied) else {
    ///     unreachable!()
    /// };
    /// assert_eq!(answer.unwrap(), Outcome::Applied { previous: Held::Nothing });
    /// assert_eq!(value, json!(1));
    /// ```
    pub fn answered(self, answer: Result<Outcome, StorageError>) -> PutAnswer {
        PutAnswer::Answered {
            answer,
            value: self.value,
        }
    }
}

impl OwnedPut<'_> {
    /// Runs `call` on this put made an [`OwnedWrite`], for a store that finishes a
    /// write on a task or thread of its own, and answers
    /// [`PutAnswer::Answered`] with the value back: the value is lent to the call,
    /// not copied (on SQLite the copy was over a third of what the store added to a
    /// bare sqlx update). The call gives its share back when it ends,
    /// answered or dropped (a panic, a runtime shutting down); if it was handed on
    /// and still lives, the value is copied instead.
    ///
    /// ```
    /// use optimist_core::{Expect, Held, Key, Outcome, OwnedPut, PutAnswer, WriteToken};
    /// use serde_json::json;
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let key = Key::new("k");
    /// let put = OwnedPut::new(&key, Expect::Absent, WriteToken::from_u128(7), json!({"n": 1}));
    /// let answer = put
    ///     .lend(|write| async move {
    ///         // A store would send `write.write()` from a task of its own here.
    ///         assert_eq!(write.write().value(), Some(&json!({"n": 1})));
    ///         Ok(Outcome::Applied { previous: Held::Nothing })
    ///     })
    ///     .await;
    /// let PutAnswer::Answered { answer, value } = answer else { unreachable!() };
    /// assert_eq!(answer.unwrap(), Outcome::Applied { previous: Held::Nothing });
    /// assert_eq!(value, json!({"n": 1}));
    /// # });
    /// ```
    pub async fn lend<F>(self, call: impl FnOnce(OwnedWrite) -> F) -> PutAnswer
    where
        F: Future<Output = Result<Outcome, StorageError>>,
    {
        let value = Arc::new(self.value);
        let write = OwnedWrite {
            key: self.key.clone(),
            expect: self.expect,
            change: OwnedChange::Put(Arc::clone(&value)),
            token: self.token,
        };
        let answer = call(write).await;
        PutAnswer::Answered {
            answer,
            value: Arc::try_unwrap(value).unwrap_or_else(|shared| Value::clone(&shared)),
        }
    }
}

/// A [`Write`] that owns its key and value, for a store that finishes a write on a
/// task or thread of its own (a `Write` borrows from its caller, who may be gone by
/// then). [`OwnedPut::lend`] makes one of a put without copying its value.
///
/// ```
/// use optimist_core::{Change, Expect, Key, OwnedWrite, Write};
/// let key = Key::new("k");
/// let value = serde_json::json!(1);
/// let write = Write::new(&key, Expect::Any, Change::Put(&value));
/// let (owned, token) = (OwnedWrite::of(&write), write.token);
/// drop(value);
/// assert_eq!(owned.write().value(), Some(&serde_json::json!(1)));
/// assert_eq!(owned.write().token, token);
/// ```
#[derive(Clone, Debug)]
pub struct OwnedWrite {
    key: Key,
    expect: Expect,
    change: OwnedChange,
    token: WriteToken,
}

/// Shared, so that [`OwnedPut::lend`] can take the value back after the call.
#[derive(Clone, Debug)]
enum OwnedChange {
    Put(Arc<Value>),
    Delete,
    Keep,
}

impl OwnedWrite {
    /// `write`, its key and value copied.
    pub fn of(write: &Write<'_>) -> Self {
        let change = match write.change {
            Change::Put(value) => OwnedChange::Put(Arc::new(value.clone())),
            Change::Delete => OwnedChange::Delete,
            Change::Keep => OwnedChange::Keep,
        };
        Self {
            key: write.key.clone(),
            expect: write.expect,
            change,
            token: write.token,
        }
    }

    /// The write again, borrowing from this one, with the same token.
    pub fn write(&self) -> Write<'_> {
        let change = match &self.change {
            OwnedChange::Put(value) => Change::Put(value),
            OwnedChange::Delete => Change::Delete,
            OwnedChange::Keep => Change::Keep,
        };
        Write::carrying(&self.key, self.expect, change, self.token)
    }
}

/// What became of an [`OwnedPut`].
#[derive(Debug)]
pub enum PutAnswer {
    /// Applied, the value kept by the store: what the key held before.
    Kept {
        /// The key's state before the put.
        previous: Held,
    },
    /// The store's answer as [`Storage::write`](crate::Storage::write) gives it, with
    /// the value back (the engine may send the put again).
    Answered {
        /// The answer.
        answer: Result<Outcome, StorageError>,
        /// The put's value, not kept.
        value: Value,
    },
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)] // a test fails by panicking
mod tests {
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;

    fn put(key: &Key) -> OwnedPut<'_> {
        OwnedPut::new(
            key,
            Expect::Absent,
            WriteToken::from_u128(3),
            json!({"n": [1, 2]}),
        )
    }

    fn applied() -> Result<Outcome, StorageError> {
        Ok(Outcome::Applied {
            previous: Held::Nothing,
        })
    }

    fn answered(answer: PutAnswer) -> (Result<Outcome, StorageError>, Value) {
        match answer {
            PutAnswer::Answered { answer, value } => (answer, value),
            PutAnswer::Kept { .. } => panic!("lend answers Answered"),
        }
    }

    #[tokio::test]
    async fn a_lent_value_comes_back_with_the_answer() {
        let key = Key::new("k");
        let (answer, value) = answered(
            put(&key)
                .lend(|write| async move {
                    let sent = write.write();
                    assert_eq!(sent.key, &Key::new("k"));
                    assert_eq!(sent.expect, Expect::Absent);
                    assert_eq!(sent.token, WriteToken::from_u128(3));
                    assert_eq!(sent.value(), Some(&json!({"n": [1, 2]})));
                    Err(StorageError::maybe_applied(
                        crate::ErrorKind::Timeout,
                        "lost",
                    ))
                })
                .await,
        );
        assert!(answer.is_err());
        assert_eq!(value, json!({"n": [1, 2]}));
    }

    /// A call that hands its write on to something that outlives it still gives the
    /// caller the value (a copy).
    #[tokio::test]
    async fn a_value_still_shared_is_copied_back() {
        let kept = Mutex::new(None);
        let key = Key::new("k");
        let (answer, value) = answered(
            put(&key)
                .lend(|write| {
                    *kept.lock().unwrap() = Some(write.clone());
                    async move {
                        drop(write);
                        applied()
                    }
                })
                .await,
        );
        assert!(answer.is_ok());
        assert_eq!(value, json!({"n": [1, 2]}));
        let kept = kept.lock().unwrap().take().unwrap();
        assert_eq!(kept.write().value(), Some(&json!({"n": [1, 2]})));
    }
}

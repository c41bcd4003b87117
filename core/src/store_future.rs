//! The future of a single-item call of [`VersionedStore`](crate::VersionedStore): a
//! concrete type rather than a boxed `dyn Future`, so that a store answering at once
//! (the memory store) answers without allocating, a networked store's first request is
//! awaited in place (its `async` method's own box the one allocation), and a wrapper
//! still hands any future over, boxed.

mod first;

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use serde_json::Value;

use crate::{Expect, Key, Operation, Result, Storage};

pub(crate) use first::{ReadAnswer, Reading, Underway, Writing};

/// The future of [`get`](crate::VersionedStore::get), [`insert`](crate::VersionedStore::insert),
/// [`update`](crate::VersionedStore::update), [`delete`](crate::VersionedStore::delete),
/// [`put`](crate::VersionedStore::put) and [`remove`](crate::VersionedStore::remove).
///
/// Like an `async` block, it does nothing until polled: a call dropped before its
/// first poll sends and writes nothing. An implementor of
/// [`VersionedStore`](crate::VersionedStore) (a wrapper adding metrics, faults or
/// checks) makes one from any future with [`new`](Self::new), or from a result it
/// already has with [`ready`](Self::ready).
///
/// ```
/// use optimist_core::{Error, Key, Operation, StoreFuture, Version, VersionedStore};
/// use serde_json::json;
///
/// // What a wrapper's `insert` does: refuse some keys at once, pass the rest on.
/// fn guarded_insert<'a>(
///     store: &'a impl VersionedStore,
///     key: &'a Key,
///     value: serde_json::Value,
/// ) -> StoreFuture<'a, Version> {
///     if key.partition().starts_with("admin") {
///         let refused = Error::invalid(Operation::Insert, Some(key), "admin keys are read-only");
///         return StoreFuture::ready(Err(refused));
///     }
///     StoreFuture::new(async move {
///         let version = store.insert(key, value).await?;
///         tracing::info!(%key, %version, "inserted");
///         Ok(version)
///     })
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = optimist_memory::MemoryStore::new();
/// assert!(guarded_insert(&store, &Key::new("admin"), json!(1)).await.is_err());
/// assert_eq!(guarded_insert(&store, &Key::new("a"), json!(1)).await?, Version::FIRST);
///
/// // Nothing happens before the first poll.
/// let key = Key::new("b");
/// drop(store.insert(&key, json!(2)));
/// assert_eq!(store.get(&key).await?, None);
/// # Ok::<(), Error>(())
/// # }).unwrap();
/// ```
#[must_use = "a store call does nothing unless awaited"]
pub struct StoreFuture<'a, T> {
    state: State<'a, T>,
}

enum State<'a, T> {
    /// Not polled yet: the engine's call and its arguments.
    Deferred(fn(&mut Call<'a>) -> StoreFuture<'a, T>, Call<'a>),
    /// A read's first request in flight.
    Reading(Reading<'a, T>),
    /// A put's first request in flight.
    Writing(Writing<'a, T>),
    /// The answer, known before the first poll.
    Ready(Result<T>),
    /// Any other future.
    Boxed(Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>),
    /// Finished.
    Gone,
}

/// The arguments of a single-item call the engine runs when its future is first
/// polled.
pub(crate) struct Call<'a> {
    pub(crate) store: &'a dyn Storage,
    pub(crate) operation: Operation,
    pub(crate) key: &'a Key,
    pub(crate) expect: Expect,
    /// The value written (taken out by the call); `Null` for a read or a delete.
    pub(crate) value: Value,
    /// Cleared just before the call runs: a call that panicked, its future polled
    /// again, must not run a second time (with its value already taken).
    pub(crate) fresh: bool,
}

impl<'a, T> StoreFuture<'a, T> {
    /// Boxes `future`: the way an implementor of
    /// [`VersionedStore`](crate::VersionedStore) hands over an `async` block.
    ///
    /// ```
    /// use optimist_core::{StoreFuture, Version};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let future = StoreFuture::new(async { Ok(Version::FIRST) });
    /// assert_eq!(future.await?, Version::FIRST);
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn new(future: impl Future<Output = Result<T>> + Send + 'a) -> Self {
        Self {
            state: State::Boxed(Box::pin(future)),
        }
    }

    /// A future that answers `result` when polled, without allocating.
    ///
    /// ```
    /// use optimist_core::{StoreFuture, Version};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// assert_eq!(StoreFuture::ready(Ok(Version::FIRST)).await?, Version::FIRST);
    /// # Ok::<(), optimist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn ready(result: Result<T>) -> Self {
        Self {
            state: State::Ready(result),
        }
    }

    /// The engine's call `run`, made with `call` at the first poll.
    pub(crate) fn deferred(run: fn(&mut Call<'a>) -> Self, call: Call<'a>) -> Self {
        Self {
            state: State::Deferred(run, call),
        }
    }

    /// A read whose first request is in flight.
    pub(crate) fn reading(first: Reading<'a, T>) -> Self {
        Self {
            state: State::Reading(first),
        }
    }

    /// A put whose first request is in flight.
    pub(crate) fn writing(first: Writing<'a, T>) -> Self {
        Self {
            state: State::Writing(first),
        }
    }
}

impl<'a, T> From<Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>> for StoreFuture<'a, T> {
    /// Takes a boxed future as it is, as `async_trait` or `futures`' `BoxFuture` spell
    /// one.
    fn from(future: Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>) -> Self {
        Self {
            state: State::Boxed(future),
        }
    }
}

// No state is ever pinned in place: a boxed future is pinned in its box, and the rest
// is moved out whole.
impl<T> Unpin for StoreFuture<'_, T> {}

impl<T> Future for StoreFuture<'_, T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        // The engine's call runs at the first poll, and an answer it has at once goes
        // straight out. Parking it in `state` to take it out again moved a 112-byte
        // result twice more, which cost the memory store's update 5% of its time
        // (backend-memory's paired bench); the call runs on the arguments where they
        // lie, taking out only the value, rather than on a copy of them.
        if let State::Deferred(run, call) = &mut this.state {
            if !std::mem::replace(&mut call.fresh, false) {
                // The call ran and panicked: like a finished future, never answer.
                this.state = State::Gone;
                return Poll::Pending;
            }
            let started = run(call);
            match started.state {
                State::Ready(result) => {
                    this.state = State::Gone;
                    return Poll::Ready(result);
                }
                started => this.state = started,
            }
        }
        // A first request in flight: its answer judged, the call ends here or goes on
        // in the future the judgement gives.
        let judged = match &mut this.state {
            State::Reading(first) => {
                let answer = ready!(first.poll_request(cx));
                match std::mem::replace(&mut this.state, State::Gone) {
                    State::Reading(first) => Some(first.judge(answer)),
                    _ => None,
                }
            }
            State::Writing(first) => {
                let answer = ready!(first.poll_request(cx));
                match std::mem::replace(&mut this.state, State::Gone) {
                    State::Writing(first) => Some(first.judge(answer)),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(judged) = judged {
            match judged.state {
                State::Ready(result) => return Poll::Ready(result),
                rest => this.state = rest,
            }
        }
        if let State::Boxed(future) = &mut this.state {
            let poll = future.as_mut().poll(cx);
            if poll.is_ready() {
                this.state = State::Gone;
            }
            return poll;
        }
        match std::mem::replace(&mut this.state, State::Gone) {
            State::Ready(result) => Poll::Ready(result),
            // Polled after it finished (unspecified for a future): never run the
            // call twice. (No `Deferred` is left after the first poll.)
            _ => Poll::Pending,
        }
    }
}

impl<T> fmt::Debug for StoreFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("StoreFuture");
        match &self.state {
            State::Deferred(_, call) => out.field("deferred", &call.operation),
            State::Reading(first) => out.field("reading", &first.underway.operation),
            State::Writing(first) => out.field("writing", &first.underway.operation),
            State::Ready(result) => out.field("ready", &result.is_ok()),
            State::Boxed(_) => out.field("boxed", &true),
            State::Gone => out.field("finished", &true),
        };
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use super::*;
    use crate::{Error, Version};

    fn poll_once<T>(future: &mut StoreFuture<'_, T>) -> Poll<Result<T>> {
        Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn it_can_be_sent_to_another_task() {
        fn sendable<T: Send>() {}
        sendable::<StoreFuture<'static, Version>>();
        sendable::<StoreFuture<'static, Option<crate::Versioned<Value>>>>();
    }

    #[test]
    fn a_finished_future_polled_again_stays_pending_and_never_answers_twice() {
        let mut future = StoreFuture::ready(Ok(Version::FIRST));
        assert!(matches!(poll_once(&mut future), Poll::Ready(Ok(v)) if v == Version::FIRST));
        assert!(poll_once(&mut future).is_pending());

        let mut boxed = StoreFuture::new(async {
            Err::<Version, _>(Error::Unsupported {
                operation: Operation::Put,
            })
        });
        assert!(matches!(poll_once(&mut boxed), Poll::Ready(Err(_))));
        assert!(poll_once(&mut boxed).is_pending());
    }

    #[test]
    fn a_boxed_future_is_polled_until_it_answers() {
        let mut polls = 0;
        let mut future = StoreFuture::new(std::future::poll_fn(move |cx| {
            polls += 1;
            if polls < 3 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(Ok(polls))
            }
        }));
        assert!(poll_once(&mut future).is_pending());
        assert!(poll_once(&mut future).is_pending());
        assert!(matches!(poll_once(&mut future), Poll::Ready(Ok(3))));
    }

    /// How the test store answers.
    enum Answers {
        /// Its immediate write panics (counting its calls).
        PanicAtOnce,
        /// Every request is pending once before it answers, as a networked store's
        /// is; a write is refused when `refuse` is set, applied otherwise.
        PendingOnce { refuse: bool },
    }

    struct Probe {
        capabilities: crate::Capabilities,
        answers: Answers,
        calls: std::sync::atomic::AtomicU32,
    }

    impl Probe {
        fn new(answers: Answers) -> Self {
            Self {
                capabilities: crate::Capabilities::new(),
                answers,
                calls: Default::default(),
            }
        }
    }

    /// Pending once (waking its task), then ready.
    async fn pending_once() {
        let mut polled = false;
        std::future::poll_fn(|cx| {
            if std::mem::replace(&mut polled, true) {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await
    }

    fn stored() -> crate::Record {
        crate::Record::item(serde_json::json!({"a": 1}), Version::new(3))
    }

    #[async_trait::async_trait]
    impl Storage for Probe {
        fn backend_name(&self) -> &'static str {
            "probe"
        }
        fn capabilities(&self) -> &crate::Capabilities {
            &self.capabilities
        }
        async fn read(
            &self,
            _key: &crate::Key,
        ) -> std::result::Result<Option<crate::Record>, crate::StorageError> {
            pending_once().await;
            Ok(Some(stored()))
        }
        async fn write(
            &self,
            _write: &crate::Write<'_>,
        ) -> std::result::Result<crate::Outcome, crate::StorageError> {
            pending_once().await;
            Ok(match self.answers {
                Answers::PendingOnce { refuse: false } => crate::Outcome::Applied {
                    previous: crate::Held::Item(Version::new(3)),
                },
                _ => crate::Outcome::Refused {
                    current: Some(stored()),
                },
            })
        }
        #[allow(clippy::panic)] // the point of `PanicAtOnce`
        fn write_value_now<'a>(
            &self,
            put: crate::OwnedPut<'a>,
        ) -> std::result::Result<crate::PutAnswer, crate::OwnedPut<'a>> {
            match self.answers {
                Answers::PanicAtOnce => {
                    self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    panic!("a store's bug");
                }
                Answers::PendingOnce { .. } => Err(put),
            }
        }
    }

    #[test]
    fn a_call_that_panicked_never_runs_again() {
        use crate::VersionedStore;
        let store = Probe::new(Answers::PanicAtOnce);
        let key = crate::Key::new("k");
        let mut future = store.put(&key, serde_json::json!({"a": 1}));
        let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            poll_once(&mut future).is_ready()
        }));
        assert!(first.is_err(), "the store's panic reaches the caller");
        assert!(poll_once(&mut future).is_pending());
        assert!(poll_once(&mut future).is_pending());
        assert_eq!(store.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn a_first_request_still_pending_is_polled_until_it_answers() {
        use crate::VersionedStore;
        let key = crate::Key::new("k");
        let store = Probe::new(Answers::PendingOnce { refuse: false });
        let mut get = store.get(&key);
        assert!(poll_once(&mut get).is_pending());
        let answer = poll_once(&mut get);
        assert!(
            matches!(&answer, Poll::Ready(Ok(Some(item))) if item.version == Version::new(3)),
            "{answer:?}"
        );
        assert!(poll_once(&mut get).is_pending(), "answered once");

        let mut update = store.update(&key, Version::new(3), serde_json::json!({"a": 2}));
        assert!(poll_once(&mut update).is_pending());
        assert!(matches!(poll_once(&mut update), Poll::Ready(Ok(v)) if v == Version::new(4)));

        let store = Probe::new(Answers::PendingOnce { refuse: true });
        let mut stale = store.update(&key, Version::new(2), serde_json::json!({"a": 2}));
        assert!(poll_once(&mut stale).is_pending());
        let answer = poll_once(&mut stale);
        assert!(
            matches!(&answer, Poll::Ready(Err(Error::Conflict { conflict, .. }))
                if conflict.current().map(|item| item.version) == Some(Version::new(3))),
            "{answer:?}"
        );
    }
}

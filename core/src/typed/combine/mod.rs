//! Write combining (contract R25): `update_with` calls on one key from one context
//! coalesce. While one combined write is in flight, later callers queue; the next write
//! applies all their changes, in the order they arrived, to the current item, in one
//! compare-and-swap.
//!
//! Each change still runs in its own caller's task (closures borrow from their caller
//! and need not be `'static`): the leader of a batch hands the item along the batch,
//! member by member, over channels, and each member applies its own change and hands the
//! result back. A change that aborts leaves the batch and fails alone; a conflict makes
//! every member apply its change again to the conflict's item, as `update_with` does
//! alone; the write's outcome goes to every member still in the batch.
//!
//! Cancellation: a member dropped before its change is applied simply leaves. A leader
//! dropped before it sends the write passes the lead to the next member; dropped while
//! the write is in flight, it cannot know whether the write landed, so every member of
//! that batch gets `Indeterminate`, as the leader's own caller would have.

mod follow;
mod lead;
mod replicate;

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::{Key, Versioned};

pub(super) use follow::combined_update;

/// The keys with a combined write under way, and who waits to join the next one.
#[derive(Debug, Default)]
pub(crate) struct Combiner {
    /// An entry exists while some member leads the key's writes; it lists the callers
    /// that arrived since the leader took its batch.
    lanes: Mutex<HashMap<Key, Vec<Member>>>,
}

/// How the leader reaches one member of its batch.
#[derive(Debug)]
struct Member {
    inbox: mpsc::UnboundedSender<Message>,
}

/// What a leader tells a member.
#[derive(Debug)]
enum Message {
    /// Apply your change to this item and answer the document it leaves, or `None` if
    /// your change gave up (you then leave the batch).
    Apply {
        base: Versioned<Value>,
        answer: oneshot::Sender<Option<Value>>,
    },
    /// Lead the next batch: these members and yourself, starting from `last` (the item
    /// the previous combined write left, if known).
    Lead {
        followers: Vec<Member>,
        last: Option<Versioned<Value>>,
    },
    /// The batch's write is done: the item as written, or why it failed.
    Done(Result<Versioned<Value>, super::Error>),
}

enum Joined {
    Leader,
    Follower(mpsc::UnboundedReceiver<Message>),
}

impl Combiner {
    /// Joins the key's lane: the first caller leads, later ones wait for messages.
    fn join(&self, key: &Key) -> Joined {
        let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        match lanes.get_mut(key) {
            Some(waiting) => {
                let (inbox, messages) = mpsc::unbounded_channel();
                waiting.push(Member { inbox });
                Joined::Follower(messages)
            }
            None => {
                lanes.insert(key.clone(), Vec::new());
                Joined::Leader
            }
        }
    }

    /// Gives the lead of `key` to the first of `candidates` still listening, else to
    /// the first of those who joined meanwhile; with nobody left, the lane closes.
    fn pass_lead(&self, key: &Key, mut candidates: Vec<Member>, last: Option<Versioned<Value>>) {
        let mut last = last;
        loop {
            while !candidates.is_empty() {
                let next = candidates.remove(0);
                let message = Message::Lead {
                    followers: std::mem::take(&mut candidates),
                    last: last.take(),
                };
                match next.inbox.send(message) {
                    Ok(()) => return,
                    // Gone: take the list back and try the next one.
                    Err(mpsc::error::SendError(Message::Lead {
                        followers,
                        last: kept,
                    })) => {
                        candidates = followers;
                        last = kept;
                    }
                    Err(_) => {}
                }
            }
            let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
            match lanes.get_mut(key) {
                Some(waiting) if !waiting.is_empty() => candidates = std::mem::take(waiting),
                _ => {
                    lanes.remove(key);
                    return;
                }
            }
        }
    }

    /// The callers that joined since the leader took its batch; the lane stays open.
    fn take_waiting(&self, key: &Key) -> Vec<Member> {
        let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        lanes.get_mut(key).map(std::mem::take).unwrap_or_default()
    }
}

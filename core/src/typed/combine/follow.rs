//! A caller's side of a combined write: join the key's lane, then lead or follow.

use serde_json::Value;
use tokio::sync::mpsc;

use super::lead::Batch;
use super::{Combiner, Joined, Message};
use crate::retry::RetryPolicy;
use crate::typed::{Context, Entity, Error, Result};
use crate::{BoxError, Error as StoreError, Key, Operation, Versioned, VersionedStore};

/// `update_with` through the combiner: the entity as the batch's write left it.
pub(in crate::typed) async fn combined_update<S, T, F, E>(
    ctx: &Context<S>,
    combiner: &Combiner,
    key: Key,
    policy: &RetryPolicy,
    mut change: F,
) -> Result<T>
where
    S: VersionedStore,
    T: Entity,
    F: FnMut(&mut T) -> std::result::Result<(), E> + Send,
    E: Into<BoxError>,
{
    let mut apply = |base: Versioned<Value>| apply_change::<T, F, E>(&key, base, &mut change);
    let mut guard = match combiner.join(&key) {
        Joined::Leader => {
            return Batch::new(ctx, combiner, &key, policy, Vec::new(), None)
                .run(&mut apply)
                .await;
        }
        Joined::Follower(messages) => Following {
            combiner,
            key: &key,
            messages,
        },
    };
    loop {
        let Some(message) = guard.messages.recv().await else {
            // Every sender is gone without a word: only a leader that vanished in a way
            // its own guard did not see. Its write may have landed.
            return Err(leader_lost(&key).into());
        };
        match message {
            Message::Apply { base, answer } => match apply(base) {
                Ok(document) => {
                    // A leader that stopped listening has been dropped; its guard will
                    // tell this member what became of the batch.
                    let _ = answer.send(Some(document));
                }
                Err(err) => {
                    let _ = answer.send(None);
                    return Err(err);
                }
            },
            Message::Lead { followers, last } => {
                return Batch::new(ctx, combiner, &key, policy, followers, last)
                    .run(&mut apply)
                    .await;
            }
            Message::Done(result) => {
                return result.and_then(|item| T::from_item(&key, item, Operation::Update));
            }
        }
    }
}

/// Applies one caller's change to the item, as `update_with` does alone: the document
/// it leaves, or the caller's own error (aborted, or the key altered).
fn apply_change<T, F, E>(key: &Key, base: Versioned<Value>, change: &mut F) -> Result<Value>
where
    T: Entity,
    F: FnMut(&mut T) -> std::result::Result<(), E>,
    E: Into<BoxError>,
{
    let mut entity = T::from_item(key, base, Operation::Get)?;
    change(&mut entity).map_err(|source| Error::Aborted {
        key: key.clone(),
        source: source.into(),
    })?;
    if entity.key() != *key {
        return Err(StoreError::invalid(
            Operation::Update,
            Some(key),
            "the change altered the entity's key",
        )
        .into());
    }
    entity.to_document(Operation::Update)
}

/// The error of a member whose leader was dropped while the batch's write was in flight.
pub(super) fn leader_lost(key: &Key) -> StoreError {
    StoreError::Indeterminate {
        operation: Operation::Update,
        key: Some(key.clone()),
        backend: "combined write",
        source: "the caller that sent this change's combined write was cancelled while it was in flight; re-read to find out".into(),
    }
}

/// A follower's inbox; if the follower is dropped while the lead was on its way to it,
/// the lead goes on to the next member, so the lane never stalls.
struct Following<'a> {
    combiner: &'a Combiner,
    key: &'a Key,
    messages: mpsc::UnboundedReceiver<Message>,
}

impl Drop for Following<'_> {
    fn drop(&mut self) {
        self.messages.close();
        while let Ok(message) = self.messages.try_recv() {
            if let Message::Lead { followers, last } = message {
                self.combiner.pass_lead(self.key, followers, last);
            }
        }
    }
}

//! The leader's side: one batch's rounds of apply-then-write, retried like
//! `update_with` on a conflict, and the outcome sent to every member.

use std::time::Instant;

use serde_json::Value;
use tokio::sync::oneshot;

use super::follow::leader_lost;
use super::replicate::replicate;
use super::{Combiner, Member, Message};
use crate::retry::RetryPolicy;
use crate::typed::update::Backoff;
use crate::typed::{Context, Entity, Error, Result};
use crate::{Conflict, Error as StoreError, Key, Operation, Versioned, VersionedStore};

/// One batch led by one caller. Dropped before it finished (its caller cancelled), it
/// passes the lead on, or, if its write was in flight, tells every member the outcome is
/// unknown.
pub(super) struct Batch<'a, S> {
    ctx: &'a Context<S>,
    combiner: &'a Combiner,
    key: &'a Key,
    policy: &'a RetryPolicy,
    followers: Vec<Member>,
    last: Option<Versioned<Value>>,
    in_flight: bool,
    finished: bool,
}

impl<'a, S: VersionedStore> Batch<'a, S> {
    pub(super) fn new(
        ctx: &'a Context<S>,
        combiner: &'a Combiner,
        key: &'a Key,
        policy: &'a RetryPolicy,
        followers: Vec<Member>,
        last: Option<Versioned<Value>>,
    ) -> Self {
        Self {
            ctx,
            combiner,
            key,
            policy,
            followers,
            last,
            in_flight: false,
            finished: false,
        }
    }

    /// Runs the batch: the leader's own change first, then each follower's in the
    /// order they joined, one write for all.
    pub(super) async fn run<T: Entity>(
        mut self,
        apply: &mut (dyn FnMut(Versioned<Value>) -> Result<Value> + Send),
    ) -> Result<T> {
        let key = self.key;
        let mut base = match self.last.take() {
            Some(item) => Some(item),
            None => match self.ctx.store().get(key).await {
                Ok(item) => item,
                Err(err) => return self.fail(err.into()),
            },
        };
        let mut attempts: u32 = 0;
        let mut backoff = Backoff::default();
        loop {
            let Some(item) = base.take() else {
                let missing =
                    StoreError::conflict(Operation::Update, key.clone(), Conflict::NotFound);
                return self.fail(missing.into());
            };
            let version = item.version;
            let mut document = match apply(item.clone()) {
                Ok(document) => document,
                Err(own) => {
                    // The leader's own change gave up: it leaves, the batch goes on.
                    self.pass_lead(Some(item));
                    return Err(own);
                }
            };
            let mut index = 0;
            while index < self.followers.len() {
                let (answer, answered) = oneshot::channel();
                let apply = Message::Apply {
                    base: Versioned::new(document.clone(), version),
                    answer,
                };
                let changed = match self.followers[index].inbox.send(apply) {
                    Ok(()) => answered.await.ok().flatten(),
                    Err(_) => None,
                };
                match changed {
                    Some(changed) => {
                        document = changed;
                        index += 1;
                    }
                    // Gave up or gone: that member has left the batch.
                    None => {
                        self.followers.remove(index);
                    }
                }
            }
            attempts += 1;
            let sent = Instant::now();
            self.in_flight = true;
            let written = self
                .ctx
                .store()
                .update(key, version, document.clone())
                .await;
            self.in_flight = false;
            let round_trip = sent.elapsed();
            let err = match written {
                Ok(version) => {
                    let item = Versioned::new(document, version);
                    self.finish(Ok(item.clone()));
                    return T::from_item(key, item, Operation::Update);
                }
                Err(err) => err,
            };
            let reread = match &err {
                StoreError::Conflict { conflict, .. } => {
                    if let Conflict::NotFound = conflict {
                        return self.fail(err.into());
                    }
                    // The conflict's item is the state to apply every change to again.
                    base = conflict.current().cloned();
                    false
                }
                other if other.is_retryable() => true,
                _ => return self.fail(err.into()),
            };
            if attempts >= self.policy.max_attempts() {
                return self.fail(Error::RetryExhausted {
                    attempts,
                    last: Box::new(err.into()),
                });
            }
            // As `update_with` alone.
            let delay = backoff.next(self.policy, round_trip, reread);
            tracing::debug!(%key, attempts, ?delay, error = %err, "combined update: retrying");
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if reread {
                base = match self.ctx.store().get(key).await {
                    Ok(item) => item,
                    Err(err) => return self.fail(err.into()),
                };
            }
        }
    }

    /// Ends the batch with an error shared by every member.
    fn fail<T>(mut self, err: Error) -> Result<T> {
        self.finish(Err(replicate(&err)));
        Err(err)
    }

    /// Tells every member the outcome, then hands the lane to those who joined since.
    fn finish(&mut self, outcome: std::result::Result<Versioned<Value>, Error>) {
        self.finished = true;
        let last = outcome.as_ref().ok().cloned();
        for member in self.followers.drain(..) {
            let copy = match &outcome {
                Ok(item) => Ok(item.clone()),
                Err(err) => Err(replicate(err)),
            };
            let _ = member.inbox.send(Message::Done(copy));
        }
        let waiting = self.combiner.take_waiting(self.key);
        self.combiner.pass_lead(self.key, waiting, last);
    }

    /// Hands the batch, as it is, to its next member.
    fn pass_lead(&mut self, last: Option<Versioned<Value>>) {
        self.finished = true;
        let followers = std::mem::take(&mut self.followers);
        self.combiner.pass_lead(self.key, followers, last);
    }
}

impl<S> Drop for Batch<'_, S> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if self.in_flight {
            for member in self.followers.drain(..) {
                let _ = member
                    .inbox
                    .send(Message::Done(Err(leader_lost(self.key).into())));
            }
            let waiting = self.combiner.take_waiting(self.key);
            self.combiner.pass_lead(self.key, waiting, None);
        } else {
            let followers = std::mem::take(&mut self.followers);
            self.combiner.pass_lead(self.key, followers, None);
        }
    }
}

//! Bounded retries with exponential backoff and full jitter: the policy, the engine's
//! resending of transient failures, and
//! [`Context::update_with`](crate::typed::Context::update_with)'s loop.

mod policy;
mod transient;

pub use policy::RetryPolicy;
pub use transient::{Attempted, retry_transient};

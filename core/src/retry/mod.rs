//! Bounded retries with exponential backoff and full jitter, for
//! [`Context::update_with`](crate::typed::Context::update_with) and for callers who
//! write their own loops.

mod policy;

pub use policy::RetryPolicy;

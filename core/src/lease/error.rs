//! Why a lease refused an operation: another owner holds it, or the caller lost it.

use std::fmt;
use std::time::Duration;

use crate::{Error, Key, Operation};

/// Who holds a lease, as its record says (contract R19).
///
/// ```
/// use std::time::Duration;
/// use optimist_core::lease::LeaseHolder;
/// let holder = LeaseHolder { owner: "worker-2".into(), token: 5, duration: Duration::from_secs(10) };
/// assert_eq!(holder.to_string(), "\"worker-2\" with token 5");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseHolder {
    /// The owner name the holder acquired the lease with.
    pub owner: String,
    /// The holder's fencing token: the record's version when it acquired the lease.
    pub token: u64,
    /// The lease duration the holder promised to renew within.
    pub duration: Duration,
}

impl fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} with token {}", self.owner, self.token)
    }
}

/// Why a lease refused an operation; carried by [`Error::Lease`] together with the
/// lease's key. Nothing was written.
///
/// ```
/// use std::time::Duration;
/// use optimist_core::lease::{LeaseConflict, LeaseHolder};
/// let holder = LeaseHolder { owner: "b".into(), token: 7, duration: Duration::from_secs(1) };
/// let lost = LeaseConflict::Lost { token: 4, holder: Some(holder.clone()) };
/// assert_eq!(lost.holder(), Some(&holder));
/// assert_eq!(lost.to_string(), "token 4 is no longer the holder's: held by \"b\" with token 7");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeaseConflict {
    /// Another owner holds the lease: [`try_acquire`](super::Lease::try_acquire) on a
    /// held lease, or [`acquire`](super::Lease::acquire) whose timeout ran out before
    /// the lease was free or had expired.
    Held {
        /// The current holder.
        holder: LeaseHolder,
    },
    /// The caller's lease is gone: another owner took it over, or it was released or
    /// its record removed. A guarded write, renewal or release with it was refused.
    Lost {
        /// The caller's fencing token.
        token: u64,
        /// Who holds the lease now; `None` if nobody does (released or removed).
        holder: Option<LeaseHolder>,
    },
}

impl LeaseConflict {
    /// Who holds the lease now, if anyone.
    ///
    /// ```
    /// use optimist_core::lease::LeaseConflict;
    /// assert_eq!(LeaseConflict::Lost { token: 1, holder: None }.holder(), None);
    /// ```
    pub fn holder(&self) -> Option<&LeaseHolder> {
        match self {
            LeaseConflict::Held { holder } => Some(holder),
            LeaseConflict::Lost { holder, .. } => holder.as_ref(),
        }
    }
}

impl fmt::Display for LeaseConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeaseConflict::Held { holder } => write!(f, "held by {holder}"),
            LeaseConflict::Lost { token, holder } => {
                write!(f, "token {token} is no longer the holder's: ")?;
                match holder {
                    Some(holder) => write!(f, "held by {holder}"),
                    None => f.write_str("nobody holds the lease"),
                }
            }
        }
    }
}

/// [`Error::Lease`] with a [`LeaseConflict::Held`].
pub(crate) fn held(operation: Operation, lease: &Key, holder: LeaseHolder) -> Error {
    Error::Lease {
        operation,
        lease: lease.clone(),
        conflict: LeaseConflict::Held { holder },
    }
}

/// [`Error::Lease`] with a [`LeaseConflict::Lost`].
pub(crate) fn lost(
    operation: Operation,
    lease: &Key,
    token: u64,
    holder: Option<LeaseHolder>,
) -> Error {
    Error::Lease {
        operation,
        lease: lease.clone(),
        conflict: LeaseConflict::Lost { token, holder },
    }
}

//! The lease record: an ordinary item, a JSON object, on the key the user chose.
//!
//! `{"owner": "worker-7", "token": 12, "lease_ms": 300, "released": false, "renewals": 4}`
//!
//! `token` is the record's version when its holder acquired it, written in advance
//! (an acquisition is an insert, giving version 1, or an update expecting `v`, giving
//! `v + 1`): with the owner it says which acquisition a record belongs to, so a holder
//! that finds its record moved on can tell its own renewal from another owner's
//! takeover. `renewals` counts the holder's renewals, so each one changes the value as
//! well as the version.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::LeaseHolder;
use crate::Version;

/// A lease record, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LeaseRecord {
    pub(crate) owner: String,
    pub(crate) token: u64,
    pub(crate) duration: Duration,
    pub(crate) released: bool,
    pub(crate) renewals: u64,
}

impl LeaseRecord {
    /// The record of a new acquisition by `owner` whose token will be `token`.
    pub(crate) fn acquired(owner: &str, token: Version, duration: Duration) -> Self {
        Self {
            owner: owner.to_owned(),
            token: token.get(),
            duration,
            released: false,
            renewals: 0,
        }
    }

    /// The stored document.
    pub(crate) fn to_value(&self) -> Value {
        json!({
            "owner": self.owner,
            "token": self.token,
            "lease_ms": duration_ms(self.duration),
            "released": self.released,
            "renewals": self.renewals,
        })
    }

    /// The record stored as `value`; `None` if it is not a lease record.
    pub(crate) fn from_value(value: &Value) -> Option<Self> {
        let object: &Map<String, Value> = value.as_object()?;
        Some(Self {
            owner: object.get("owner")?.as_str()?.to_owned(),
            token: object.get("token")?.as_u64()?,
            duration: Duration::from_millis(object.get("lease_ms")?.as_u64()?),
            released: object.get("released")?.as_bool()?,
            renewals: object.get("renewals")?.as_u64()?,
        })
    }

    /// Who holds the lease by this record; `None` once released.
    pub(crate) fn holder(&self) -> Option<LeaseHolder> {
        (!self.released).then(|| LeaseHolder {
            owner: self.owner.clone(),
            token: self.token,
            duration: self.duration,
        })
    }
}

/// The duration in whole milliseconds (options are checked to be whole and at most a
/// day, so this neither rounds nor saturates for them).
fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_other_values_are_not_records() {
        let record = LeaseRecord {
            owner: "w".into(),
            token: 9,
            duration: Duration::from_millis(250),
            released: false,
            renewals: 3,
        };
        assert_eq!(LeaseRecord::from_value(&record.to_value()), Some(record));
        assert_eq!(LeaseRecord::from_value(&json!({"owner": "w"})), None);
        assert_eq!(LeaseRecord::from_value(&json!(1)), None);
    }

    #[test]
    fn a_released_record_has_no_holder() {
        let mut record = LeaseRecord::acquired("w", Version::new(4), Duration::from_secs(1));
        assert_eq!(record.holder().map(|h| h.token), Some(4));
        record.released = true;
        assert_eq!(record.holder(), None);
    }
}

//! What a case needs beyond the core contract, read from the store's capabilities.

use optimist_core::{Capabilities, KeyShape};

/// What a case needs beyond the core contract. The suite reads it from the store's
/// [`Capabilities`]: a case whose feature the store lacks shows as ignored, with the
/// reason, never as passed. A backend declares its features once, in its capabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Feature {
    /// Only the core contract.
    Core,
    /// [`transact`](optimist_core::VersionedStore::transact) (`Capabilities::transactions`).
    Transactions,
    /// Transactions whose keys span partitions (`Capabilities::transactions` and
    /// `Capabilities::transactions_span_partitions`); Redis Cluster runs a transaction
    /// within one partition.
    CrossPartitionTransactions,
    /// Transactions confined to one partition (`Capabilities::transactions` with
    /// `transactions_span_partitions` false): its case checks that a transaction
    /// spanning partitions is refused as `InvalidInput`, nothing written.
    SinglePartitionTransactions,
    /// Keys with and without a sort part in one store (`KeyShape::Any`).
    MixedKeyShapes,
    /// Keys with a sort part (`KeyShape::Any` or `KeyShape::PartitionAndSort`).
    SortKeys,
    /// Keys without a sort part (`KeyShape::Any` or `KeyShape::PartitionOnly`), as the
    /// typed layer's entities with a partition key only make.
    PartitionOnlyKeys,
    /// Tombstone mode (`Capabilities::tombstones`): deletes leave tombstones that keep
    /// the version counting (contract R15).
    Tombstones,
    /// The default mode (`Capabilities::tombstones` off): a key deleted and written
    /// again restarts at version 1 (contract R15).
    NoTombstones,
    /// [`query`](optimist_core::VersionedStore::query) (contract R17): range reads
    /// (`Capabilities::range_reads`) on keys that can have a sort part.
    Query,
    /// [`scan`](optimist_core::VersionedStore::scan) (contract R18): range reads
    /// (`Capabilities::range_reads`).
    Scan,
    /// A store on which `query` is `Unsupported`: its keys have no sort part, or it
    /// reads no ranges. Its cases check that it says so.
    NoQuery,
    /// The factory can open a store's storage again
    /// ([`StoreFactory::reopener`](crate::StoreFactory::reopener)): not a capability of
    /// the store but of its factory, so the capabilities always have it and the suite
    /// asks the factory (a case needing it on a factory without one shows as ignored,
    /// with the factory's reason).
    Reopen,
}

impl Feature {
    /// Whether a backend with these capabilities has the feature.
    ///
    /// ```
    /// use optimist_conformance::Feature;
    /// use optimist_core::{Capabilities, KeyShape};
    /// let caps = Capabilities::new().with_key_shape(KeyShape::PartitionOnly);
    /// assert!(!Feature::SortKeys.supported_by(&caps));
    /// assert!(Feature::PartitionOnlyKeys.supported_by(&caps));
    /// assert!(Feature::Core.supported_by(&caps));
    /// ```
    pub fn supported_by(self, caps: &Capabilities) -> bool {
        match self {
            Feature::Core => true,
            Feature::Transactions => caps.transactions,
            Feature::CrossPartitionTransactions => {
                caps.transactions && caps.transactions_span_partitions
            }
            Feature::SinglePartitionTransactions => {
                caps.transactions && !caps.transactions_span_partitions
            }
            Feature::MixedKeyShapes => caps.key_shape == KeyShape::Any,
            Feature::SortKeys => caps.key_shape.accepts(true),
            Feature::PartitionOnlyKeys => caps.key_shape.accepts(false),
            Feature::Tombstones => caps.tombstones,
            Feature::NoTombstones => !caps.tombstones,
            Feature::Query => caps.range_reads && caps.key_shape.accepts(true),
            Feature::Scan => caps.range_reads,
            Feature::NoQuery => !Feature::Query.supported_by(caps),
            Feature::Reopen => true,
        }
    }

    /// The feature's name, as ignored cases show it.
    ///
    /// ```
    /// assert_eq!(optimist_conformance::Feature::SortKeys.name(), "sort_keys");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Feature::Core => "core",
            Feature::Transactions => "transactions",
            Feature::CrossPartitionTransactions => "cross_partition_transactions",
            Feature::SinglePartitionTransactions => "single_partition_transactions",
            Feature::MixedKeyShapes => "mixed_key_shapes",
            Feature::SortKeys => "sort_keys",
            Feature::PartitionOnlyKeys => "partition_only_keys",
            Feature::Tombstones => "tombstones",
            Feature::NoTombstones => "no_tombstones",
            Feature::Query => "query",
            Feature::Scan => "scan",
            Feature::NoQuery => "no_query",
            Feature::Reopen => "reopen",
        }
    }

    /// Why a store with these capabilities lacks the feature, as an ignored case shows
    /// it; `None` if it has it.
    ///
    /// ```
    /// use optimist_conformance::Feature;
    /// use optimist_core::Capabilities;
    /// let caps = Capabilities::new().with_transactions(false);
    /// assert_eq!(
    ///     Feature::Transactions.missing_from(&caps).as_deref(),
    ///     Some("needs transactions: the store's capabilities have transactions = false"),
    /// );
    /// assert_eq!(Feature::Core.missing_from(&caps), None);
    /// ```
    pub fn missing_from(self, caps: &Capabilities) -> Option<String> {
        if self.supported_by(caps) {
            return None;
        }
        let why = match self {
            Feature::Transactions => "transactions = false".to_string(),
            Feature::CrossPartitionTransactions | Feature::SinglePartitionTransactions => format!(
                "transactions = {} and transactions_span_partitions = {}",
                caps.transactions, caps.transactions_span_partitions
            ),
            Feature::Tombstones | Feature::NoTombstones => {
                format!("tombstones = {}", caps.tombstones)
            }
            Feature::Query | Feature::Scan if !caps.range_reads => {
                "range_reads = false".to_string()
            }
            Feature::NoQuery => format!(
                "range_reads = true and key_shape = {:?}, so query is supported",
                caps.key_shape
            ),
            _ => format!("key_shape = {:?}", caps.key_shape),
        };
        Some(format!(
            "needs {}: the store's capabilities have {why}",
            self.name()
        ))
    }
}

//! What a backend can hold and do, declared so callers and the conformance suite can
//! consult it.

/// The numbers a backend can store exactly (contract R2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NumberSupport {
    /// Every JSON number serde_json holds: all i64, all u64 and all finite f64, bit for bit.
    Full,
    /// Decimal numbers with at most `max_digits` significant digits and a magnitude in
    /// `[10^min_exponent, 10^max_exponent)` (DynamoDB: 38 digits, 1e-130 to 1e126).
    /// Integral floats may come back as integers.
    Decimal {
        /// The most significant digits a number may have.
        max_digits: u32,
        /// The smallest non-zero magnitude is `10^min_exponent`.
        min_exponent: i32,
        /// Every magnitude is below `10^max_exponent`.
        max_exponent: i32,
    },
}

impl NumberSupport {
    /// DynamoDB's numbers: 38 significant digits, magnitude 1e-130 to below 1e126.
    pub const DYNAMODB: NumberSupport = NumberSupport::Decimal {
        max_digits: 38,
        min_exponent: -130,
        max_exponent: 126,
    };
}

/// Which key shapes a backend accepts (contract R1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyShape {
    /// Keys with or without a sort part.
    Any,
    /// Only keys without a sort part (a DynamoDB table with a partition key only).
    PartitionOnly,
    /// Only keys with a sort part (a DynamoDB table with a sort key).
    PartitionAndSort,
}

impl KeyShape {
    /// Whether a key with (`true`) or without a sort part fits.
    ///
    /// ```
    /// use optimist_core::KeyShape;
    /// assert!(KeyShape::Any.accepts(true));
    /// assert!(!KeyShape::PartitionOnly.accepts(true));
    /// ```
    pub fn accepts(self, has_sort: bool) -> bool {
        match self {
            KeyShape::Any => true,
            KeyShape::PartitionOnly => !has_sort,
            KeyShape::PartitionAndSort => has_sort,
        }
    }
}

/// The limits and features of a backend. Every operation checks its input against
/// them and answers [`Error::InvalidInput`](crate::Error::InvalidInput) before sending
/// anything; the conformance suite reads them to decide what to generate and which
/// cases to run.
///
/// Built with [`Capabilities::new`] and the `with_*` methods:
///
/// ```
/// use optimist_core::{Capabilities, KeyShape};
///
/// let caps = Capabilities::new()
///     .with_max_item_bytes(1 << 20)
///     .with_key_shape(KeyShape::PartitionOnly);
/// assert_eq!(caps.max_item_bytes, 1 << 20);
/// assert_eq!(caps.max_transaction_ops, 100);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// The largest item, counted as the key's bytes plus the value's compact JSON bytes.
    pub max_item_bytes: usize,
    /// The most ops one transaction may hold (at least 25 on every shipped backend).
    pub max_transaction_ops: usize,
    /// How deeply objects and arrays may nest: a scalar has depth 0, a container one
    /// more than its deepest element.
    pub max_depth: usize,
    /// The numbers the backend stores exactly.
    pub numbers: NumberSupport,
    /// Whether a value must be a JSON object (DynamoDB stores its fields as attributes).
    pub object_values_only: bool,
    /// Object field names the value may not use (a DynamoDB table's key and version
    /// attribute names).
    pub reserved_fields: Vec<String>,
    /// The key shapes the backend accepts.
    pub key_shape: KeyShape,
    /// Whether key parts may hold the NUL character.
    pub nul_in_keys: bool,
    /// Whether strings inside values may hold the NUL character.
    pub nul_in_values: bool,
    /// Whether object field names inside values may be empty (DynamoDB's attribute names
    /// and map keys may not).
    pub empty_field_names: bool,
    /// Whether [`transact`](crate::VersionedStore::transact) is supported.
    pub transactions: bool,
    /// Whether one transaction may hold keys of different partitions. When `false`
    /// (Redis Cluster: a script runs on one hash slot, and each partition has a slot of
    /// its own), a transaction whose keys span partitions is
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) and nothing is sent; so are
    /// the guarded writes of a lease whose record is in another partition than the
    /// write. `true` on every backend but Redis in cluster mode.
    pub transactions_span_partitions: bool,
    /// Whether the store is in tombstone mode (contract R15): a delete leaves a
    /// tombstone that keeps the version counting, so a key never reuses a version and
    /// a write still travelling from before a delete cannot land after it. Off by
    /// default: a key deleted and inserted again restarts at version 1.
    pub tombstones: bool,
    /// The most keys one [`get_many`](crate::VersionedStore::get_many) may ask for.
    pub max_get_many: usize,
    /// The largest page a [`query`](crate::VersionedStore::query) or
    /// [`scan`](crate::VersionedStore::scan) may ask for.
    pub max_page_size: usize,
    /// Whether [`query`](crate::VersionedStore::query) (on stores whose keys can have a
    /// sort part) and [`scan`](crate::VersionedStore::scan) are supported.
    pub range_reads: bool,
}

impl Capabilities {
    /// The defaults, which every shipped backend starts from so they behave alike: items
    /// up to 400 KiB (DynamoDB's limit), 100 ops per transaction, nesting up to 64, all
    /// JSON numbers, any value shape, both key shapes, NUL and empty field names allowed,
    /// transactions supported (across partitions too), no tombstones, up to 100 keys per `get_many` and pages of
    /// up to 1,000 items, queries and scans supported.
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new();
    /// assert_eq!(caps.max_item_bytes, 400 * 1024);
    /// ```
    pub fn new() -> Self {
        Self {
            max_item_bytes: 400 * 1024,
            max_transaction_ops: 100,
            max_depth: 64,
            numbers: NumberSupport::Full,
            object_values_only: false,
            reserved_fields: Vec::new(),
            key_shape: KeyShape::Any,
            nul_in_keys: true,
            nul_in_values: true,
            empty_field_names: true,
            transactions: true,
            transactions_span_partitions: true,
            tombstones: false,
            max_get_many: 100,
            max_page_size: 1000,
            range_reads: true,
        }
    }

    /// Sets [`max_item_bytes`](Self::max_item_bytes).
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new().with_max_item_bytes(1024);
    /// assert_eq!(caps.max_item_bytes, 1024);
    /// ```
    pub fn with_max_item_bytes(mut self, bytes: usize) -> Self {
        self.max_item_bytes = bytes;
        self
    }

    /// Sets [`max_transaction_ops`](Self::max_transaction_ops).
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new().with_max_transaction_ops(25);
    /// assert_eq!(caps.max_transaction_ops, 25);
    /// ```
    pub fn with_max_transaction_ops(mut self, ops: usize) -> Self {
        self.max_transaction_ops = ops;
        self
    }

    /// Sets [`max_depth`](Self::max_depth).
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new().with_max_depth(32);
    /// assert_eq!(caps.max_depth, 32);
    /// ```
    pub fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Sets [`numbers`](Self::numbers).
    ///
    /// ```
    /// use optimist_core::{Capabilities, NumberSupport};
    /// let caps = Capabilities::new().with_numbers(NumberSupport::DYNAMODB);
    /// assert_eq!(caps.numbers, NumberSupport::DYNAMODB);
    /// ```
    pub fn with_numbers(mut self, numbers: NumberSupport) -> Self {
        self.numbers = numbers;
        self
    }

    /// Sets [`object_values_only`](Self::object_values_only).
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new().with_object_values_only(true);
    /// assert!(caps.object_values_only);
    /// ```
    pub fn with_object_values_only(mut self, only: bool) -> Self {
        self.object_values_only = only;
        self
    }

    /// Sets [`reserved_fields`](Self::reserved_fields).
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new().with_reserved_fields(["id", "version"]);
    /// assert_eq!(caps.reserved_fields, vec!["id".to_string(), "version".to_string()]);
    /// ```
    pub fn with_reserved_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.reserved_fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`key_shape`](Self::key_shape).
    ///
    /// ```
    /// use optimist_core::{Capabilities, KeyShape};
    /// let caps = Capabilities::new().with_key_shape(KeyShape::PartitionAndSort);
    /// assert_eq!(caps.key_shape, KeyShape::PartitionAndSort);
    /// ```
    pub fn with_key_shape(mut self, shape: KeyShape) -> Self {
        self.key_shape = shape;
        self
    }

    /// Sets [`nul_in_keys`](Self::nul_in_keys).
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new().with_nul_in_keys(false);
    /// assert!(!caps.nul_in_keys);
    /// ```
    pub fn with_nul_in_keys(mut self, allowed: bool) -> Self {
        self.nul_in_keys = allowed;
        self
    }

    /// Sets [`nul_in_values`](Self::nul_in_values).
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new().with_nul_in_values(false);
    /// assert!(!caps.nul_in_values);
    /// ```
    pub fn with_nul_in_values(mut self, allowed: bool) -> Self {
        self.nul_in_values = allowed;
        self
    }

    /// Sets [`empty_field_names`](Self::empty_field_names).
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new().with_empty_field_names(false);
    /// assert!(!caps.empty_field_names);
    /// ```
    pub fn with_empty_field_names(mut self, allowed: bool) -> Self {
        self.empty_field_names = allowed;
        self
    }

    /// Sets [`transactions`](Self::transactions).
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new().with_transactions(false);
    /// assert!(!caps.transactions);
    /// ```
    pub fn with_transactions(mut self, supported: bool) -> Self {
        self.transactions = supported;
        self
    }

    /// Sets [`transactions_span_partitions`](Self::transactions_span_partitions).
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new().with_transactions_span_partitions(false);
    /// assert!(!caps.transactions_span_partitions);
    /// ```
    pub fn with_transactions_span_partitions(mut self, span: bool) -> Self {
        self.transactions_span_partitions = span;
        self
    }

    /// Sets [`tombstones`](Self::tombstones).
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new().with_tombstones(true);
    /// assert!(caps.tombstones);
    /// ```
    pub fn with_tombstones(mut self, on: bool) -> Self {
        self.tombstones = on;
        self
    }

    /// Sets [`max_get_many`](Self::max_get_many).
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new().with_max_get_many(25);
    /// assert_eq!(caps.max_get_many, 25);
    /// ```
    pub fn with_max_get_many(mut self, keys: usize) -> Self {
        self.max_get_many = keys;
        self
    }

    /// Sets [`max_page_size`](Self::max_page_size).
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new().with_max_page_size(500);
    /// assert_eq!(caps.max_page_size, 500);
    /// ```
    pub fn with_max_page_size(mut self, items: usize) -> Self {
        self.max_page_size = items;
        self
    }

    /// Sets [`range_reads`](Self::range_reads).
    ///
    /// ```
    /// let caps = optimist_core::Capabilities::new().with_range_reads(false);
    /// assert!(!caps.range_reads);
    /// ```
    pub fn with_range_reads(mut self, on: bool) -> Self {
        self.range_reads = on;
        self
    }
}

impl Default for Capabilities {
    fn default() -> Self {
        Self::new()
    }
}

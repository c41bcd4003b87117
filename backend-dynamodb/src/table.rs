//! The description of the table a store works on: its name and attribute names.

use std::fmt;

/// Which DynamoDB table a [`DynamoDbStore`](crate::DynamoDbStore) uses and how its
/// items are laid out: the partition-key attribute (type `S`), an optional sort-key
/// attribute (type `S`), the attribute that holds the version (type `N`, default
/// `version`), and three attributes of the store's own: the write token of the write
/// that left the item (`S`, default `optimist_token`), and on tombstones the deletion
/// time (`N`, default `optimist_deleted`) and the TTL expiry (`N`, default
/// `optimist_expires`). Every name is configurable, so an existing table works as it
/// is; documents may use none of them.
///
/// ```
/// use optimist_dynamodb::TableDescription;
///
/// // A table kept by the AWS SDK for .NET's object persistence model: keyed on `Id`,
/// // versioned in `VersionNumber`.
/// let table = TableDescription::new("ProductCatalog", "Id").with_version_attribute("VersionNumber");
/// assert_eq!(table.version_attribute(), "VersionNumber");
/// assert_eq!(table.sort_key(), None);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TableDescription {
    name: String,
    partition_key: String,
    sort_key: Option<String>,
    version_attribute: String,
    token_attribute: String,
    deleted_attribute: String,
    ttl_attribute: String,
}

impl TableDescription {
    /// The version attribute used unless [`with_version_attribute`](Self::with_version_attribute) says otherwise.
    pub const DEFAULT_VERSION_ATTRIBUTE: &'static str = "version";

    /// The token attribute used unless [`with_token_attribute`](Self::with_token_attribute) says otherwise.
    pub const DEFAULT_TOKEN_ATTRIBUTE: &'static str = "optimist_token";

    /// The tombstone marker used unless [`with_deleted_attribute`](Self::with_deleted_attribute) says otherwise.
    pub const DEFAULT_DELETED_ATTRIBUTE: &'static str = "optimist_deleted";

    /// The TTL attribute used unless [`with_ttl_attribute`](Self::with_ttl_attribute) says otherwise.
    pub const DEFAULT_TTL_ATTRIBUTE: &'static str = "optimist_expires";

    /// A table keyed on `partition_key` only, versioned in `version`.
    ///
    /// ```
    /// let table = optimist_dynamodb::TableDescription::new("orders", "pk");
    /// assert_eq!(table.partition_key(), "pk");
    /// assert_eq!(table.version_attribute(), "version");
    /// ```
    pub fn new(name: impl Into<String>, partition_key: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            partition_key: partition_key.into(),
            sort_key: None,
            version_attribute: Self::DEFAULT_VERSION_ATTRIBUTE.to_string(),
            token_attribute: Self::DEFAULT_TOKEN_ATTRIBUTE.to_string(),
            deleted_attribute: Self::DEFAULT_DELETED_ATTRIBUTE.to_string(),
            ttl_attribute: Self::DEFAULT_TTL_ATTRIBUTE.to_string(),
        }
    }

    /// Adds a sort-key attribute: the table's keys then need a sort part.
    ///
    /// ```
    /// let table = optimist_dynamodb::TableDescription::new("orders", "pk").with_sort_key("sk");
    /// assert_eq!(table.sort_key(), Some("sk"));
    /// ```
    pub fn with_sort_key(mut self, sort_key: impl Into<String>) -> Self {
        self.sort_key = Some(sort_key.into());
        self
    }

    /// Names the attribute that holds the version.
    ///
    /// ```
    /// let table = optimist_dynamodb::TableDescription::new("t", "pk").with_version_attribute("_version");
    /// assert_eq!(table.version_attribute(), "_version");
    /// ```
    pub fn with_version_attribute(mut self, attribute: impl Into<String>) -> Self {
        self.version_attribute = attribute.into();
        self
    }

    /// Names the attribute that holds the token of the write that left the item or
    /// tombstone (type `S`, 32 lowercase hex digits). Items written by other clients
    /// have none, and read as written by nobody we know.
    ///
    /// ```
    /// let table = optimist_dynamodb::TableDescription::new("t", "pk").with_token_attribute("_token");
    /// assert_eq!(table.token_attribute(), "_token");
    /// ```
    pub fn with_token_attribute(mut self, attribute: impl Into<String>) -> Self {
        self.token_attribute = attribute.into();
        self
    }

    /// Names the attribute that marks a tombstone (tombstone mode): an item holding
    /// it is a deleted item's tombstone, whatever else it holds. Its value is the
    /// deletion time, in milliseconds since the Unix epoch (type `N`).
    ///
    /// ```
    /// let table = optimist_dynamodb::TableDescription::new("t", "pk").with_deleted_attribute("_deleted");
    /// assert_eq!(table.deleted_attribute(), "_deleted");
    /// ```
    pub fn with_deleted_attribute(mut self, attribute: impl Into<String>) -> Self {
        self.deleted_attribute = attribute.into();
        self
    }

    /// Names the attribute a tombstone carries for DynamoDB's time to live: when the
    /// tombstone may be purged, in seconds since the Unix epoch (type `N`). Enable TTL
    /// on the table with this attribute to have DynamoDB purge old tombstones.
    ///
    /// ```
    /// let table = optimist_dynamodb::TableDescription::new("t", "pk").with_ttl_attribute("expires_at");
    /// assert_eq!(table.ttl_attribute(), "expires_at");
    /// ```
    pub fn with_ttl_attribute(mut self, attribute: impl Into<String>) -> Self {
        self.ttl_attribute = attribute.into();
        self
    }

    /// The table's name.
    ///
    /// ```
    /// assert_eq!(optimist_dynamodb::TableDescription::new("t", "pk").name(), "t");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The partition-key attribute.
    ///
    /// ```
    /// assert_eq!(optimist_dynamodb::TableDescription::new("t", "pk").partition_key(), "pk");
    /// ```
    pub fn partition_key(&self) -> &str {
        &self.partition_key
    }

    /// The sort-key attribute, if the table has one.
    ///
    /// ```
    /// assert_eq!(optimist_dynamodb::TableDescription::new("t", "pk").sort_key(), None);
    /// ```
    pub fn sort_key(&self) -> Option<&str> {
        self.sort_key.as_deref()
    }

    /// The version attribute.
    ///
    /// ```
    /// assert_eq!(optimist_dynamodb::TableDescription::new("t", "pk").version_attribute(), "version");
    /// ```
    pub fn version_attribute(&self) -> &str {
        &self.version_attribute
    }

    /// The token attribute.
    ///
    /// ```
    /// assert_eq!(optimist_dynamodb::TableDescription::new("t", "pk").token_attribute(), "optimist_token");
    /// ```
    pub fn token_attribute(&self) -> &str {
        &self.token_attribute
    }

    /// The attribute that marks a tombstone and holds its deletion time.
    ///
    /// ```
    /// assert_eq!(optimist_dynamodb::TableDescription::new("t", "pk").deleted_attribute(), "optimist_deleted");
    /// ```
    pub fn deleted_attribute(&self) -> &str {
        &self.deleted_attribute
    }

    /// The TTL attribute of tombstones.
    ///
    /// ```
    /// assert_eq!(optimist_dynamodb::TableDescription::new("t", "pk").ttl_attribute(), "optimist_expires");
    /// ```
    pub fn ttl_attribute(&self) -> &str {
        &self.ttl_attribute
    }

    /// The attribute names a document may not use: the key attributes, the version
    /// attribute, and the token, tombstone and TTL attributes (reserved in both modes:
    /// every store reads tombstones, and a document field named like the TTL attribute
    /// could have DynamoDB delete the item).
    ///
    /// ```
    /// let table = optimist_dynamodb::TableDescription::new("t", "pk").with_sort_key("sk");
    /// assert_eq!(
    ///     table.reserved_attributes(),
    ///     vec!["pk", "sk", "version", "optimist_token", "optimist_deleted", "optimist_expires"]
    /// );
    /// ```
    pub fn reserved_attributes(&self) -> Vec<&str> {
        let mut names = vec![self.partition_key.as_str()];
        names.extend(self.sort_key.as_deref());
        names.extend([
            self.version_attribute.as_str(),
            &self.token_attribute,
            &self.deleted_attribute,
            &self.ttl_attribute,
        ]);
        names
    }

    /// Checks the names: 3 to 255 characters of `[A-Za-z0-9_.-]` for the table,
    /// distinct non-empty attribute names.
    pub(crate) fn check(&self) -> Result<(), String> {
        let valid_table = (3..=255).contains(&self.name.len())
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !valid_table {
            return Err(format!(
                "table name {:?} is not a DynamoDB table name (3 to 255 characters of A-Z a-z 0-9 _ . -)",
                self.name
            ));
        }
        let names = self.reserved_attributes();
        if names.iter().any(|n| n.is_empty()) {
            return Err(
                "key, version, token, deleted and TTL attribute names must not be empty"
                    .to_string(),
            );
        }
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(format!(
                    "attribute {name:?} is named twice among the key, version, token, deleted and TTL attributes"
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for TableDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableDescription")
            .field("name", &self.name)
            .field("partition_key", &self.partition_key)
            .field("sort_key", &self.sort_key)
            .field("version_attribute", &self.version_attribute)
            .field("token_attribute", &self.token_attribute)
            .field("deleted_attribute", &self.deleted_attribute)
            .field("ttl_attribute", &self.ttl_attribute)
            .finish()
    }
}

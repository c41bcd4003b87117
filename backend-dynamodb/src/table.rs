//! The description of the table a store works on: its name and attribute names.

use std::fmt;

/// Which DynamoDB table a [`DynamoDbStore`](crate::DynamoDbStore) uses and how its
/// items are laid out: the partition-key attribute (type `S`), an optional sort-key
/// attribute (type `S`), and the attribute that holds the version (type `N`, default
/// `version`). Every name is configurable, so an existing table works as it is.
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
}

impl TableDescription {
    /// The version attribute used unless [`with_version_attribute`](Self::with_version_attribute) says otherwise.
    pub const DEFAULT_VERSION_ATTRIBUTE: &'static str = "version";

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

    /// The attribute names a document may not use: the key attributes and the version
    /// attribute.
    ///
    /// ```
    /// let table = optimist_dynamodb::TableDescription::new("t", "pk").with_sort_key("sk");
    /// assert_eq!(table.reserved_attributes(), vec!["pk", "sk", "version"]);
    /// ```
    pub fn reserved_attributes(&self) -> Vec<&str> {
        let mut names = vec![self.partition_key.as_str()];
        names.extend(self.sort_key.as_deref());
        names.push(&self.version_attribute);
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
            return Err("key and version attribute names must not be empty".to_string());
        }
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(format!(
                    "attribute {name:?} is named twice among the key and version attributes"
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
            .finish()
    }
}

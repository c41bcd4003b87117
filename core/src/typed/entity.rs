//! The `Entity` trait: how a plain serde struct maps to a key, a document and a version.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::Error;
use crate::{Key, Operation, Versioned};

/// The serialized names of an entity's key and version fields.
///
/// These fields are not stored inside the document: the key fields become the item's
/// [`Key`] and the version field the store's [`Version`](crate::Version). On DynamoDB a
/// `Book { id, title, version }` is therefore the item `{id, title, version}` of a table
/// keyed on `id`, whose version attribute is `version`.
///
/// ```
/// use optimist_core::typed::EntityFields;
/// let fields = EntityFields { partition: "id", sort: None, version: "version" };
/// assert_eq!(fields.partition, "id");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntityFields {
    /// The partition-key field.
    pub partition: &'static str,
    /// The sort-key field, if the entity has one.
    pub sort: Option<&'static str>,
    /// The version field.
    pub version: &'static str,
}

/// A plain serde struct stored as one versioned item (contract R20).
///
/// Derive it with `#[derive(Entity)]` (feature `derive`, on by default), marking the
/// partition-key field `#[entity(partition_key)]`, an optional sort-key field
/// `#[entity(sort_key)]` and the version field `#[entity(version)]`, which must be an
/// `Option<u64>`: `None` means the entity was never saved. Key fields can be of any
/// [`KeyPart`](super::KeyPart) type (`String`, integers, or your own).
///
/// ```
/// use optimist_core::{Key, Version, Versioned, typed::Entity};
/// use serde::{Deserialize, Serialize};
/// use serde_json::json;
///
/// #[derive(Entity, Serialize, Deserialize, Debug, PartialEq)]
/// struct Book {
///     #[entity(partition_key)]
///     id: u64,
///     title: String,
///     #[entity(version)]
///     version: Option<u64>,
/// }
///
/// let book = Book { id: 111, title: "Dune".into(), version: None };
/// assert_eq!(book.key(), Key::new("111"));
/// // Neither the key nor the version is duplicated inside the stored document.
/// assert_eq!(book.to_document(Operation::Put)?, json!({"title": "Dune"}));
///
/// let item = Versioned::new(json!({"title": "Dune"}), Version::new(4));
/// let loaded = Book::from_item(&Key::new("111"), item, Operation::Get)?;
/// assert_eq!(loaded, Book { id: 111, title: "Dune".into(), version: Some(4) });
/// # use optimist_core::Operation;
/// # Ok::<(), optimist_core::typed::Error>(())
/// ```
///
/// The derive writes `::optimist_core::...` paths, so the crate must be a dependency
/// under its own name `optimist_core` (not renamed in `Cargo.toml`). It reads serde's
/// `rename` on fields and `rename_all` on the struct to know the serialized names.
pub trait Entity: Serialize + DeserializeOwned + Send + Sync {
    /// The serialized names of the key and version fields.
    const FIELDS: EntityFields;

    /// The key of the item this entity is stored as.
    fn key(&self) -> Key;

    /// The version it was loaded or last saved at; `None` if never saved.
    fn version(&self) -> Option<u64>;

    /// Sets the version; the typed layer calls it only after a successful write.
    fn set_version(&mut self, version: Option<u64>);

    /// The key fields and the version field as `(name, value)` pairs under their
    /// deserialized names, rebuilt from an item's key and version; an error says why
    /// the key does not fit this entity.
    fn stored_fields(key: &Key, version: u64) -> Result<Vec<(&'static str, Value)>, String>;

    /// The document stored for this entity: its serialized object without the key and
    /// version fields.
    fn to_document(&self, operation: Operation) -> Result<Value, Error> {
        let key = self.key();
        let mut object = match serde_json::to_value(self) {
            Ok(Value::Object(object)) => object,
            Ok(_) => {
                return Err(Error::encoding(
                    operation,
                    key,
                    std::any::type_name::<Self>(),
                    "it does not serialize to a JSON object",
                    None,
                ));
            }
            Err(source) => {
                return Err(Error::encoding(
                    operation,
                    key,
                    std::any::type_name::<Self>(),
                    "serialization failed",
                    Some(source),
                ));
            }
        };
        let fields = Self::FIELDS;
        for name in std::iter::once(fields.partition).chain(fields.sort) {
            // A key field missing here means the derive's idea of the serialized names
            // is wrong (a serde attribute it does not know): refuse rather than store
            // the key twice.
            if object.remove(name).is_none() {
                return Err(Error::encoding(
                    operation,
                    key,
                    std::any::type_name::<Self>(),
                    format!("the serialized entity has no key field `{name}`"),
                    None,
                ));
            }
        }
        // The version may be skipped by `skip_serializing_if`, so it may be absent.
        object.remove(fields.version);
        Ok(Value::Object(object))
    }

    /// The entity stored as `item` under `key`: the document with the key fields
    /// rebuilt from the key and the version from the item's version.
    fn from_item(key: &Key, item: Versioned<Value>, operation: Operation) -> Result<Self, Error>
    where
        Self: Sized,
    {
        let type_name = std::any::type_name::<Self>();
        let mut object: Map<String, Value> = match item.value {
            Value::Object(object) => object,
            _ => {
                return Err(Error::decoding(
                    operation,
                    key.clone(),
                    type_name,
                    "the stored value is not a JSON object",
                    None,
                ));
            }
        };
        let fields = Self::stored_fields(key, item.version.get())
            .map_err(|reason| Error::decoding(operation, key.clone(), type_name, reason, None))?;
        for (name, value) in fields {
            object.insert(name.to_owned(), value);
        }
        serde_json::from_value(Value::Object(object)).map_err(|source| {
            Error::decoding(
                operation,
                key.clone(),
                type_name,
                "the stored document does not deserialize",
                Some(source),
            )
        })
    }
}

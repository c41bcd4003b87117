//! Reading the `#[entity(...)]` marks and the serde attributes that change a field's
//! serialized name.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Field, LitStr, Token};

/// What `#[entity(...)]` says a field is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Partition,
    Sort,
    Version,
}

impl Role {
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Role::Partition => "#[entity(partition_key)]",
            Role::Sort => "#[entity(sort_key)]",
            Role::Version => "#[entity(version)]",
        }
    }
}

/// The role a field's `#[entity(...)]` gives it, if any.
pub(crate) fn role(field: &Field) -> syn::Result<Option<Role>> {
    let mut found: Option<Role> = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("entity")) {
        attr.parse_nested_meta(|meta| {
            let role = if meta.path.is_ident("partition_key") {
                Role::Partition
            } else if meta.path.is_ident("sort_key") {
                Role::Sort
            } else if meta.path.is_ident("version") {
                Role::Version
            } else {
                return Err(meta.error(
                    "unknown entity attribute; expected `partition_key`, `sort_key` or `version`",
                ));
            };
            if let Some(previous) = found {
                return Err(meta.error(format!(
                    "this field is already marked {}; a field has one role",
                    previous.attribute()
                )));
            }
            found = Some(role);
            Ok(())
        })?;
    }
    Ok(found)
}

/// A name that may differ between serializing and deserializing.
#[derive(Default, Clone)]
pub(crate) struct Names {
    pub(crate) serialize: Option<String>,
    pub(crate) deserialize: Option<String>,
}

/// What the serde attributes on the struct say about field names.
pub(crate) fn container_rename_all(attrs: &[Attribute]) -> syn::Result<Names> {
    let mut rules = Names::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                read_names(&meta, &mut rules)?;
                for rule in [&rules.serialize, &rules.deserialize].into_iter().flatten() {
                    if crate::case::apply(rule, "x").is_none() {
                        return Err(meta.error(format!("unknown serde rename_all rule `{rule}`")));
                    }
                }
                Ok(())
            } else {
                skip(&meta)
            }
        })?;
    }
    Ok(rules)
}

/// What a field's serde attributes say: its explicit rename, and serde attributes the
/// typed layer cannot honour on a key or version field.
pub(crate) struct FieldSerde {
    pub(crate) rename: Names,
    /// A serde attribute that changes how the field is written or whether it is.
    pub(crate) unsupported: Option<(String, proc_macro2::Span)>,
}

pub(crate) fn field_serde(field: &Field) -> syn::Result<FieldSerde> {
    let mut out = FieldSerde {
        rename: Names::default(),
        unsupported: None,
    };
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                return read_names(&meta, &mut out.rename);
            }
            const UNSUPPORTED: [&str; 8] = [
                "flatten",
                "skip",
                "skip_serializing",
                "skip_deserializing",
                "with",
                "serialize_with",
                "deserialize_with",
                "getter",
            ];
            if let Some(name) = UNSUPPORTED.iter().find(|n| meta.path.is_ident(n)) {
                out.unsupported
                    .get_or_insert(((*name).to_owned(), meta.path.span_of_first()));
            }
            skip(&meta)
        })?;
    }
    Ok(out)
}

trait SpanOfFirst {
    fn span_of_first(&self) -> proc_macro2::Span;
}

impl SpanOfFirst for syn::Path {
    fn span_of_first(&self) -> proc_macro2::Span {
        self.segments
            .first()
            .map_or_else(proc_macro2::Span::call_site, |s| s.ident.span())
    }
}

/// Reads `name = "x"` or `name(serialize = "x", deserialize = "y")`.
fn read_names(meta: &ParseNestedMeta<'_>, names: &mut Names) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let value: LitStr = meta.value()?.parse()?;
        names.serialize = Some(value.value());
        names.deserialize = Some(value.value());
        return Ok(());
    }
    meta.parse_nested_meta(|inner| {
        let value: LitStr = inner.value()?.parse()?;
        if inner.path.is_ident("serialize") {
            names.serialize = Some(value.value());
        } else if inner.path.is_ident("deserialize") {
            names.deserialize = Some(value.value());
        }
        Ok(())
    })
}

/// Skips a serde attribute this derive does not need, whatever its shape.
fn skip(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        let _: TokenStream = content.parse()?;
    }
    Ok(())
}

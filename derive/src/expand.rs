//! Generating the `Entity` impl.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Field, Fields, GenericArgument, PathArguments, Type};

use crate::attrs::{self, Names, Role};

/// A field with a role, and its serialized and deserialized names.
struct Marked<'a> {
    field: &'a Field,
    ident: &'a syn::Ident,
    serialized: String,
    deserialized: String,
}

pub(crate) fn entity(input: &DeriveInput) -> syn::Result<TokenStream> {
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => &named.named,
            _ => return Err(not_named(input)),
        },
        _ => return Err(not_named(input)),
    };
    let rename_all = attrs::container_rename_all(&input.attrs)?;

    let (mut partition, mut sort, mut version) = (None, None, None);
    for field in fields {
        let Some(role) = attrs::role(field)? else {
            continue;
        };
        let slot = match role {
            Role::Partition => &mut partition,
            Role::Sort => &mut sort,
            Role::Version => &mut version,
        };
        if let Some(Marked { ident, .. }) = slot {
            return Err(syn::Error::new(
                field
                    .ident
                    .as_ref()
                    .map_or_else(|| field.span(), |i| i.span()),
                format!(
                    "only one field can be {}; `{ident}` already is",
                    role.attribute()
                ),
            ));
        }
        *slot = Some(marked(field, role, &rename_all)?);
    }

    let name = &input.ident;
    let Some(partition) = partition else {
        return Err(syn::Error::new(
            name.span(),
            "#[derive(Entity)] needs a key: mark one field #[entity(partition_key)]",
        ));
    };
    let Some(version) = version else {
        return Err(syn::Error::new(
            name.span(),
            "#[derive(Entity)] needs a version field: mark an `Option<u64>` field #[entity(version)]",
        ));
    };
    if !is_option_u64(&version.field.ty) {
        return Err(syn::Error::new_spanned(
            &version.field.ty,
            "the #[entity(version)] field must be `Option<u64>` (`None` means never saved)",
        ));
    }

    let core = quote!(::optimist_core);
    let type_name = name.to_string();
    // Bound the impl by the trait's supertraits so a generic entity implements Entity
    // exactly when its type arguments make it serializable, sendable and shareable.
    let mut generics = input.generics.clone();
    if !generics.params.is_empty() {
        generics
            .make_where_clause()
            .predicates
            .push(syn::parse_quote!(
                Self: ::optimist_core::typed::__private::Serialize
                    + ::optimist_core::typed::__private::DeserializeOwned
                    + ::core::marker::Send
                    + ::core::marker::Sync
            ));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    let partition_ident = partition.ident;
    let partition_ty = &partition.field.ty;
    let partition_ser = &partition.serialized;
    let partition_de = &partition.deserialized;
    let version_ident = version.ident;
    let version_ser = &version.serialized;
    let version_de = &version.deserialized;

    let key_expr;
    let sort_const;
    let sort_fields;
    match &sort {
        Some(sort) => {
            let sort_ident = sort.ident;
            let sort_ty = &sort.field.ty;
            let sort_ser = &sort.serialized;
            let sort_de = &sort.deserialized;
            let part = quote_spanned!(sort_ty.span()=>
                <#sort_ty as #core::typed::KeyPart>::to_key_part(&self.#sort_ident)
            );
            key_expr = quote!(#core::Key::with_sort(
                <#partition_ty as #core::typed::KeyPart>::to_key_part(&self.#partition_ident),
                #part,
            ));
            sort_const = quote!(::core::option::Option::Some(#sort_ser));
            let missing =
                format!("the key has no sort part, but `{type_name}` has a sort-key field");
            sort_fields = quote! {
                let sort = match key.sort() {
                    ::core::option::Option::Some(sort) => sort,
                    ::core::option::Option::None => {
                        return ::core::result::Result::Err(::std::string::String::from(#missing));
                    }
                };
                let sort: #sort_ty = <#sort_ty as #core::typed::KeyPart>::from_key_part(sort)?;
                fields.push((#sort_de, #core::typed::__private::field_value(&sort)?));
            };
        }
        None => {
            key_expr = quote!(#core::Key::new(
                <#partition_ty as #core::typed::KeyPart>::to_key_part(&self.#partition_ident)
            ));
            sort_const = quote!(::core::option::Option::None);
            let extra = format!("the key has a sort part, but `{type_name}` has no sort-key field");
            sort_fields = quote! {
                if key.sort().is_some() {
                    return ::core::result::Result::Err(::std::string::String::from(#extra));
                }
            };
        }
    }

    // Key fields must implement KeyPart; say so at the field rather than deep inside
    // the generated code.
    let key_part_checks = std::iter::once(&partition).chain(sort.as_ref()).map(|m| {
        let ty = &m.field.ty;
        quote_spanned!(ty.span()=> #core::typed::__private::assert_key_part::<#ty>();)
    });

    Ok(quote! {
        impl #impl_generics #core::typed::Entity for #name #ty_generics #where_clause {
            const FIELDS: #core::typed::EntityFields = #core::typed::EntityFields {
                partition: #partition_ser,
                sort: #sort_const,
                version: #version_ser,
            };

            fn key(&self) -> #core::Key {
                #(#key_part_checks)*
                #key_expr
            }

            fn version(&self) -> ::core::option::Option<u64> {
                self.#version_ident
            }

            fn set_version(&mut self, version: ::core::option::Option<u64>) {
                self.#version_ident = version;
            }

            fn stored_fields(
                key: &#core::Key,
                version: u64,
            ) -> ::core::result::Result<
                ::std::vec::Vec<(&'static str, #core::Value)>,
                ::std::string::String,
            > {
                let mut fields = ::std::vec::Vec::with_capacity(3);
                let partition: #partition_ty =
                    <#partition_ty as #core::typed::KeyPart>::from_key_part(key.partition())?;
                fields.push((#partition_de, #core::typed::__private::field_value(&partition)?));
                #sort_fields
                fields.push((#version_de, #core::Value::from(version)));
                ::core::result::Result::Ok(fields)
            }
        }
    })
}

fn not_named(input: &DeriveInput) -> syn::Error {
    syn::Error::new(
        input.ident.span(),
        "#[derive(Entity)] needs a struct with named fields",
    )
}

fn marked<'a>(field: &'a Field, role: Role, rename_all: &Names) -> syn::Result<Marked<'a>> {
    let ident = field
        .ident
        .as_ref()
        .ok_or_else(|| syn::Error::new(field.span(), "a marked field needs a name"))?;
    let serde = attrs::field_serde(field)?;
    if let Some((attribute, span)) = serde.unsupported {
        return Err(syn::Error::new(
            span,
            format!(
                "#[serde({attribute})] is not supported on the {} field: the typed layer stores it outside the document",
                role.attribute()
            ),
        ));
    }
    let plain = ident.unraw().to_string();
    let name = |explicit: &Option<String>, rule: &Option<String>| -> String {
        explicit
            .clone()
            .or_else(|| rule.as_deref().and_then(|r| crate::case::apply(r, &plain)))
            .unwrap_or_else(|| plain.clone())
    };
    Ok(Marked {
        field,
        ident,
        serialized: name(&serde.rename.serialize, &rename_all.serialize),
        deserialized: name(&serde.rename.deserialize, &rename_all.deserialize),
    })
}

/// `Option<u64>`, spelled plainly or through `std::option` / `core::option`.
fn is_option_u64(ty: &Type) -> bool {
    let Type::Path(path) = ty else {
        return false;
    };
    if path.qself.is_some() {
        return false;
    }
    let segments: Vec<_> = path.path.segments.iter().collect();
    let Some((last, prefix)) = segments.split_last() else {
        return false;
    };
    let prefix: Vec<String> = prefix.iter().map(|s| s.ident.to_string()).collect();
    let prefix_ok =
        prefix.is_empty() || prefix == ["std", "option"] || prefix == ["core", "option"];
    if !prefix_ok || last.ident != "Option" {
        return false;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    match args.args.first() {
        Some(GenericArgument::Type(Type::Path(inner))) if args.args.len() == 1 => {
            inner.qself.is_none() && inner.path.is_ident("u64")
        }
        _ => false,
    }
}

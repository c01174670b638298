//! A typed view of the struct under `#[amplifiable]`, checked once, used by every generator.

use std::collections::HashMap;

use syn::{Fields, GenericParam, Ident, ItemStruct, Type};

use crate::attr::{self, ForwardKind, Role};
use crate::ctxt::Ctxt;

/// The checked input.
pub struct Model {
    /// The struct as it will be emitted (the `#[amp]` attributes removed).
    pub item: ItemStruct,
    pub forward: ForwardKind,
    pub dtype: Ident,
    pub device: Ident,
    /// Extra where-predicates for the generated impls.
    pub extra_bounds: Vec<syn::WherePredicate>,
    /// Path to amp-core in generated code.
    pub krate: syn::Path,
    pub fields: Vec<Field>,
}

/// One field of the struct.
pub struct Field {
    pub ident: Ident,
    pub ty: Type,
    pub role: Role,
    /// Name in the layer registry (the field name unless renamed).
    pub name: String,
    /// Type name shown as the layer's kind (`Conv2D`, `Linear`, ...).
    pub kind: String,
    /// A skipped plain number (`temperature: f32`), not a module: dfdx keeps it as a scalar
    /// (built with this value, kept by device and dtype moves), and the forward skips it.
    pub scalar: Option<syn::Expr>,
}

impl Model {
    /// Checks `item` and builds the model, or reports every problem found.
    pub fn from_ast(cx: &Ctxt, mut item: ItemStruct, attrs: attr::ModelAttrs) -> Option<Model> {
        let named = match &mut item.fields {
            Fields::Named(named) => named,
            Fields::Unnamed(_) => {
                cx.error_spanned_by(
                    &item.fields,
                    "#[amplifiable] needs a struct with named fields: the field names are the layer names",
                );
                return None;
            }
            Fields::Unit => {
                cx.error_spanned_by(
                    &item.ident,
                    "#[amplifiable] needs a struct with named fields holding its layers",
                );
                return None;
            }
        };

        let mut fields = Vec::new();
        let mut seen: HashMap<String, Ident> = HashMap::new();
        for f in named.named.iter_mut() {
            fields.extend(Field::from_syn(cx, f, &mut seen));
        }
        if named.named.is_empty() {
            cx.error_spanned_by(&item.ident, "#[amplifiable] struct has no layers");
        }

        let dtype = find_param(cx, &item, attrs.dtype.clone(), "E", "dtype");
        let device = find_param(cx, &item, attrs.device.clone(), "D", "device");
        if let Some(lt) = item.generics.lifetimes().next() {
            cx.error_spanned_by(
                lt,
                "#[amplifiable] structs own their layers: lifetime parameters are not supported",
            );
        }
        Some(Model {
            item,
            forward: attrs.forward,
            dtype: dtype?,
            device: device?,
            extra_bounds: attrs.bounds,
            krate: attrs.krate.unwrap_or_else(|| syn::parse_quote!(::amp_core)),
            fields,
        })
    }
}

impl Field {
    /// Checks one field: its attributes (removed from `f`), its registry name (unique among
    /// candidates and blocks, `seen` holds the names so far), that it is a layer, and a
    /// skipped plain number's default. `None` when it cannot be used (the error is in `cx`).
    fn from_syn(cx: &Ctxt, f: &mut syn::Field, seen: &mut HashMap<String, Ident>) -> Option<Field> {
        let fa = attr::take_field_attrs(cx, &mut f.attrs);
        let ident = f.ident.clone().expect("named field");
        let name = fa
            .rename
            .as_ref()
            .map(|l| l.value())
            .unwrap_or_else(|| syn::ext::IdentExt::unraw(&ident).to_string());
        if fa.role != Role::Skip {
            check_name(cx, &fa, &ident, &name, seen);
        }
        let Some(kind) = layer_kind(&f.ty) else {
            cx.error_spanned_by(
                &f.ty,
                format!(
                    "field `{ident}` is not a layer: #[amplifiable] fields must be dfdx modules \
                     named by a type path (like `Linear<4, 8, E, D>`), not references, tuples or arrays"
                ),
            );
            return None;
        };
        let scalar = scalar_default(cx, &fa, &ident, &f.ty)?;
        Some(Field {
            ident,
            ty: f.ty.clone(),
            role: fa.role,
            name,
            kind,
            scalar,
        })
    }
}

/// A candidate's or block's registry name: non-empty, no spaces, not used by another field.
fn check_name(
    cx: &Ctxt,
    fa: &attr::FieldAttrs,
    ident: &Ident,
    name: &str,
    seen: &mut HashMap<String, Ident>,
) {
    if let Some(lit) = &fa.rename {
        if name.is_empty() || name.contains(char::is_whitespace) {
            cx.error_spanned_by(lit, "a layer name must be non-empty and without spaces");
        }
    }
    if let Some(first) = seen.get(name) {
        let at = fa.rename.as_ref().map(|l| l.span()).unwrap_or(ident.span());
        cx.syn_error(syn::Error::new(
            at,
            format!("duplicate layer name `{name}` (also used by field `{first}`)"),
        ));
    } else {
        seen.insert(name.to_string(), ident.clone());
    }
}

/// `Some(Some(value))` for a skipped plain number (its `default = ...` or `Default`),
/// `Some(None)` for a module, `None` (with the error in `cx`) for a number that is not
/// skipped. `default = ...` on a module is reported and ignored.
fn scalar_default(
    cx: &Ctxt,
    fa: &attr::FieldAttrs,
    ident: &Ident,
    ty: &Type,
) -> Option<Option<syn::Expr>> {
    if !is_number(ty) {
        if let Some(d) = &fa.default {
            cx.error_spanned_by(d, "`default = ...` applies to plain number fields only");
        }
        return Some(None);
    }
    if fa.role != Role::Skip {
        cx.error_spanned_by(
            ty,
            format!(
                "field `{ident}` is a plain number, not a layer: mark it `#[amp(skip)]` \
                 (optionally with `default = ...`, its value when the model is built)"
            ),
        );
        return None;
    }
    Some(Some(fa.default.clone().unwrap_or_else(|| {
        syn::parse_quote!(::core::default::Default::default())
    })))
}

/// The generic type parameter that plays `role` (the dtype or the device).
fn find_param(
    cx: &Ctxt,
    item: &ItemStruct,
    chosen: Option<Ident>,
    default: &str,
    role: &str,
) -> Option<Ident> {
    let wanted = chosen
        .clone()
        .unwrap_or_else(|| Ident::new(default, item.ident.span()));
    let found = item.generics.params.iter().any(|p| match p {
        GenericParam::Type(t) => t.ident == wanted,
        _ => false,
    });
    if found {
        return Some(wanted);
    }
    let msg = match chosen {
        Some(_) => format!("`{wanted}` is not a type parameter of this struct"),
        None => format!(
            "#[amplifiable] structs are generic over a dtype and a device like dfdx modules \
             (`struct Net<E: Dtype, D: Device<E>>`); no type parameter `{default}` found \
             (name the {role} parameter with `#[amplifiable({role} = ...)]`)"
        ),
    };
    match chosen {
        Some(c) => cx.error_spanned_by(c, msg),
        None => cx.error_spanned_by(&item.ident, msg),
    }
    None
}

/// The last path segment of a field type (`Conv2D` for `amp_nn::Conv2D<3, 8, 3, 1, 1, E, D>`);
/// `None` when the type is not a path and so cannot be a module.
fn layer_kind(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.to_string()),
        Type::Group(g) => layer_kind(&g.elem),
        Type::Paren(p) => layer_kind(&p.elem),
        _ => None,
    }
}

/// Whether `ty` is a primitive number type (`f32`, `usize`, ...), which dfdx can keep in a
/// module as a scalar.
fn is_number(ty: &Type) -> bool {
    const NUMBERS: [&str; 14] = [
        "f32", "f64", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64",
        "u128", "usize",
    ];
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .get_ident()
            .is_some_and(|i| NUMBERS.contains(&i.to_string().as_str())),
        Type::Group(g) => is_number(&g.elem),
        Type::Paren(p) => is_number(&p.elem),
        _ => false,
    }
}

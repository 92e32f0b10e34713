//! What a PATCH path points at: the resource, a whole extension block, an attribute of our schemas
//! (possibly narrowed by a value filter and a sub-attribute), or an attribute of an extension we do not
//! know. Resolution happens here once, so the edits in `edit` only deal with canonical names.

use serde_json::{Map, Value};

use crate::scim::Error;
use crate::scim::filter::{self, AttrPath, CompValue, CompareOp, Filter, PatchPath};
use crate::scim::resource::{find_extension, find_key, is_foreign_extension, normalize_single};
use crate::scim::schema::{self, Attribute, AttributeType, ResourceKind, Schema};

/// The target of one operation.
#[derive(Debug, Clone)]
pub(super) enum Target {
    /// The resource itself: no path, or the core schema's URN as the path.
    Resource,
    /// A known extension's whole block, named by its URN.
    Extension(&'static Schema),
    /// An attribute of our schemas.
    Attribute(Box<AttributeTarget>),
    /// An extension we do not know: its whole block (`name` is `None`) or one of its attributes.
    Unknown { urn: String, name: Option<String>, sub: Option<String> },
}

/// An attribute of our schemas, with the value filter and sub-attribute the path narrows it to.
#[derive(Debug, Clone)]
pub(super) struct AttributeTarget {
    /// The URN of the extension whose block holds the attribute; `None` for core and common ones.
    pub extension: Option<&'static str>,
    pub attribute: &'static Attribute,
    pub filter: Option<ElementFilter>,
    pub sub: Option<&'static Attribute>,
    /// The canonical path, for messages.
    pub text: String,
}

impl AttributeTarget {
    /// A target for a whole attribute, without filter or sub-attribute.
    pub fn whole(extension: Option<&'static str>, attribute: &'static Attribute) -> Self {
        let text = match extension {
            Some(urn) => format!("{urn}:{}", attribute.name),
            None => attribute.name.to_owned(),
        };
        AttributeTarget { extension, attribute, filter: None, sub: None, text }
    }
}

/// A value filter (`emails[type eq "work"]`) resolved for one multi-valued complex attribute, able to
/// test single elements.
#[derive(Debug, Clone)]
pub(super) struct ElementFilter {
    attribute: &'static Attribute,
    /// The filter alone, resolved, with paths relative to an element (`type eq "work"`).
    pub inner: Filter,
}

impl ElementFilter {
    /// Whether one element of the attribute matches: evaluated on the element itself, allocating nothing
    /// (an operation tests every element of the list).
    pub fn matches(&self, element: &Value) -> bool {
        filter::matches_element(&self.inner, element, self.attribute)
    }

    /// The element a filter made only of `eq` comparisons on sub-attributes describes, such as
    /// `{"type": "work"}` for `type eq "work"`; `None` for any other filter. `add` and `replace` use it
    /// to create the element a filter found missing.
    pub fn template(&self) -> Option<Map<String, Value>> {
        let mut element = Map::new();
        collect_equalities(&self.inner, self.attribute, &mut element)?;
        Some(element)
    }

    /// The member ids a `members` filter names when it is `value eq "id"` or an `or` of such
    /// comparisons; `None` for any other filter.
    pub fn member_ids(&self) -> Option<Vec<String>> {
        let mut ids = Vec::new();
        collect_ids(&self.inner, &mut ids)?;
        Some(ids)
    }
}

fn collect_equalities(filter: &Filter, attribute: &'static Attribute, element: &mut Map<String, Value>) -> Option<()> {
    match filter {
        Filter::And(left, right) => {
            collect_equalities(left, attribute, element)?;
            collect_equalities(right, attribute, element)
        }
        Filter::Compare { path: AttrPath { uri: None, attr, sub_attr: None }, op: CompareOp::Eq, value } => {
            let sub = attribute.sub_attribute(attr)?;
            let value = match value {
                CompValue::Str(text) => Value::String(text.clone()),
                CompValue::Num(number) => Value::Number(number.clone()),
                CompValue::Bool(flag) => Value::Bool(*flag),
                CompValue::Null => return None,
            };
            let value = normalize_single(sub, &value, sub.name).ok()??;
            element.insert(sub.name.to_owned(), value);
            Some(())
        }
        _ => None,
    }
}

fn collect_ids(filter: &Filter, ids: &mut Vec<String>) -> Option<()> {
    match filter {
        Filter::Or(left, right) => {
            collect_ids(left, ids)?;
            collect_ids(right, ids)
        }
        Filter::Compare {
            path: AttrPath { uri: None, attr, sub_attr: None },
            op: CompareOp::Eq,
            value: CompValue::Str(id),
        } if attr == "value" => {
            ids.push(id.clone());
            Some(())
        }
        _ => None,
    }
}

/// Resolves a parsed path for `kind`. `Ok(None)` means the path names nothing we know; errors are for
/// paths that name something but cannot be used that way (a filter on a simple attribute, an unknown
/// sub-attribute after a filter, a malformed filter).
pub(super) fn resolve(
    kind: ResourceKind,
    path: &PatchPath,
    resource: &Map<String, Value>,
) -> Result<Option<Target>, Error> {
    let PatchPath { attr: attr_path, filter: path_filter, sub_attr } = path;
    if path_filter.is_none()
        && sub_attr.is_none()
        && attr_path.sub_attr.is_none()
        && let Some(uri) = &attr_path.uri
    {
        // A bare schema URN parses as URI plus last segment; whole URNs are recognised first.
        let whole = format!("{uri}:{}", attr_path.attr);
        if whole.eq_ignore_ascii_case(kind.core_schema().id) {
            return Ok(Some(Target::Resource));
        }
        if let Some(extension) = find_extension(kind, &whole) {
            return Ok(Some(Target::Extension(extension)));
        }
        if let Some((key, block)) = find_key(resource, &whole)
            && block.is_object()
        {
            return Ok(Some(Target::Unknown { urn: key.clone(), name: None, sub: None }));
        }
    }
    let Some(resolved) =
        schema::resolve_parts(kind, attr_path.uri.as_deref(), &attr_path.attr, attr_path.sub_attr.as_deref())
    else {
        return Ok(resolve_unknown_extension(path));
    };
    let extension = resolved.uri();
    let attribute = resolved.attribute;
    let mut text = match extension {
        Some(urn) => format!("{urn}:{}", attribute.name),
        None => attribute.name.to_owned(),
    };
    let Some(path_filter) = path_filter else {
        if let Some(sub) = resolved.sub_attribute {
            text = format!("{text}.{}", sub.name);
        }
        return Ok(Some(Target::Attribute(Box::new(AttributeTarget {
            extension,
            attribute,
            filter: None,
            sub: resolved.sub_attribute,
            text,
        }))));
    };
    if attribute.attr_type != AttributeType::Complex || !attribute.multi_valued {
        return Err(Error::invalid_path(format!(
            "'{text}' is not a multi-valued complex attribute, so it cannot take a value filter [...]"
        )));
    }
    let canonical = AttrPath { uri: extension.map(str::to_owned), attr: attribute.name.to_owned(), sub_attr: None };
    let wrapped = Filter::ValuePath { attr: canonical, filter: Box::new(path_filter.clone()) }
        .resolve(kind)
        .map_err(|error| Error::invalid_path(error.detail))?;
    let inner = match &wrapped {
        Filter::ValuePath { filter, .. } => (**filter).clone(),
        _ => path_filter.clone(),
    };
    text = format!("{text}[{inner}]");
    let sub = match sub_attr {
        None => None,
        Some(name) => Some(attribute.sub_attribute(name).ok_or_else(|| {
            let names: Vec<&str> = attribute.sub_attributes.iter().map(|sub| sub.name).collect();
            Error::invalid_path(format!(
                "'{}' has no sub-attribute '{name}'; its sub-attributes are {}",
                attribute.name,
                names.join(", ")
            ))
        })?),
    };
    if let Some(sub) = sub {
        text = format!("{text}.{}", sub.name);
    }
    let filter = ElementFilter { attribute, inner };
    Ok(Some(Target::Attribute(Box::new(AttributeTarget { extension, attribute, filter: Some(filter), sub, text }))))
}

/// A path into an extension we do not know: a URN-qualified name whose URN is neither our core schema
/// nor one of our extensions. Filters are not supported there (we know nothing of its attributes).
fn resolve_unknown_extension(path: &PatchPath) -> Option<Target> {
    let uri = path.attr.uri.as_deref()?;
    if !is_foreign_extension(uri) || path.filter.is_some() {
        return None;
    }
    Some(Target::Unknown {
        urn: uri.to_owned(),
        name: Some(path.attr.attr.clone()),
        sub: path.attr.sub_attr.clone().or_else(|| path.sub_attr.clone()),
    })
}

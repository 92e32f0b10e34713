//! Resolution of a parsed filter against our schemas: canonical paths, aliases, value coercion, and the
//! rejection of operator/type combinations RFC 7644 §3.4.2.2 does not support.
//!
//! [`locate`] is the one place that decides what a path means (aliases included); the evaluator calls it
//! too, so a filter evaluates the same whether or not it was resolved first. Unknown paths are left as
//! written: they name nothing, which the evaluator treats as absent.

use super::eval::parse_date_time;
use super::{AttrPath, CompValue, CompareOp, Filter};
use crate::scim::Error;
use crate::scim::resource::parse_bool;
use crate::scim::schema::{self, Attribute, AttributeType, ResourceKind};

/// What a path is relative to: a resource, or one element of a complex attribute inside `attr[...]`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scope {
    Resource(ResourceKind),
    Element(&'static Attribute),
}

/// How a path is used, which decides whether a complex attribute stands for its `value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Usage {
    Compare,
    Present,
    ValuePath,
}

/// A path that names a known attribute, and where its values live in a resource's JSON.
#[derive(Debug, Clone, Copy)]
pub(super) struct Located {
    /// The extension URN whose object holds the attribute, for extension attributes.
    pub extension: Option<&'static str>,
    pub attribute: &'static Attribute,
    pub sub_attribute: Option<&'static Attribute>,
}

impl Located {
    /// The attribute whose values are compared: the sub-attribute if there is one.
    pub fn target(&self) -> &'static Attribute {
        self.sub_attribute.unwrap_or(self.attribute)
    }

    fn canonical(&self) -> AttrPath {
        AttrPath {
            uri: self.extension.map(str::to_owned),
            attr: self.attribute.name.to_owned(),
            sub_attr: self.sub_attribute.map(|sub| sub.name.to_owned()),
        }
    }
}

/// Finds the attribute `path` names in `scope`, applying the `email` alias and, for comparisons, the
/// "complex attribute means its `value`" rule. `None` means the path names nothing we know.
pub(super) fn locate(scope: Scope, path: &AttrPath, usage: Usage) -> Option<Located> {
    let mut located = match scope {
        Scope::Resource(kind) => {
            let is_email_alias = kind == ResourceKind::User
                && path.uri.is_none()
                && path.sub_attr.is_none()
                && path.attr.eq_ignore_ascii_case("email");
            let resolved = if is_email_alias {
                schema::resolve_parts(kind, None, "emails", Some("value"))
            } else {
                schema::resolve_parts(kind, path.uri.as_deref(), &path.attr, path.sub_attr.as_deref())
            }?;
            Located { extension: resolved.uri(), attribute: resolved.attribute, sub_attribute: resolved.sub_attribute }
        }
        Scope::Element(parent) => {
            if path.uri.is_some() || path.sub_attr.is_some() {
                return None;
            }
            Located { extension: None, attribute: parent.sub_attribute(&path.attr)?, sub_attribute: None }
        }
    };
    if usage == Usage::Compare
        && located.sub_attribute.is_none()
        && located.attribute.attr_type == AttributeType::Complex
    {
        located.sub_attribute = located.attribute.sub_attribute("value");
    }
    Some(located)
}

/// Resolves `filter` in `scope` (see the module documentation of `filter`).
pub(super) fn resolve(filter: Filter, scope: Scope) -> Result<Filter, Error> {
    Ok(match filter {
        Filter::And(left, right) => Filter::and(resolve(*left, scope)?, resolve(*right, scope)?),
        Filter::Or(left, right) => Filter::or(resolve(*left, scope)?, resolve(*right, scope)?),
        Filter::Not(inner) => Filter::negate(resolve(*inner, scope)?),
        Filter::Present { path } => {
            let path = locate(scope, &path, Usage::Present).map_or(path, |located| located.canonical());
            Filter::Present { path }
        }
        Filter::Compare { path, op, value: CompValue::Null } => match op {
            CompareOp::Eq => Filter::negate(resolve(Filter::Present { path }, scope)?),
            CompareOp::Ne => resolve(Filter::Present { path }, scope)?,
            _ => {
                return Err(rejected(format!(
                    "'{path} {} null' is not supported: compare with null only using eq or ne",
                    op.as_str()
                )));
            }
        },
        Filter::Compare { path, op, value } => match locate(scope, &path, Usage::Compare) {
            None => Filter::Compare { path, op, value },
            Some(located) => {
                let value = check_comparison(&located, op, value)?;
                Filter::Compare { path: located.canonical(), op, value }
            }
        },
        Filter::ValuePath { attr, filter } => {
            if let Scope::Element(_) = scope {
                return Err(rejected(format!("value filters cannot be nested, as in '{attr}[...]'")));
            }
            match locate(scope, &attr, Usage::ValuePath) {
                None => Filter::ValuePath { attr, filter },
                Some(located) => {
                    if located.sub_attribute.is_some() || located.attribute.attr_type != AttributeType::Complex {
                        return Err(rejected(format!("'{attr}' has no sub-attributes to filter on with [...]")));
                    }
                    let filter = resolve(*filter, Scope::Element(located.attribute))?;
                    Filter::ValuePath { attr: located.canonical(), filter: Box::new(filter) }
                }
            }
        }
    })
}

fn rejected(reason: String) -> Error {
    Error::invalid_filter(format!("invalid filter: {reason}"))
}

/// Checks that `op` applies to the located attribute and returns `value` coerced to its type.
fn check_comparison(located: &Located, op: CompareOp, value: CompValue) -> Result<CompValue, Error> {
    let target = located.target();
    let name = located.canonical();
    let type_name = target.attr_type.as_str();
    let ops = op.as_str();
    match target.attr_type {
        AttributeType::Complex => {
            let example = target.sub_attributes.first().map_or("value", |sub| sub.name);
            return Err(rejected(format!(
                "'{name}' is a complex attribute; compare one of its sub-attributes, such as '{name}.{example}'"
            )));
        }
        AttributeType::Boolean | AttributeType::Binary if op.is_ordering() => {
            return Err(rejected(format!("'{name}' is a {type_name}, so '{ops}' does not apply to it")));
        }
        AttributeType::Boolean | AttributeType::Integer | AttributeType::Decimal if op.is_substring() => {
            return Err(rejected(format!("'{name}' is a {type_name}, so '{ops}' does not apply to it")));
        }
        _ => {}
    }
    coerce(value, target.attr_type, op).map_err(|()| {
        let wanted = match target.attr_type {
            AttributeType::Boolean => "true or false".to_owned(),
            AttributeType::Integer | AttributeType::Decimal => "a number".to_owned(),
            AttributeType::DateTime => "an RFC 3339 timestamp in quotes, such as \"2011-05-13T04:42:34Z\"".to_owned(),
            _ => "a quoted string".to_owned(),
        };
        rejected(format!("'{name}' is a {type_name}; compare it with {wanted}"))
    })
}

/// Converts a comparison value to the form an attribute of type `attr_type` compares with, tolerating
/// what clients send: `"True"` for a boolean, `"42"` for a number, `12345` for a string.
fn coerce(value: CompValue, attr_type: AttributeType, op: CompareOp) -> Result<CompValue, ()> {
    match (attr_type, value) {
        (AttributeType::Boolean, CompValue::Bool(flag)) => Ok(CompValue::Bool(flag)),
        (AttributeType::Boolean, CompValue::Str(text)) => parse_bool(&text).map(CompValue::Bool).ok_or(()),
        (AttributeType::Integer | AttributeType::Decimal, CompValue::Num(number)) => Ok(CompValue::Num(number)),
        (AttributeType::Integer | AttributeType::Decimal, CompValue::Str(text)) => {
            text.trim().parse().map(CompValue::Num).map_err(|_| ())
        }
        (AttributeType::DateTime, CompValue::Str(text)) => {
            if op.is_substring() || parse_date_time(&text).is_some() {
                Ok(CompValue::Str(text))
            } else {
                Err(())
            }
        }
        (AttributeType::String | AttributeType::Reference | AttributeType::Binary, CompValue::Str(text)) => {
            Ok(CompValue::Str(text))
        }
        (AttributeType::String | AttributeType::Reference | AttributeType::Binary, CompValue::Num(number)) => {
            Ok(CompValue::Str(number.to_string()))
        }
        _ => Err(()),
    }
}

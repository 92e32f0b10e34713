//! Evaluation of a filter against one resource's JSON, as the server returns it: core and common
//! attributes at the top level, extension attributes inside the object keyed by the extension's URN.
//!
//! Semantics (RFC 7644 §3.4.2.2): a multi-valued attribute matches if any of its values matches; `pr` is
//! false for null, `""`, `[]` and `{}`; strings honour the schema's `caseExact` (case-insensitive ones
//! compare after `schema::fold_case`); `gt`/`ge`/`lt`/`le` order strings lexicographically by code point,
//! numbers numerically and dateTimes chronologically (after normalising offsets, so
//! `2011-05-13T04:42:34Z` equals `2011-05-13T06:42:34+02:00`). A dateTime that does not parse falls back
//! to string comparison rather than silently matching nothing. Evaluation never fails: combinations that
//! `resolve` rejects simply do not match here.

use std::cmp::Ordering;

use serde_json::{Number, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::resolve::{Located, Scope, Usage, locate};
use super::{CompValue, CompareOp, Filter};
use crate::scim::resource::parse_bool;
use crate::scim::schema::{self, Attribute, AttributeType, ResourceKind};

/// Whether `resource` (a `kind` resource's JSON) matches `filter`.
///
/// Paths are looked up case-insensitively with the same aliases as [`Filter::resolve`], so a parsed but
/// unresolved filter evaluates the same as its resolved form (it just was not checked for unsupported
/// combinations, which do not match).
pub fn matches(filter: &Filter, resource: &Value, kind: ResourceKind) -> bool {
    evaluate(filter, resource, Scope::Resource(kind))
}

/// Whether one element of the multi-valued complex `attribute` matches `filter`, whose paths are relative
/// to an element (the inside of `attr[filter]`, resolved): what `attr[filter]` gives on a resource that
/// holds only this element, without building that resource. The PATCH engine tests every element of a
/// list this way, once per operation.
pub fn matches_element(filter: &Filter, element: &Value, attribute: &'static Attribute) -> bool {
    element.is_object() && evaluate(filter, element, Scope::Element(attribute))
}

fn evaluate(filter: &Filter, node: &Value, scope: Scope) -> bool {
    match filter {
        Filter::And(left, right) => evaluate(left, node, scope) && evaluate(right, node, scope),
        Filter::Or(left, right) => evaluate(left, node, scope) || evaluate(right, node, scope),
        Filter::Not(inner) => !evaluate(inner, node, scope),
        Filter::Present { path } => {
            locate(scope, path, Usage::Present).is_some_and(|located| is_present(node, &located))
        }
        Filter::Compare { path, op, value: CompValue::Null } => {
            let present = locate(scope, path, Usage::Present).is_some_and(|located| is_present(node, &located));
            match op {
                CompareOp::Eq => !present,
                CompareOp::Ne => present,
                _ => false,
            }
        }
        Filter::Compare { path, op, value } => {
            let (op, negate) = match op {
                CompareOp::Ne => (CompareOp::Eq, true),
                other => (*other, false),
            };
            let any = locate(scope, path, Usage::Compare).is_some_and(|located| {
                let target = located.target();
                values(node, &located).into_iter().any(|actual| compare(actual, op, value, target))
            });
            any != negate
        }
        Filter::ValuePath { attr, filter } => {
            if let Scope::Element(_) = scope {
                return false;
            }
            let Some(located) = locate(scope, attr, Usage::ValuePath) else { return false };
            if located.sub_attribute.is_some() || located.attribute.attr_type != AttributeType::Complex {
                return false;
            }
            let element_scope = Scope::Element(located.attribute);
            values(node, &located)
                .into_iter()
                .any(|element| element.is_object() && evaluate(filter, element, element_scope))
        }
    }
}

/// A member of a JSON object by name: exactly as stored (canonical names), else in any case.
fn member<'v>(node: &'v Value, name: &str) -> Option<&'v Value> {
    let object = node.as_object()?;
    object.get(name).or_else(|| object.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// The items of an array, or the value itself.
fn items(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

/// Every value the located path has in `node`, with multi-valued attributes flattened.
fn values<'v>(node: &'v Value, located: &Located) -> Vec<&'v Value> {
    let container = match located.extension {
        Some(urn) => member(node, urn),
        None => Some(node),
    };
    let Some(top) = container.and_then(|container| member(container, located.attribute.name)) else {
        return Vec::new();
    };
    match located.sub_attribute {
        None => items(top).iter().collect(),
        Some(sub) => items(top)
            .iter()
            .filter_map(|element| member(element, sub.name))
            .flat_map(|value| items(value).iter())
            .collect(),
    }
}

fn is_present(node: &Value, located: &Located) -> bool {
    values(node, located).into_iter().any(has_value)
}

/// RFC 7644 `pr`: "a non-empty value, or ... a non-empty node for complex attributes".
fn has_value(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => items.iter().any(has_value),
        Value::Object(members) => members.values().any(has_value),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Compares one stored value with the filter's value (`ne` never gets here: it is `not eq`).
fn compare(actual: &Value, op: CompareOp, expected: &CompValue, target: &Attribute) -> bool {
    match target.attr_type {
        AttributeType::Complex => false,
        AttributeType::Boolean => {
            let actual = match actual {
                Value::Bool(flag) => Some(*flag),
                Value::String(text) => parse_bool(text),
                _ => None,
            };
            let expected = match expected {
                CompValue::Bool(flag) => Some(*flag),
                CompValue::Str(text) => parse_bool(text),
                _ => None,
            };
            op == CompareOp::Eq && actual.is_some() && actual == expected
        }
        AttributeType::Integer | AttributeType::Decimal => {
            let actual = match actual {
                Value::Number(number) => Some(number.clone()),
                Value::String(text) => text.trim().parse().ok(),
                _ => None,
            };
            let expected = match expected {
                CompValue::Num(number) => Some(number.clone()),
                CompValue::Str(text) => text.trim().parse().ok(),
                _ => None,
            };
            match (actual, expected) {
                (Some(actual), Some(expected)) => {
                    compare_numbers(&actual, &expected).is_some_and(|order| accepts(op, order))
                }
                _ => false,
            }
        }
        AttributeType::DateTime => {
            let (Some(actual), CompValue::Str(expected)) = (actual.as_str(), expected) else { return false };
            if !op.is_substring()
                && let (Some(left), Some(right)) = (parse_date_time(actual), parse_date_time(expected))
            {
                return accepts(op, left.cmp(&right));
            }
            compare_text(actual, op, expected, target.case_exact)
        }
        AttributeType::String | AttributeType::Reference | AttributeType::Binary => {
            let Some(actual) = actual.as_str() else { return false };
            match expected {
                CompValue::Str(expected) => compare_text(actual, op, expected, target.case_exact),
                CompValue::Num(number) => compare_text(actual, op, &number.to_string(), target.case_exact),
                CompValue::Bool(_) | CompValue::Null => false,
            }
        }
    }
}

fn compare_text(actual: &str, op: CompareOp, expected: &str, case_exact: bool) -> bool {
    if !case_exact {
        return compare_text(&schema::fold_case(actual), op, &schema::fold_case(expected), true);
    }
    match op {
        CompareOp::Co => actual.contains(expected),
        CompareOp::Sw => actual.starts_with(expected),
        CompareOp::Ew => actual.ends_with(expected),
        _ => accepts(op, actual.cmp(expected)),
    }
}

/// Compares integers exactly and anything else as `f64`.
fn compare_numbers(left: &Number, right: &Number) -> Option<Ordering> {
    if let (Some(left), Some(right)) = (left.as_i64(), right.as_i64()) {
        return Some(left.cmp(&right));
    }
    if let (Some(left), Some(right)) = (left.as_u64(), right.as_u64()) {
        return Some(left.cmp(&right));
    }
    left.as_f64()?.partial_cmp(&right.as_f64()?)
}

/// Whether an ordering satisfies an ordering or equality operator.
fn accepts(op: CompareOp, order: Ordering) -> bool {
    match op {
        CompareOp::Eq => order == Ordering::Equal,
        CompareOp::Ne => order != Ordering::Equal,
        CompareOp::Gt => order == Ordering::Greater,
        CompareOp::Ge => order != Ordering::Less,
        CompareOp::Lt => order == Ordering::Less,
        CompareOp::Le => order != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// Parses an RFC 3339 timestamp (`xsd:dateTime` as SCIM uses it); instants compare across offsets.
pub(super) fn parse_date_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

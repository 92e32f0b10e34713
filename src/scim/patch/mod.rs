//! The PATCH engine (RFC 7644 §3.5.2): reading a `PatchOp` request and applying its operations to a
//! resource's stored attributes.
//!
//! [`parse_request`] checks the message's shape and parses each `path`; [`apply`] runs the operations in
//! order against a copy of the resource (canonical form, as [`normalize`](super::resource::normalize)
//! returns it, without Group `members`) and replaces the original only if every operation succeeded, so a
//! request is all or nothing. Group membership never touches the JSON: every operation on `members`
//! becomes a [`MemberChange`], returned in order for the store to apply to its rows. The caller normalises
//! the result afterwards; a `password` set by PATCH is left in the map for that step to take out.
//!
//! Path forms: none (the value is an object whose keys are applied as if each were a path: plain,
//! dotted, URN-qualified, value-filtered, or a whole extension block keyed by its URN), `attr`,
//! `attr.sub`, `attr[filter]`, `attr[filter].sub`, their URN-qualified spellings, and a bare schema URN.
//!
//! Decisions, where the RFC leaves room or real clients depart from it:
//! - **Op names** in any case (Entra sends `Replace`); values are typed and coerced as `normalize` does,
//!   at apply time, so `{"op":"Replace","path":"active","value":"False"}` stores `false`.
//! - **`null`** in `replace` unassigns; in `add` it adds nothing.
//! - **Filters that match nothing**: `remove` succeeds without change (Okta removes members it thinks
//!   may be there). `add`/`replace` with a filter made only of `eq` comparisons
//!   (`emails[type eq "work"].value`) append a new element built from those comparisons and the value;
//!   with any other filter they fail with `noTarget`, as RFC 7644 §3.5.2.3 says for `replace`.
//! - **Removing a required attribute** (`userName`, Group `displayName`), or replacing it with `null`,
//!   is `mutability`, the code RFC 7644 §3.5.2.2 gives for "removed ... and is defined as a required
//!   attribute"; an empty string is left for `normalize` to reject as `invalidValue`.
//! - **readOnly attributes**: `id` equal to the resource's own id is accepted and ignored (Okta's group
//!   rename sends it); `schemas` is ignored anywhere (it is recomputed); `meta` is ignored as a key of a
//!   no-path value (clients echo it) but is `mutability` as an explicit path; anything else readOnly is
//!   `mutability` unless its value is empty. readOnly sub-attributes (`manager.displayName`) are
//!   `mutability` as a path and dropped silently inside a value object, as `normalize` drops them.
//! - **Unknown attributes**: `invalidPath` in a `path`; ignored as keys of a no-path value object,
//!   consistent with `normalize`. Attributes of an unknown extension URN (Entra's custom
//!   `urn:...:CustomExtensionName:2.0:User:tag`) are stored verbatim in that extension's block.
//! - **`remove` with a `value`** on a multi-valued attribute (Entra's `{"op":"Remove","path":"members",
//!   "value":[{"value":"id"}]}`) removes the listed values, matched on their `value` sub-attribute; without
//!   a value it removes them all. RFC 7644 defines no `value` on `remove`, so honouring it cannot break a
//!   conforming client, while ignoring it would empty the group.
//! - **`primary`**: when an operation makes a value primary, other values of that attribute that were
//!   primary become `"primary": false` (RFC 7644 §3.5.2).
//! - **A bare id for a complex attribute** (Entra's `manager`) replaces the whole complex value; an
//!   object merges sub-attributes (RFC 7644 §3.5.2.1 and §3.5.2.3).
//! - **`remove password`** has no JSON to change and is accepted without effect.
//! - **`members[<filter>]`** other than `value eq` comparisons becomes [`MemberChange::RemoveWhere`]; a
//!   path in it that names no member sub-attribute is left as written and should match nothing, as
//!   unknown attributes do in filters.
//!
//! Deliberately absent: JSON Patch (RFC 6902) array indexes and `move`/`copy`/`test`, which SCIM does not
//! have; uniqueness and required-attribute checks on the result (the caller's `normalize` and store).

mod edit;
#[cfg(test)]
mod proptests;
mod target;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_clients;
#[cfg(test)]
mod tests_semantics;

use serde_json::{Map, Value};

use super::Error;
use super::filter::{Filter, PatchPath, parse_patch_path};
use super::resource::{Member, describe, find_key, normalize};
use super::schema::ResourceKind;

/// The schema URI of a PATCH request body (RFC 7644 §3.5.2).
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The operations RFC 7644 §3.5.2 defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    Add,
    Remove,
    Replace,
}

impl OpKind {
    /// The operation as RFC 7644 spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Remove => "remove",
            OpKind::Replace => "replace",
        }
    }

    /// The operation named `word`, in any case (Entra sends `Add`, `Replace`, `Remove`).
    pub fn from_word(word: &str) -> Option<OpKind> {
        [OpKind::Add, OpKind::Remove, OpKind::Replace].into_iter().find(|op| op.as_str().eq_ignore_ascii_case(word))
    }
}

/// One operation of a PATCH request, parsed but not yet resolved against a resource type.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    /// The `value` member as sent; `Some(Value::Null)` when the client sent `null`.
    pub value: Option<Value>,
}

/// A change to a group's membership, for the store to apply to its rows in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberChange {
    /// Add these members (already members are left as they are).
    Add(Vec<Member>),
    /// Remove the members with these ids (ids that are not members are ignored).
    Remove(Vec<String>),
    /// Remove the members matching this filter, resolved relative to one member: its paths are
    /// `value`, `display` and `type` (from `members[type eq "Group"]`).
    RemoveWhere(Filter),
    /// Remove every member.
    RemoveAll,
    /// Make these the group's only members.
    Replace(Vec<Member>),
}

/// Reads a PATCH request body: the `PatchOp` message's shape, each operation's `op`, `path` and `value`.
///
/// Member names are matched case-insensitively (`Operations`, `operations`). A missing `schemas` is
/// tolerated because some clients omit it; one that does not name [`PATCH_SCHEMA`] is `invalidSyntax`.
/// More than `max_operations` operations are refused (413, as `/Bulk` refuses more than its
/// `maxOperations`) before any is parsed: one request must not hold the writer for long.
pub fn parse_request(body: &Value, max_operations: usize) -> Result<Vec<PatchOp>, Error> {
    let Some(object) = body.as_object() else {
        return Err(Error::invalid_syntax(format!(
            "a PATCH body must be a JSON object with \"schemas\": [\"{PATCH_SCHEMA}\"] and an \"Operations\" array, not {}",
            describe(body)
        )));
    };
    check_schemas(find_key(object, "schemas").map(|(_, value)| value))?;
    let operations = match find_key(object, "Operations").map(|(_, value)| value) {
        Some(Value::Array(operations)) if operations.len() > max_operations => {
            return Err(Error::payload_too_large(format!(
                "a PATCH request may hold at most {max_operations} operations; this one holds {}: send them in \
                 several requests",
                operations.len()
            )));
        }
        Some(Value::Array(operations)) if !operations.is_empty() => operations,
        Some(Value::Array(_)) => {
            return Err(Error::invalid_syntax("\"Operations\" is empty; send at least one add, remove or replace"));
        }
        Some(other) => {
            return Err(Error::invalid_syntax(format!(
                "\"Operations\" must be an array of operations, not {}",
                describe(other)
            )));
        }
        None => {
            return Err(Error::invalid_syntax(
                "a PATCH body needs an \"Operations\" array, such as [{\"op\": \"replace\", \"path\": \"active\", \"value\": false}]",
            ));
        }
    };
    operations
        .iter()
        .enumerate()
        .map(|(index, operation)| {
            parse_op(operation)
                .map_err(|error| Error::new(error.kind, format!("operation {}: {}", index + 1, error.detail)))
        })
        .collect()
}

fn check_schemas(schemas: Option<&Value>) -> Result<(), Error> {
    let names_patch = |value: &Value| value.as_str().is_some_and(|uri| uri.eq_ignore_ascii_case(PATCH_SCHEMA));
    let ok = match schemas {
        None | Some(Value::Null) => true,
        Some(Value::Array(uris)) => uris.is_empty() || uris.iter().any(names_patch),
        Some(other) => names_patch(other),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_syntax(format!("\"schemas\" of a PATCH body must be [\"{PATCH_SCHEMA}\"]")))
    }
}

fn parse_op(operation: &Value) -> Result<PatchOp, Error> {
    let Some(object) = operation.as_object() else {
        return Err(Error::invalid_syntax(format!(
            "each operation must be an object such as {{\"op\": \"add\", \"path\": \"...\", \"value\": ...}}, not {}",
            describe(operation)
        )));
    };
    let op = match find_key(object, "op").map(|(_, value)| value) {
        Some(Value::String(word)) => OpKind::from_word(word).ok_or_else(|| {
            Error::invalid_syntax(format!(
                "unknown op {}: use \"add\", \"remove\" or \"replace\"",
                Value::String(word.clone())
            ))
        })?,
        Some(other) => {
            return Err(Error::invalid_syntax(format!(
                "\"op\" must be \"add\", \"remove\" or \"replace\", not {}",
                describe(other)
            )));
        }
        None => {
            return Err(Error::invalid_syntax("the operation has no \"op\"; use \"add\", \"remove\" or \"replace\""));
        }
    };
    let path = match find_key(object, "path").map(|(_, value)| value) {
        None | Some(Value::Null) => None,
        // Some clients send an empty path for "no path".
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) => Some(parse_patch_path(text)?),
        Some(other) => {
            return Err(Error::invalid_path(format!(
                "\"path\" must be a string such as \"name.familyName\", not {}",
                describe(other)
            )));
        }
    };
    let value = find_key(object, "value").map(|(_, value)| value.clone());
    match (op, &path, &value) {
        (OpKind::Remove, None, _) => Err(Error::no_target(
            "\"remove\" needs a \"path\" naming what to remove, such as \"members[value eq \\\"<id>\\\"]\"",
        )),
        (OpKind::Add | OpKind::Replace, _, None) => {
            Err(Error::invalid_value(format!("\"{}\" needs a \"value\"", op.as_str())))
        }
        _ => Ok(PatchOp { op, path, value }),
    }
}

/// Applies `ops` in order to `resource` (the stored attributes of resource `id` in canonical form,
/// without Group `members`). On success `resource` holds the result and the membership changes are
/// returned in order; on error `resource` is unchanged. Never panics, whatever the operations hold.
pub fn apply(
    kind: ResourceKind,
    id: &str,
    resource: &mut Map<String, Value>,
    ops: &[PatchOp],
) -> Result<Vec<MemberChange>, Error> {
    let mut editor = edit::Editor::new(kind, id, resource.clone());
    for (index, op) in ops.iter().enumerate() {
        editor.apply(op).map_err(|error| {
            let what = match &op.path {
                Some(path) => format!("{} '{path}'", op.op.as_str()),
                None => op.op.as_str().to_owned(),
            };
            Error::new(error.kind, format!("operation {} ({what}): {}", index + 1, error.detail))
        })?;
    }
    let (mut result, changes) = editor.finish();
    // `schemas` follows the extension blocks present; the caller's `normalize` recomputes it too, but a
    // result that lists a removed extension should not exist even briefly.
    let refreshed =
        normalize(kind, &Value::Object(result.clone())).ok().and_then(|out| out.attributes.get("schemas").cloned());
    if let Some(schemas) = refreshed {
        result.insert("schemas".to_owned(), schemas);
    }
    *resource = result;
    Ok(changes)
}

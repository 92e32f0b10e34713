//! The canonical form of a resource: what a client's POST or PUT body (or the result of a PATCH) becomes
//! before the store keeps it.
//!
//! [`normalize`] checks a body against our schemas and rewrites it into one shape, so the rest of the
//! server (the store, the PATCH engine, rendering) only ever sees that shape:
//! - attribute names in their canonical spelling, matched case-insensitively;
//! - extension attributes inside one object keyed by the extension's URN, whether the client sent that
//!   block or URN-qualified top-level keys such as `urn:...:enterprise:2.0:User:department`;
//! - values of the schema's type, with the coercions real clients need: `"True"`/`"false"` for booleans
//!   (Entra), quoted numbers for numbers, unquoted numbers for strings, a single value for a multi-valued
//!   attribute, and a bare value for a complex attribute with a `value` sub-attribute, which stands for
//!   that sub-attribute (Microsoft's provisioning tutorial shows `"manager": "123456"` inside the
//!   enterprise block; `"emails": ["a@example.com"]` reads the same way);
//! - `null`, `[]` and `{}` mean "unassigned", so such attributes are left out; every other value is kept
//!   exactly as sent (Entra asks servers not to transform values, so `userName` is never lower-cased);
//! - a `schemas` list recomputed from what is present: the core URN, the known extensions in use, and
//!   any unknown extension blocks kept.
//!
//! Tolerances, deliberate and documented because clients rely on them:
//! - Server-set and readOnly attributes (`id`, `meta`, User `groups`, readOnly sub-attributes such as
//!   `manager.displayName`) are dropped silently, because Okta and Entra echo what they read.
//! - Unknown plain attribute names (and dotted names such as `name.givenName`, which belong to PATCH) are
//!   ignored rather than rejected; RFC 7644 §3.3 lets a service provider ignore attributes it does not
//!   define, and a 400 would fail a whole provisioning run over an attribute mapping nobody uses.
//! - Unknown extension blocks (a `urn:` key naming no schema we know, with an object value) are kept
//!   verbatim and listed in `schemas`: Okta and Entra put custom attributes there. An unknown URN key
//!   with a non-object value is read as a qualified attribute of that unknown extension and moved into
//!   its block, as known extensions are. Schemas of the other resource type and the IETF's reserved
//!   `urn:ietf:params:scim:schemas:core:` and `urn:ietf:params:scim:api:` namespaces never count as
//!   unknown extensions; keys naming them are ignored.
//! - Unknown URIs in the client's own `schemas` list are tolerated (Entra sends a Microsoft group URI).
//!
//! Two attributes are taken out of the JSON: User `password` (writeOnly; hashed by the caller, never
//! stored as JSON) and Group `members` (kept as rows by the store).
//!
//! Deliberately absent: uniqueness (the store checks it), the `id`/`meta` the server sets, `$ref` values
//! (the renderer writes our own), and the PATCH engine, which uses the helpers here to type its values.

use serde_json::{Map, Number, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Error;
use super::schema::{self, Attribute, AttributeType, Mutability, ResourceKind, Schema};

#[cfg(test)]
mod tests;

/// A resource body in canonical form, with the values that are not kept as JSON taken out.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// Canonical attribute names; extension attributes under their URN key; includes `schemas`.
    pub attributes: Map<String, Value>,
    /// The User `password` (writeOnly), taken out of `attributes`.
    pub password: Option<String>,
    /// The Group `members`, taken out of `attributes`: `None` when the body does not mention `members`,
    /// `Some(vec![])` when it sends `null` or `[]` (which a PUT uses to empty the group).
    pub members: Option<Vec<Member>>,
}

/// One member of a group as a client sent it. `$ref` is not kept: we render our own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub value: String,
    pub kind: Option<MemberKind>,
    pub display: Option<String>,
}

/// The resource type of a group member (the `type` sub-attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberKind {
    User,
    Group,
}

impl MemberKind {
    pub fn as_str(self) -> &'static str {
        self.resource_kind().as_str()
    }

    /// The resource type a member of this kind is.
    pub fn resource_kind(self) -> ResourceKind {
        match self {
            MemberKind::User => ResourceKind::User,
            MemberKind::Group => ResourceKind::Group,
        }
    }
}

/// Checks `body` against `kind`'s schemas and returns it in canonical form (see the module
/// documentation). Used for POST and PUT bodies and for the result of a PATCH; normalising an already
/// normalised resource changes nothing.
pub fn normalize(kind: ResourceKind, body: &Value) -> Result<Normalized, Error> {
    let Some(object) = body.as_object() else {
        return Err(Error::invalid_syntax(format!(
            "the request body must be a JSON object (a SCIM {} resource), not {}",
            kind.as_str(),
            describe(body)
        )));
    };
    let mut out = Normalized { attributes: Map::new(), password: None, members: None };
    // Extension blocks are collected separately so that a block and URN-qualified keys for the same
    // extension merge, and so `schemas` can list them in a stable order.
    let mut extensions: Vec<(&'static Schema, Map<String, Value>)> = Vec::new();
    let mut unknown: Map<String, Value> = Map::new();
    let core = kind.core_schema();

    for (key, value) in object {
        if key.eq_ignore_ascii_case(core.id) {
            // A block keyed by the core URN is unusual but unambiguous: its members are core attributes.
            if let Some(inner) = value.as_object() {
                for (name, value) in inner {
                    if !looks_like_urn(name) {
                        take_core_attribute(kind, name, value, &mut out, &mut extensions)?;
                    }
                }
            }
        } else if let Some(extension) = find_extension(kind, key) {
            let block = extension_block(&mut extensions, extension);
            merge_extension_block(extension, value, block)?;
        } else if looks_like_urn(key) {
            take_urn_key(kind, key, value, &mut out, &mut extensions, &mut unknown)?;
        } else {
            take_core_attribute(kind, key, value, &mut out, &mut extensions)?;
        }
    }

    check_required(kind, &out.attributes)?;

    let mut schemas = vec![Value::from(core.id)];
    // Extensions are listed in the order the schema module declares them, whatever order the body used.
    for extension in kind.extensions() {
        if let Some(index) = extensions.iter().position(|(schema, _)| schema.id == extension.id) {
            let (_, block) = extensions.swap_remove(index);
            if !block.is_empty() {
                schemas.push(Value::from(extension.id));
                out.attributes.insert(extension.id.to_owned(), Value::Object(block));
            }
        }
    }
    for (urn, block) in unknown {
        if !is_unassigned(&block) {
            schemas.push(Value::from(urn.as_str()));
            out.attributes.insert(urn, block);
        }
    }
    out.attributes.insert("schemas".to_owned(), Value::Array(schemas));
    Ok(out)
}

/// Handles one top-level key that is not a URN: a core or common attribute, or an unqualified extension
/// attribute (which [`schema::resolve_parts`] finds in the extension, as filters do).
fn take_core_attribute(
    kind: ResourceKind,
    name: &str,
    value: &Value,
    out: &mut Normalized,
    extensions: &mut Vec<(&'static Schema, Map<String, Value>)>,
) -> Result<(), Error> {
    let Some(resolved) = schema::resolve_parts(kind, None, name, None) else { return Ok(()) };
    let attribute = resolved.attribute;
    if kind == ResourceKind::User && attribute.name == "password" {
        out.password = normalize_password(value)?;
        return Ok(());
    }
    if kind == ResourceKind::Group && attribute.name == "members" {
        out.members = Some(parse_members(value)?);
        return Ok(());
    }
    if attribute.mutability == Mutability::ReadOnly {
        return Ok(());
    }
    if resolved.is_extension {
        let block = extension_block(extensions, resolved.schema);
        set_attribute(block, attribute, value, &qualified(resolved.schema.id, attribute.name))
    } else {
        set_attribute(&mut out.attributes, attribute, value, attribute.name)
    }
}

/// Handles a top-level key that starts with `urn:` but is not a whole schema URN we know: a qualified
/// attribute (`urn:...:enterprise:2.0:User:department`, `urn:...:core:2.0:User:userName`), or an
/// unknown extension.
fn take_urn_key(
    kind: ResourceKind,
    key: &str,
    value: &Value,
    out: &mut Normalized,
    extensions: &mut Vec<(&'static Schema, Map<String, Value>)>,
    unknown: &mut Map<String, Value>,
) -> Result<(), Error> {
    let Some((uri, name)) = key.rsplit_once(':') else { return Ok(()) };
    if uri.eq_ignore_ascii_case(kind.core_schema().id) {
        return take_core_attribute(kind, name, value, out, extensions);
    }
    if let Some(extension) = find_extension(kind, uri) {
        // A known extension: a known attribute is kept, an unknown one ignored like any unknown name.
        if let Some(attribute) = extension.attribute(name)
            && attribute.mutability != Mutability::ReadOnly
        {
            let block = extension_block(extensions, extension);
            set_attribute(block, attribute, value, &qualified(extension.id, attribute.name))?;
        }
        return Ok(());
    }
    if is_unassigned(value) {
        return Ok(());
    }
    if value.is_object() {
        // An unknown extension block, kept verbatim (merged if the same URN appears twice).
        if is_foreign_extension(key) {
            merge_unknown(unknown, key, None, value);
        }
    } else if !name.is_empty() && is_foreign_extension(uri) {
        merge_unknown(unknown, uri, Some(name), value);
    }
    Ok(())
}

/// Puts `value` into the unknown extension block `urn` (as the whole block when `name` is `None`).
fn merge_unknown(unknown: &mut Map<String, Value>, urn: &str, name: Option<&str>, value: &Value) {
    let key = find_key(unknown, urn).map_or_else(|| urn.to_owned(), |(key, _)| key.clone());
    let block = unknown.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !block.is_object() {
        *block = Value::Object(Map::new());
    }
    let Value::Object(block) = block else { return };
    match (name, value) {
        (Some(name), value) => {
            block.insert(name.to_owned(), value.clone());
        }
        (None, Value::Object(members)) => {
            for (name, value) in members {
                block.insert(name.clone(), value.clone());
            }
        }
        (None, _) => {}
    }
}

/// Merges a known extension's block (`"urn:...:enterprise:2.0:User": {...}`) into `block`.
fn merge_extension_block(
    extension: &'static Schema,
    value: &Value,
    block: &mut Map<String, Value>,
) -> Result<(), Error> {
    match value {
        Value::Null => Ok(()),
        Value::Object(members) => {
            for (name, value) in members {
                if let Some(attribute) = extension.attribute(name)
                    && attribute.mutability != Mutability::ReadOnly
                {
                    set_attribute(block, attribute, value, &qualified(extension.id, attribute.name))?;
                }
            }
            Ok(())
        }
        other => Err(Error::invalid_value(format!(
            "'{}' must be an object of that extension's attributes, not {}",
            extension.id,
            describe(other)
        ))),
    }
}

/// Normalises `value` for `attribute` and stores it under the canonical name (or removes the attribute
/// when the value is unassigned).
fn set_attribute(
    target: &mut Map<String, Value>,
    attribute: &'static Attribute,
    value: &Value,
    path: &str,
) -> Result<(), Error> {
    remove_key(target, attribute.name);
    if let Some(value) = normalize_value(attribute, value, path)? {
        target.insert(attribute.name.to_owned(), value);
    }
    Ok(())
}

fn check_required(kind: ResourceKind, attributes: &Map<String, Value>) -> Result<(), Error> {
    let (name, example) = match kind {
        ResourceKind::User => ("userName", "\"userName\": \"bjensen@example.com\""),
        ResourceKind::Group => ("displayName", "\"displayName\": \"Engineering\""),
    };
    match attributes.get(name) {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(()),
        _ => Err(Error::invalid_value(format!(
            "'{name}' is required for a {} and must be a non-empty string, as in {example}",
            kind.as_str()
        ))),
    }
}

fn normalize_password(value: &Value) -> Result<Option<String>, Error> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        other => Err(Error::invalid_value(format!("'password' must be a string, not {}", describe(other)))),
    }
}

/// Reads a Group's `members` value: an array of member objects (a single object is accepted too).
/// Duplicates (by `value`) are dropped, keeping the first.
pub(crate) fn parse_members(value: &Value) -> Result<Vec<Member>, Error> {
    let elements: &[Value] = match value {
        Value::Null => &[],
        Value::Array(elements) => elements,
        other => std::slice::from_ref(other),
    };
    let mut members: Vec<Member> = Vec::with_capacity(elements.len());
    for element in elements {
        let member = parse_member(element)?;
        if !members.iter().any(|seen| seen.value == member.value) {
            members.push(member);
        }
    }
    Ok(members)
}

fn parse_member(element: &Value) -> Result<Member, Error> {
    let Some(object) = element.as_object() else {
        return Err(Error::invalid_value(format!(
            "each element of 'members' must be an object such as {{\"value\": \"<id>\"}}, not {}",
            describe(element)
        )));
    };
    let value = match find_key(object, "value").map(|(_, value)| value) {
        Some(Value::String(text)) if !text.trim().is_empty() => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => {
            return Err(Error::invalid_value(
                "each element of 'members' needs a 'value' holding the member's id, as in {\"value\": \"<id>\"}",
            ));
        }
    };
    let kind = match find_key(object, "type").map(|(_, value)| value) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.eq_ignore_ascii_case("user") => Some(MemberKind::User),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("group") => Some(MemberKind::Group),
        Some(other) => {
            return Err(Error::invalid_value(format!(
                "'members.type' must be \"User\" or \"Group\", not {}",
                describe(other)
            )));
        }
    };
    let display = match find_key(object, "display").map(|(_, value)| value) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Number(number)) => Some(number.to_string()),
        Some(other) => {
            return Err(Error::invalid_value(format!("'members.display' must be a string, not {}", describe(other))));
        }
    };
    Ok(Member { value, kind, display })
}

/// The most values one multi-valued attribute of a resource holds (Group `members` are rows, not
/// bounded by this). Without a bound, PATCHes that each add values would grow one user without limit,
/// and every later PATCH and read of it with it.
pub const MAX_VALUES: usize = 1000;

/// Normalises a value for `attribute`, multi-valued or not. `Ok(None)` means unassigned.
pub(crate) fn normalize_value(
    attribute: &'static Attribute,
    value: &Value,
    path: &str,
) -> Result<Option<Value>, Error> {
    if !attribute.multi_valued {
        return normalize_single(attribute, value, path);
    }
    // A single value where the schema wants several is wrapped: some clients send one email object.
    let elements: &[Value] = match value {
        Value::Array(elements) => elements,
        other => std::slice::from_ref(other),
    };
    if elements.len() > MAX_VALUES {
        return Err(Error::invalid_value(format!(
            "'{path}' has {} values; an attribute holds at most {MAX_VALUES}",
            elements.len()
        )));
    }
    let mut out = Vec::with_capacity(elements.len());
    for element in elements {
        if let Some(element) = normalize_single(attribute, element, path)? {
            out.push(element);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    if attribute.attr_type == AttributeType::Complex {
        let primaries = out.iter().filter(|element| element.get("primary") == Some(&Value::Bool(true))).count();
        if primaries > 1 {
            return Err(Error::invalid_value(format!(
                "'{path}' has {primaries} values marked \"primary\": true; at most one may be primary"
            )));
        }
    }
    Ok(Some(Value::Array(out)))
}

/// Normalises one value (one element, for a multi-valued attribute). `Ok(None)` means unassigned.
pub(crate) fn normalize_single(
    attribute: &'static Attribute,
    value: &Value,
    path: &str,
) -> Result<Option<Value>, Error> {
    if value.is_null() {
        return Ok(None);
    }
    let type_error = |wanted: &str| Error::invalid_value(format!("'{path}' must be {wanted}, not {}", describe(value)));
    match attribute.attr_type {
        AttributeType::String | AttributeType::Reference | AttributeType::Binary => match value {
            Value::String(_) => Ok(Some(value.clone())),
            // An unquoted number for a string (`"employeeNumber": 12345`) keeps its digits.
            Value::Number(number) => Ok(Some(Value::String(number.to_string()))),
            _ => Err(type_error("a string")),
        },
        AttributeType::Boolean => match value {
            Value::Bool(_) => Ok(Some(value.clone())),
            Value::String(text) => {
                // Surrounding spaces are ignored in a body, not in a filter.
                parse_bool(text.trim()).map(|flag| Some(Value::Bool(flag))).ok_or_else(|| type_error("true or false"))
            }
            _ => Err(type_error("true or false")),
        },
        AttributeType::Integer => {
            let number = match value {
                Value::Number(number) => Some(number.clone()),
                Value::String(text) => text.trim().parse::<Number>().ok(),
                _ => None,
            };
            match number {
                Some(number) if number.is_i64() || number.is_u64() => Ok(Some(Value::Number(number))),
                _ => Err(type_error("an integer")),
            }
        }
        AttributeType::Decimal => match value {
            Value::Number(_) => Ok(Some(value.clone())),
            Value::String(text) => text
                .trim()
                .parse::<Number>()
                .map(|number| Some(Value::Number(number)))
                .map_err(|_| type_error("a number")),
            _ => Err(type_error("a number")),
        },
        AttributeType::DateTime => match value {
            Value::String(text) if OffsetDateTime::parse(text, &Rfc3339).is_ok() => Ok(Some(value.clone())),
            _ => Err(type_error("an RFC 3339 timestamp such as \"2011-05-13T04:42:34Z\"")),
        },
        AttributeType::Complex => normalize_complex(attribute, value, path),
    }
}

fn normalize_complex(attribute: &'static Attribute, value: &Value, path: &str) -> Result<Option<Value>, Error> {
    let members = match value {
        Value::Object(members) => members,
        // A bare id for a complex attribute with a `value` sub-attribute: Microsoft's tutorial sends the
        // enterprise `manager` this way.
        Value::String(_) | Value::Number(_) if attribute.sub_attribute("value").is_some() => {
            let mut wrapped = Map::new();
            wrapped.insert("value".to_owned(), value.clone());
            return normalize_complex(attribute, &Value::Object(wrapped), path);
        }
        other => {
            let example = attribute.sub_attributes.first().map_or("value", |sub| sub.name);
            return Err(Error::invalid_value(format!(
                "'{path}' must be an object of sub-attributes such as \"{example}\", not {}",
                describe(other)
            )));
        }
    };
    let mut out = Map::new();
    for (name, value) in members {
        // Unknown sub-attributes are ignored like unknown attributes; readOnly ones are the server's.
        let Some(sub) = attribute.sub_attribute(name) else { continue };
        if sub.mutability == Mutability::ReadOnly {
            continue;
        }
        if let Some(value) = normalize_single(sub, value, &format!("{path}.{}", sub.name))? {
            out.insert(sub.name.to_owned(), value);
        }
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// A known extension of `kind` whose URN is `key`, case-insensitively.
pub(crate) fn find_extension(kind: ResourceKind, key: &str) -> Option<&'static Schema> {
    kind.extensions().iter().copied().find(|extension| extension.id.eq_ignore_ascii_case(key))
}

fn extension_block<'e>(
    extensions: &'e mut Vec<(&'static Schema, Map<String, Value>)>,
    extension: &'static Schema,
) -> &'e mut Map<String, Value> {
    let index = match extensions.iter().position(|(schema, _)| schema.id == extension.id) {
        Some(index) => index,
        None => {
            extensions.push((extension, Map::new()));
            extensions.len() - 1
        }
    };
    &mut extensions[index].1
}

/// Whether `urn` can name an extension we do not know: a `urn:` that is none of our schemas (of any
/// resource type) and not in the IETF's reserved core and message namespaces, which never hold
/// extensions.
pub(crate) fn is_foreign_extension(urn: &str) -> bool {
    let reserved = ["urn:ietf:params:scim:schemas:core:", "urn:ietf:params:scim:api:"];
    looks_like_urn(urn)
        && schema::find_schema(urn).is_none()
        && !reserved.iter().any(|prefix| urn.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix)))
}

/// Whether `key` starts with `urn:` in any case, which is how schema URNs and qualified names begin.
pub(crate) fn looks_like_urn(key: &str) -> bool {
    key.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("urn:"))
}

/// `null`, `[]` and `{}`: the values that mean "unassigned" (RFC 7643 §2.5).
pub(crate) fn is_unassigned(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(members) => members.is_empty(),
        Value::String(_) | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A member of an object by name: exactly as stored (canonical names), else in any case.
pub(crate) fn find_key<'m>(map: &'m Map<String, Value>, name: &str) -> Option<(&'m String, &'m Value)> {
    map.get_key_value(name).or_else(|| map.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)))
}

/// Removes every member of an object whose name equals `name` in any case; returns the last removed.
pub(crate) fn remove_key(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let keys: Vec<String> = map.keys().filter(|key| key.eq_ignore_ascii_case(name)).cloned().collect();
    keys.into_iter().filter_map(|key| map.remove(&key)).last()
}

/// `true` or `false` in any case (Entra sends `"False"`; some clients quote booleans in filters).
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// `urn:...:name`, the qualified spelling used in messages.
pub(crate) fn qualified(urn: &str, name: &str) -> String {
    format!("{urn}:{name}")
}

/// A short description of a JSON value for error messages: `the string "x"`, `an object`, `true`.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => format!("the number {number}"),
        Value::String(text) => {
            let shown: String = text.chars().take(40).collect();
            let ellipsis = if shown.len() < text.len() { "..." } else { "" };
            format!("the string {}{ellipsis}", Value::String(shown))
        }
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

//! The User resource (RFC 7643 §4.1): turning a client's JSON into what the store keeps, and a stored
//! user back into the JSON a client reads.
//!
//! What the store keeps of a user is its attributes in the canonical form of
//! [`resource::normalize`](super::resource::normalize) (so without the server-set `id` and `meta`, the
//! read-only `groups` and the write-only `password`), plus the few values the store indexes. Client-sent
//! `id`, `meta` and `groups` are ignored, not rejected: Okta and Entra echo them back. Deliberately
//! absent: hashing the password (the caller does it) and uniqueness (the store checks it).

use std::borrow::Cow;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::Error;
use super::group::UserGroup;
use super::projection::default_keeps;
use super::resource::normalize;
use super::schema::{self, ResourceKind};

pub const USER_SCHEMA: &str = schema::USER_SCHEMA;
pub const ENTERPRISE_SCHEMA: &str = schema::ENTERPRISE_USER_SCHEMA;

/// A user as a client wants it written: the indexed values, and the attributes to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct UserDraft {
    pub user_name: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub active: bool,
    /// Distinct e-mail addresses, case-folded: for uniqueness and e-mail filters.
    pub email_keys: Vec<String>,
    /// The attributes to keep (no `id`, `meta`, `groups` or `password`).
    pub attributes: Map<String, Value>,
    /// A new password, to be hashed before it reaches the store.
    pub password: Option<String>,
}

/// A user as stored, ready to be rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredUser {
    pub id: String,
    pub attributes: Map<String, Value>,
    pub created: String,
    pub last_modified: String,
    pub version: i64,
}

impl StoredUser {
    /// The `meta.version` and `ETag` value.
    pub fn etag(&self) -> String {
        schema::weak_etag(self.version)
    }
}

/// A user as the store keeps it, its attributes still the JSON text they are stored as. A list answer
/// under the default projection is written from it directly ([`UserText::write_json`]), without building
/// each user as a tree of JSON values and serialising that again; anything else parses it first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserText {
    pub id: String,
    /// The attributes as stored: one JSON object.
    pub attributes: String,
    pub created: String,
    pub last_modified: String,
    pub version: i64,
    /// The start of the answer as [`UserText::ready_head`] rendered it when the user was written; `None`
    /// for a user stored before that text was kept (it is then rendered from `attributes`).
    pub ready: Option<String>,
}

/// The start of a user's answer under the default projection, kept with the user when it is written:
/// `{"schemas":…,"id":…` and every attribute the default projection shows, in stored order, up to (not
/// including) `meta`. It depends on the id and the attributes alone; `meta` and `groups`, which change
/// without the attributes changing, are written around it on each read.
pub fn ready_head(id: &str, attributes: &str) -> Result<String, Error> {
    let mut out = Vec::with_capacity(attributes.len() + 96);
    write_head(id, attributes, &mut out)?;
    String::from_utf8(out).map_err(|e| Error::internal(e.to_string()))
}

impl UserText {
    /// The user with its attributes parsed.
    pub fn parse(self) -> Result<StoredUser, Error> {
        let Ok(Value::Object(attributes)) = serde_json::from_str(&self.attributes) else {
            return Err(unreadable(&self.id));
        };
        Ok(StoredUser {
            id: self.id,
            attributes,
            created: self.created,
            last_modified: self.last_modified,
            version: self.version,
        })
    }

    /// Appends the JSON a client reads under the default projection: byte for byte what
    /// [`render`] with `groups` added and [`Projection::all`](super::projection::Projection::all)
    /// applied serialises to, with the stored members copied as they are (from `ready` when the user
    /// has it).
    pub fn write_json(&self, groups: &[UserGroup], base_url: &str, out: &mut Vec<u8>) -> Result<(), Error> {
        match &self.ready {
            Some(head) => out.extend_from_slice(head.as_bytes()),
            None => write_head(&self.id, &self.attributes, out)?,
        }
        out.extend_from_slice(b",\"meta\":{\"resourceType\":\"User\",\"created\":");
        json_string(out, &self.created)?;
        out.extend_from_slice(b",\"lastModified\":");
        json_string(out, &self.last_modified)?;
        out.extend_from_slice(b",\"location\":");
        json_string(out, &ResourceKind::User.location(base_url, &self.id))?;
        // `schema::weak_etag`'s text as a JSON string, written without `format!`.
        out.extend_from_slice(b",\"version\":\"W/\\\"");
        out.extend_from_slice(itoa::Buffer::new().format(self.version).as_bytes());
        out.extend_from_slice(b"\\\"\"");
        out.push(b'}');
        if !groups.is_empty() {
            // As `render_user_groups` has them, without building the JSON tree.
            out.extend_from_slice(b",\"groups\":[");
            for (i, group) in groups.iter().enumerate() {
                out.extend_from_slice(if i == 0 { b"{\"value\":" } else { b",{\"value\":" });
                json_string(out, &group.id)?;
                out.extend_from_slice(b",\"$ref\":");
                json_string(out, &ResourceKind::Group.location(base_url, &group.id))?;
                out.extend_from_slice(b",\"display\":");
                json_string(out, &group.display)?;
                out.extend_from_slice(if group.direct { b",\"type\":\"direct\"}" } else { b",\"type\":\"indirect\"}" });
            }
            out.push(b']');
        }
        out.push(b'}');
        Ok(())
    }
}

fn unreadable(id: &str) -> Error {
    Error::internal(format!("user {id} has unreadable attributes"))
}

/// Appends what [`ready_head`] keeps: the answer from its start up to `meta`, from `attributes`.
fn write_head(id: &str, attributes: &str, out: &mut Vec<u8>) -> Result<(), Error> {
    let members = serde_json::from_str::<Members<'_>>(attributes).map_err(|_| unreadable(id))?.0;
    out.extend_from_slice(b"{\"schemas\":");
    match members.iter().find(|(key, _)| key == "schemas") {
        Some((_, schemas)) if is_non_empty_array(schemas.get()) => out.extend_from_slice(schemas.get().as_bytes()),
        _ => {
            let schemas = derived_schemas(members.iter().any(|(key, _)| key == ENTERPRISE_SCHEMA));
            serde_json::to_writer(&mut *out, schemas).map_err(|e| Error::internal(e.to_string()))?;
        }
    }
    out.extend_from_slice(b",\"id\":");
    json_string(out, id)?;
    for (key, value) in &members {
        // `render` sets these itself; normalisation keeps them out of what is stored.
        if matches!(&**key, "schemas" | "id" | "meta" | "groups") {
            continue;
        }
        if !default_keeps(ResourceKind::User, key, is_empty_object(value.get())) {
            continue;
        }
        out.push(b',');
        json_string(out, key)?;
        out.push(b':');
        out.extend_from_slice(value.get().as_bytes());
    }
    Ok(())
}

/// Appends `value` as a JSON string.
fn json_string(out: &mut Vec<u8>, value: &str) -> Result<(), Error> {
    serde_json::to_writer(out, value).map_err(|e| Error::internal(e.to_string()))
}

/// The `schemas` of a stored user that has none (rows from before they were stored): the core schema,
/// and the enterprise extension when the user has its block.
fn derived_schemas(extended: bool) -> &'static [&'static str] {
    if extended { &[USER_SCHEMA, ENTERPRISE_SCHEMA] } else { &[USER_SCHEMA] }
}

/// The members of a stored JSON object in their order, values left as their JSON text.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(Key(key)) = map.next_key()? {
                    members.push((key, map.next_value()?));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Object)
    }
}

/// An object key, borrowed from the stored text unless it had escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, value: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(value)))
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(value.to_owned())))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

fn is_non_empty_array(json: &str) -> bool {
    let mut bytes = json.bytes().filter(|b| !b.is_ascii_whitespace());
    bytes.next() == Some(b'[') && bytes.next() != Some(b']')
}

fn is_empty_object(json: &str) -> bool {
    json.bytes().filter(|b| !b.is_ascii_whitespace()).eq(*b"{}")
}

/// Folds a value that compares case-insensitively (userName, e-mail addresses, displayName) to the key
/// the store indexes: the same folding filters use, so SQL and in-memory evaluation agree.
pub fn fold(value: &str) -> String {
    super::schema::fold_case(value)
}

/// Reads a user from a POST or PUT body, or from the result of a PATCH: the attributes in canonical form
/// (see [`normalize`]) and the values the store indexes.
pub fn draft(body: &Value) -> Result<UserDraft, Error> {
    let normalized = normalize(ResourceKind::User, body)?;
    let attributes = normalized.attributes;
    let text = |name: &str| attributes.get(name).and_then(Value::as_str).map(str::to_owned);
    // `normalize` guarantees a non-empty `userName`; the fallback only keeps this function total.
    let user_name = text("userName").unwrap_or_default();
    let external_id = text("externalId");
    let display_name = text("displayName");
    // RFC 7643 leaves a missing `active` to the service provider; a user nobody deactivated is active.
    let active = attributes.get("active").and_then(Value::as_bool).unwrap_or(true);
    let mut email_keys: Vec<String> = Vec::new();
    if let Some(Value::Array(emails)) = attributes.get("emails") {
        for value in emails.iter().filter_map(|email| email.get("value")).filter_map(Value::as_str) {
            let key = fold(value);
            if !email_keys.contains(&key) {
                email_keys.push(key);
            }
        }
    }
    Ok(UserDraft {
        user_name,
        external_id,
        display_name,
        active,
        email_keys,
        attributes,
        password: normalized.password,
    })
}

/// The JSON a client reads: the kept attributes with the server-set `schemas`, `id` and `meta`.
pub fn render(user: &StoredUser, base_url: &str) -> Value {
    let mut out = Map::new();
    // Attributes stored by `normalize` carry their `schemas`, including kept unknown extensions; older
    // rows may not, so the list is derived from the extension blocks present when it is missing.
    let schemas = match user.attributes.get("schemas") {
        Some(Value::Array(schemas)) if !schemas.is_empty() => Value::Array(schemas.clone()),
        _ => Value::from(derived_schemas(user.attributes.contains_key(ENTERPRISE_SCHEMA))),
    };
    out.insert("schemas".into(), schemas);
    out.insert("id".into(), Value::from(user.id.clone()));
    for (name, value) in &user.attributes {
        if name != "schemas" {
            out.insert(name.clone(), value.clone());
        }
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": user.created,
            "lastModified": user.last_modified,
            "location": ResourceKind::User.location(base_url, &user.id),
            "version": user.etag(),
        }),
    );
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::group::render_user_groups;
    use crate::scim::projection::Projection;

    /// What a list answered before the text path existed: the tree, projected, serialised.
    fn through_the_tree(user: &UserText, groups: &[UserGroup]) -> String {
        let mut rendered = render(&user.clone().parse().unwrap(), "https://h");
        if !groups.is_empty() {
            rendered.as_object_mut().unwrap().insert("groups".into(), render_user_groups(groups, "https://h"));
        }
        Projection::all().apply(ResourceKind::User, &mut rendered);
        serde_json::to_string(&rendered).unwrap()
    }

    fn text(attributes: Value) -> UserText {
        UserText {
            id: "0190-\"quoted\"".into(),
            attributes: attributes.to_string(),
            created: "2026-01-01T00:00:00.000Z".into(),
            last_modified: "2026-01-02T00:00:00.000Z".into(),
            version: 7,
            ready: None,
        }
    }

    #[test]
    fn a_user_written_from_its_text_is_byte_for_byte_the_rendered_tree() {
        let group = |id: &str, direct| UserGroup { id: id.into(), display: format!("Team \"{id}\""), direct };
        let users = [
            // As normalisation stores a user: schemas first, extension block, unicode and escapes.
            json!({"schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA], "userName": "bjensen@example.com",
                   "name": {"givenName": "Bärbel", "familyName": "O'Neil \"BJ\""}, "active": true,
                   "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
                   ENTERPRISE_SCHEMA: {"employeeNumber": "701984", "manager": {"value": "26118915"}}}),
            // Rows from before schemas were stored: derived, with and without the extension.
            json!({"userName": "old", "displayName": "Old\nRow"}),
            json!({"userName": "old2", ENTERPRISE_SCHEMA: {"department": "R&D"}}),
            json!({"schemas": [], "userName": "empty-schemas"}),
            // An empty extension block is dropped, an unknown attribute and extension are kept, and an
            // escaped key survives.
            json!({"schemas": [USER_SCHEMA], "userName": "u", ENTERPRISE_SCHEMA: {},
                   "x-custom": {"a": [1, 2.5, null]}, "urn:example:ext:1.0:User": {"k": "v"}, "tab\tkey": 1}),
            // A stored password (never written by normalisation) is still never shown.
            json!({"schemas": [USER_SCHEMA], "userName": "p", "password": "secret"}),
        ];
        for attributes in users {
            let user = text(attributes);
            // The same user with the start of its answer kept on write, as the store keeps it.
            let kept = UserText { ready: Some(ready_head(&user.id, &user.attributes).unwrap()), ..user.clone() };
            for groups in [vec![], vec![group("g1", true), group("g2", false)]] {
                for user in [&user, &kept] {
                    let mut out = Vec::new();
                    user.write_json(&groups, "https://h", &mut out).unwrap();
                    assert_eq!(String::from_utf8(out).unwrap(), through_the_tree(user, &groups));
                }
            }
        }
    }

    #[test]
    fn unreadable_stored_text_is_an_internal_error_not_a_panic() {
        let mut user = text(json!({}));
        user.attributes = "[1, 2]".into();
        assert!(user.write_json(&[], "https://h", &mut Vec::new()).is_err());
        assert!(user.clone().parse().is_err());
        user.attributes = "{\"userName\": ".into();
        assert!(user.write_json(&[], "https://h", &mut Vec::new()).is_err());
    }
}

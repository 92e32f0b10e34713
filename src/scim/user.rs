//! The User resource (RFC 7643 §4.1): turning a client's JSON into what the store keeps, and a stored
//! user back into the JSON a client reads.
//!
//! What the store keeps of a user is its attributes in the canonical form of
//! [`resource::normalize`](super::resource::normalize) (so without the server-set `id` and `meta`, the
//! read-only `groups` and the write-only `password`), plus the few values the store indexes. Client-sent
//! `id`, `meta` and `groups` are ignored, not rejected: Okta and Entra echo them back. Deliberately
//! absent: hashing the password (the caller does it) and uniqueness (the store checks it).

use serde_json::{Map, Value, json};

use super::Error;
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
        format!("W/\"{}\"", self.version)
    }
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
        _ => {
            let mut schemas = vec![Value::from(USER_SCHEMA)];
            if user.attributes.contains_key(ENTERPRISE_SCHEMA) {
                schemas.push(Value::from(ENTERPRISE_SCHEMA));
            }
            Value::Array(schemas)
        }
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
            "location": format!("{base_url}/scim/v2/Users/{}", user.id),
            "version": user.etag(),
        }),
    );
    Value::Object(out)
}

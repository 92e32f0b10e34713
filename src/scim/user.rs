//! The User resource (RFC 7643 §4.1): turning a client's JSON into what the store keeps, and a stored
//! user back into the JSON a client reads.
//!
//! What the store keeps of a user is its attributes as sent (minus the server-set `id`, `meta`, the
//! read-only `groups` and the write-only `password`), plus the few values the store indexes.
//! Client-sent `id`, `meta` and `groups` are ignored, not rejected: Okta and Entra echo them back.

use serde_json::{Map, Value, json};

use super::Error;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

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

/// Reads a user from a POST or PUT body.
pub fn draft(body: &Value) -> Result<UserDraft, Error> {
    let object = body
        .as_object()
        .ok_or_else(|| Error::invalid_syntax("the request body must be a JSON object (a SCIM User resource)"))?;
    let mut attributes = Map::new();
    let mut password = None;
    for (name, value) in object {
        match name.to_ascii_lowercase().as_str() {
            "id" | "meta" | "groups" => {}
            "password" => match value {
                Value::String(text) => password = Some(text.clone()),
                Value::Null => {}
                _ => return Err(Error::invalid_value("password must be a string")),
            },
            _ => {
                attributes.insert(name.clone(), value.clone());
            }
        }
    }
    let user_name = match attributes.get("userName") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(Error::invalid_value("userName is required and must not be empty"));
        }
        Some(_) => return Err(Error::invalid_value("userName must be a string")),
    };
    let optional_string = |name: &str| -> Result<Option<String>, Error> {
        match attributes.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(Error::invalid_value(format!("{name} must be a string"))),
        }
    };
    let external_id = optional_string("externalId")?;
    let display_name = optional_string("displayName")?;
    let active = match attributes.get("active") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(active)) => *active,
        Some(_) => return Err(Error::invalid_value("active must be a boolean")),
    };
    let mut email_keys = Vec::new();
    match attributes.get("emails") {
        None | Some(Value::Null) => {}
        Some(Value::Array(emails)) => {
            for email in emails {
                match email.get("value") {
                    Some(Value::String(value)) => {
                        let key = fold(value);
                        if !email_keys.contains(&key) {
                            email_keys.push(key);
                        }
                    }
                    None | Some(Value::Null) => {}
                    Some(_) => return Err(Error::invalid_value("emails.value must be a string")),
                }
            }
        }
        Some(_) => return Err(Error::invalid_value("emails must be an array of e-mail objects")),
    }
    Ok(UserDraft { user_name, external_id, display_name, active, email_keys, attributes, password })
}

/// The JSON a client reads: the kept attributes with the server-set `schemas`, `id` and `meta`.
pub fn render(user: &StoredUser, base_url: &str) -> Value {
    let mut out = Map::new();
    let mut schemas = vec![Value::from(USER_SCHEMA)];
    if user.attributes.contains_key(ENTERPRISE_SCHEMA) {
        schemas.push(Value::from(ENTERPRISE_SCHEMA));
    }
    out.insert("schemas".into(), Value::Array(schemas));
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

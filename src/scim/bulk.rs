//! Bulk requests (RFC 7644 §3.7): reading a `BulkRequest`, ordering its operations so that `bulkId`
//! references resolve (forward references included), substituting the ids they stand for, and writing
//! the `BulkResponse`.
//!
//! Executing the operations is the caller's job (each one is an ordinary create, replace, patch or
//! delete, atomic on its own). What lives here is pure: given what has run so far, which operation can
//! run next and with what data.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::Error;
use super::schema::ResourceKind;

pub const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
const REFERENCE_PREFIX: &str = "bulkId:";

/// The HTTP method of one bulk operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// One operation as the client sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub method: Method,
    pub bulk_id: Option<String>,
    pub path: String,
    pub data: Option<Value>,
    /// The `version` (an ETag), used as `If-Match`.
    pub version: Option<String>,
}

/// A whole bulk request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Stop after this many errors (`failOnErrors`); `None` processes everything.
    pub fail_on_errors: Option<usize>,
    pub operations: Vec<Result<Operation, Error>>,
}

/// Reads a bulk request. A body that is not a bulk request is an error of the whole request; an
/// operation that is malformed becomes an error of that operation alone, so its neighbours still run.
/// More than `max_operations` operations is 413, as RFC 7644 §3.7.4 asks. The operations' `data` are
/// moved out of `body`, not copied.
pub fn parse_request(body: Value, max_operations: usize) -> Result<Request, Error> {
    let Value::Object(mut object) = body else {
        return Err(Error::invalid_syntax("a bulk request must be a JSON object"));
    };
    // Each member is the first whose name matches case-insensitively, found before any is taken out.
    let (schemas, fail_on_errors, operations) =
        (key(&object, "schemas"), key(&object, "failOnErrors"), key(&object, "Operations"));
    if let Some(schemas) = schemas.and_then(|k| object.get(&k)) {
        let named = schemas.as_array().is_some_and(|list| {
            list.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(BULK_REQUEST_SCHEMA)))
        });
        if !named {
            return Err(Error::invalid_syntax(format!("a bulk request's schemas must contain {BULK_REQUEST_SCHEMA}")));
        }
    }
    let fail_on_errors = match fail_on_errors.and_then(|k| object.get(&k)) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(n) if n > 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => return Err(Error::invalid_value("failOnErrors must be a positive integer")),
        },
        Some(_) => return Err(Error::invalid_value("failOnErrors must be a positive integer")),
    };
    let operations = match operations.and_then(|k| object.remove(&k)) {
        Some(Value::Array(operations)) if !operations.is_empty() => operations,
        _ => return Err(Error::invalid_syntax("a bulk request needs a non-empty Operations array")),
    };
    if operations.len() > max_operations {
        return Err(Error::payload_too_large(format!(
            "the bulk request has {} operations; at most {max_operations} are accepted",
            operations.len()
        )));
    }
    Ok(Request { fail_on_errors, operations: operations.into_iter().map(parse_operation).collect() })
}

/// The name of `object`'s first member called `name`, in any case.
fn key(object: &Map<String, Value>, name: &str) -> Option<String> {
    object.keys().find(|key| key.eq_ignore_ascii_case(name)).cloned()
}

fn parse_operation(value: Value) -> Result<Operation, Error> {
    let Value::Object(mut object) = value else {
        return Err(Error::invalid_syntax("each bulk operation must be an object"));
    };
    let field = |name: &str| object.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value);
    let text = |name: &str| -> Result<Option<String>, Error> {
        match field(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(Error::invalid_value(format!("the bulk operation's {name} must be a string"))),
        }
    };
    let method = match text("method")?.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("POST") => Method::Post,
        Some("PUT") => Method::Put,
        Some("PATCH") => Method::Patch,
        Some("DELETE") => Method::Delete,
        Some(other) => {
            return Err(Error::invalid_value(format!("bulk method {other:?} is not POST, PUT, PATCH or DELETE")));
        }
        None => return Err(Error::invalid_value("the bulk operation has no method")),
    };
    let path = text("path")?.ok_or_else(|| Error::invalid_value("the bulk operation has no path"))?;
    let bulk_id = text("bulkId")?;
    if method == Method::Post && bulk_id.is_none() {
        return Err(Error::invalid_value("a POST bulk operation needs a bulkId (RFC 7644 §3.7)"));
    }
    // Read before `data` is taken out (which moves the last member into its place); reported after it.
    let version = text("version");
    let data = key(&object, "data").and_then(|k| object.remove(&k)).filter(|data| !data.is_null());
    if method != Method::Delete && data.is_none() {
        return Err(Error::invalid_value(format!("a {} bulk operation needs data", method.as_str())));
    }
    Ok(Operation { method, bulk_id, path, data, version: version? })
}

/// Where an operation points: a resource type, and an id (or a `bulkId:` reference) for PUT, PATCH and
/// DELETE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: ResourceKind,
    pub id: Option<String>,
}

/// Reads `/Users`, `/Groups/{id}`, `/Users/bulkId:x` (with or without a leading slash).
pub fn parse_path(method: Method, path: &str) -> Result<Target, Error> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let kind = match segments.first() {
        Some(&"Users") => ResourceKind::User,
        Some(&"Groups") => ResourceKind::Group,
        _ => {
            return Err(Error::invalid_path(format!(
                "bulk path {path:?} names no resource type: use /Users or /Groups"
            )));
        }
    };
    let id = match (method, &segments[1..]) {
        (Method::Post, []) => None,
        (Method::Post, _) => {
            return Err(Error::invalid_path(format!("a POST bulk path is /Users or /Groups, not {path:?}")));
        }
        (_, [id]) => Some((*id).to_owned()),
        _ => return Err(Error::invalid_path(format!("bulk path {path:?} must name one resource: /Users/{{id}}"))),
    };
    Ok(Target { kind, id })
}

/// The `bulkId`s an operation refers to, in its path and anywhere in its data.
pub fn references(operation: &Operation) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(reference) = operation.path.split('/').find_map(|segment| segment.strip_prefix(REFERENCE_PREFIX)) {
        found.push(reference.to_owned());
    }
    if let Some(data) = &operation.data {
        collect_references(data, &mut found);
    }
    found.sort();
    found.dedup();
    found
}

fn collect_references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(text) => {
            if let Some(reference) = text.strip_prefix(REFERENCE_PREFIX) {
                found.push(reference.to_owned());
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_references(item, found)),
        Value::Object(object) => object.values().for_each(|item| collect_references(item, found)),
        _ => {}
    }
}

/// The operation with every `bulkId:` reference replaced by the id it stands for. Every reference must
/// be in `resolved` (check with [`references`] first).
pub fn substitute(operation: &Operation, resolved: &HashMap<String, String>) -> Operation {
    let mut operation = operation.clone();
    operation.path = operation
        .path
        .split('/')
        .map(|segment| match segment.strip_prefix(REFERENCE_PREFIX).and_then(|r| resolved.get(r)) {
            Some(id) => id.clone(),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/");
    if let Some(data) = &mut operation.data {
        replace_references(data, resolved);
    }
    operation
}

fn replace_references(value: &mut Value, resolved: &HashMap<String, String>) {
    match value {
        Value::String(text) => {
            if let Some(id) = text.strip_prefix(REFERENCE_PREFIX).and_then(|r| resolved.get(r)) {
                *text = id.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| replace_references(item, resolved)),
        Value::Object(object) => object.values_mut().for_each(|item| replace_references(item, resolved)),
        _ => {}
    }
}

/// What one operation came to, for the response.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub method: Method,
    pub bulk_id: Option<String>,
    pub location: Option<String>,
    pub version: Option<String>,
    pub status: u16,
    /// The error body of a failed operation.
    pub error: Option<Error>,
}

/// The `BulkResponse` body.
pub fn response(outcomes: &[Outcome]) -> Value {
    let operations: Vec<Value> = outcomes
        .iter()
        .map(|outcome| {
            let mut entry = Map::new();
            entry.insert("method".into(), Value::from(outcome.method.as_str()));
            if let Some(bulk_id) = &outcome.bulk_id {
                entry.insert("bulkId".into(), Value::from(bulk_id.clone()));
            }
            if let Some(location) = &outcome.location {
                entry.insert("location".into(), Value::from(location.clone()));
            }
            if let Some(version) = &outcome.version {
                entry.insert("version".into(), Value::from(version.clone()));
            }
            entry.insert("status".into(), Value::from(outcome.status.to_string()));
            if let Some(error) = &outcome.error {
                entry.insert("response".into(), error.to_json());
            }
            Value::Object(entry)
        })
        .collect();
    json!({"schemas": [BULK_RESPONSE_SCHEMA], "Operations": operations})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(operations: Value) -> Request {
        parse_request(json!({"schemas": [BULK_REQUEST_SCHEMA], "Operations": operations}), 10).unwrap()
    }

    #[test]
    fn requests_are_read_and_bad_operations_fail_alone() {
        let parsed = request(json!([
            {"method": "POST", "path": "/Users", "bulkId": "u1", "data": {"userName": "a"}},
            {"method": "post", "path": "/Users", "data": {"userName": "b"}},
            {"method": "DELETE", "path": "/Users/123", "version": "W/\"1\""},
            {"method": "GET", "path": "/Users/123"},
            {"method": "PUT", "path": "/Users/123"},
        ]));
        assert!(parsed.operations[0].is_ok());
        assert!(parsed.operations[1].as_ref().unwrap_err().detail.contains("bulkId"));
        assert_eq!(parsed.operations[2].as_ref().unwrap().version.as_deref(), Some("W/\"1\""));
        assert!(parsed.operations[3].is_err());
        assert!(parsed.operations[4].as_ref().unwrap_err().detail.contains("data"));
    }

    #[test]
    fn members_named_twice_in_different_cases_count_once_the_first() {
        let parsed = request(json!([{
            "method": "PUT", "path": "/Users/1", "DATA": {"a": 1}, "version": "W/\"2\"",
            "data": {"b": 2}, "VERSION": "W/\"3\"", "Method": "DELETE",
        }]));
        let operation = parsed.operations[0].as_ref().unwrap();
        assert_eq!((operation.method, operation.data.clone()), (Method::Put, Some(json!({"a": 1}))));
        assert_eq!(operation.version.as_deref(), Some("W/\"2\""));
        let twice = json!({"operations": [{"method": "DELETE", "path": "/Users/1"}], "Operations": []});
        assert_eq!(parse_request(twice, 10).unwrap().operations.len(), 1);
    }

    #[test]
    fn whole_request_errors() {
        let too_many = json!({"Operations": (0..11).map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")})).collect::<Vec<_>>()});
        assert_eq!(parse_request(too_many, 10).unwrap_err().status(), 413);
        assert_eq!(parse_request(json!({"Operations": []}), 10).unwrap_err().kind.scim_type(), Some("invalidSyntax"));
        assert_eq!(parse_request(json!([]), 10).unwrap_err().kind.scim_type(), Some("invalidSyntax"));
        assert!(parse_request(json!({"schemas": ["urn:x"], "Operations": [{}]}), 10).is_err());
        let fail =
            parse_request(json!({"failOnErrors": 1, "Operations": [{"method": "DELETE", "path": "/Users/1"}]}), 10);
        assert_eq!(fail.unwrap().fail_on_errors, Some(1));
        assert!(parse_request(json!({"failOnErrors": -1, "Operations": [{}]}), 10).is_err());
    }

    #[test]
    fn paths() {
        assert_eq!(parse_path(Method::Post, "/Users").unwrap(), Target { kind: ResourceKind::User, id: None });
        assert_eq!(
            parse_path(Method::Patch, "/Groups/abc").unwrap(),
            Target { kind: ResourceKind::Group, id: Some("abc".into()) }
        );
        assert!(parse_path(Method::Post, "/Users/abc").is_err());
        assert!(parse_path(Method::Delete, "/Users").is_err());
        assert!(parse_path(Method::Delete, "/Things/1").is_err());
    }

    #[test]
    fn references_are_found_and_substituted_everywhere() {
        let operation = Operation {
            method: Method::Patch,
            bulk_id: None,
            path: "/Groups/bulkId:g1".into(),
            data: Some(
                json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": "bulkId:u1"}, {"value": "bulkId:u2"}]}]}),
            ),
            version: None,
        };
        assert_eq!(references(&operation), ["g1", "u1", "u2"]);
        let resolved: HashMap<String, String> =
            [("g1", "G"), ("u1", "U1"), ("u2", "U2")].into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        let substituted = substitute(&operation, &resolved);
        assert_eq!(substituted.path, "/Groups/G");
        assert_eq!(substituted.data.unwrap()["Operations"][0]["value"][1]["value"], "U2");
    }

    #[test]
    fn responses_carry_string_statuses_and_error_bodies() {
        let body = response(&[
            Outcome {
                method: Method::Post,
                bulk_id: Some("u1".into()),
                location: Some("https://x/scim/v2/Users/1".into()),
                version: Some("W/\"1\"".into()),
                status: 201,
                error: None,
            },
            Outcome {
                method: Method::Delete,
                bulk_id: None,
                location: None,
                version: None,
                status: 404,
                error: Some(Error::not_found("no such user")),
            },
        ]);
        assert_eq!(body["schemas"][0], BULK_RESPONSE_SCHEMA);
        assert_eq!(body["Operations"][0]["status"], "201");
        assert_eq!(body["Operations"][1]["response"]["status"], "404");
        assert!(body["Operations"][0].get("response").is_none());
    }
}

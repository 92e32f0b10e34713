//! The SCIM handlers: each parses the request, makes one store call and renders the answer. The rules
//! live in `scim/` (what a resource may contain, how it reads) and `store/` (uniqueness, durability).
//! This file holds what every resource's handlers share: base URLs, bodies, ETags, projection.

pub mod bulk;
pub mod discovery;
pub mod groups;
pub mod root;
pub mod users;

use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde_json::Value;

use super::App;
use super::reply::{self, Body};
use crate::scim;
use crate::scim::list::Params;
use crate::scim::projection::Projection;
use crate::scim::schema::ResourceKind;
use crate::store::Precondition;

/// Parses a JSON body whatever its Content-Type says (Okta's own tests send some without one).
pub fn parse_json(body: &Bytes) -> Result<Value, scim::Error> {
    if body.is_empty() {
        return Err(scim::Error::invalid_syntax("the request has no body; a JSON SCIM resource was expected"));
    }
    serde_json::from_slice(body).map_err(|e| scim::Error::invalid_syntax(format!("the body is not valid JSON: {e}")))
}

pub fn resource(status: StatusCode, value: &Value, location: Option<&str>, etag: &str) -> Response<Body> {
    resource_bytes(status, serde_json::to_vec(value).unwrap_or_default(), location, etag)
}

/// A resource response from already serialised JSON, with `Location` (for creations) and `ETag`.
pub fn resource_bytes(status: StatusCode, body: Vec<u8>, location: Option<&str>, etag: &str) -> Response<Body> {
    let mut response = reply::with_body(status, reply::SCIM_JSON, body);
    let headers = response.headers_mut();
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    if let Ok(etag) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// Hashes a provisioned user's password in the argon2 pool's provisioning lane (503 when it stays full).
pub async fn hash_password(app: &App, password: String) -> Result<String, scim::Error> {
    if password.len() > crate::credentials::PASSWORD_MAX_BYTES {
        return Err(scim::Error::invalid_value(format!(
            "password is longer than {} bytes",
            crate::credentials::PASSWORD_MAX_BYTES
        )));
    }
    // Inside a Bulk request, the writes so far commit now rather than hold the writer while argon2 runs.
    app.store.end_chunk();
    app.store.argon2().hash(crate::hashing::Lane::Provisioning, password).await.map_err(reply::pool_error)
}

/// The `If-Match` requirement of a request: `*`, or the versions of the entity tags it lists (weak or
/// strong; ours are `W/"<n>"`). Tags that are not ours can never match.
pub fn if_match<B>(request: &Request<B>) -> Option<Precondition> {
    let value = request.headers().get(header::IF_MATCH)?.to_str().unwrap_or("");
    if value.trim() == "*" {
        return Some(Precondition::Any);
    }
    Some(Precondition::Versions(value.split(',').filter_map(tag_version).collect()))
}

/// Whether `If-None-Match` names the current version (or `*`).
pub fn if_none_match<B>(request: &Request<B>, current: i64) -> bool {
    let Some(value) = request.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value.trim() == "*" || value.split(',').filter_map(tag_version).any(|version| version == current)
}

pub(super) fn tag_version(tag: &str) -> Option<i64> {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

pub fn not_modified(etag: &str) -> Response<Body> {
    let mut response = Response::new(reply::empty());
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    if let Ok(etag) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// The list parameters of a request's query string (`+` decodes as a space).
pub fn query_params<B>(request: &Request<B>) -> Params {
    let query = request.uri().query().unwrap_or("");
    // Names stay borrowed (most are matched and dropped); only the values kept are copied.
    Params::from_query(crate::http::request::query_pairs(query))
}

/// The base URL and the list parameters of `GET /{type}` (from the query string) or of
/// `POST /{type}/.search` (from the body).
pub async fn list_request(
    app: &App,
    request: Request<hyper::body::Incoming>,
    search: bool,
) -> Result<(String, Params), scim::Error> {
    let base = crate::http::request::base_url(app, &request);
    if !search {
        return Ok((base, query_params(&request)));
    }
    let body = crate::http::request::read_body(request, app.config.limits.max_body_bytes).await?;
    Ok((base, Params::from_search_body(&parse_json(&body)?)?))
}

/// The validated list query for `kind` and the projection it asks for, from its parameters.
pub fn list_query(
    app: &App,
    params: Params,
    kind: ResourceKind,
) -> Result<(crate::scim::list::ListQuery, Projection), scim::Error> {
    let max_results = u64::try_from(app.config.limits.max_results).unwrap_or(u64::MAX);
    let query = params.into_query(kind, max_results)?;
    let projection = Projection::parse(kind, query.attributes.as_deref(), query.excluded_attributes.as_deref())?;
    Ok((query, projection))
}

/// The projection a request's query string asks for (`attributes`, `excludedAttributes`): used by single
/// reads and by the responses of writes.
pub fn projection<B>(request: &Request<B>, kind: ResourceKind) -> Result<Projection, scim::Error> {
    let params = query_params(request);
    Projection::parse(kind, params.attributes.as_deref(), params.excluded_attributes.as_deref())
}

/// A 204 with no body.
pub fn no_content() -> Response<Body> {
    let mut response = Response::new(reply::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

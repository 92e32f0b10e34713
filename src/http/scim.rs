//! The SCIM handlers: each parses the request, makes one store call and renders the answer. The rules
//! live in `scim/` (what a resource may contain, how it reads) and `store/` (uniqueness, durability).

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde_json::Value;

use super::App;
use super::reply::{self, Body};
use super::routes::read_body;
use crate::scim::list::{self, Params};
use crate::scim::schema::ResourceKind;
use crate::scim::{self, user};
use crate::store::Precondition;

/// The base URL for `meta.location`: `--public-url`, or else the scheme and host the client used.
pub fn base_url<B>(app: &App, request: &Request<B>) -> String {
    if let Some(url) = &app.config.public_url {
        return url.as_str().to_owned();
    }
    let scheme = if app.config.tls.is_some() { "https" } else { "http" };
    let host = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned))
        .unwrap_or_else(|| app.config.listen.to_string());
    format!("{scheme}://{host}")
}

/// Parses a JSON body whatever its Content-Type says (Okta's own tests send some without one).
fn parse_json(body: &Bytes) -> Result<Value, scim::Error> {
    if body.is_empty() {
        return Err(scim::Error::invalid_syntax("the request has no body; a JSON SCIM resource was expected"));
    }
    serde_json::from_slice(body).map_err(|e| scim::Error::invalid_syntax(format!("the body is not valid JSON: {e}")))
}

fn resource(status: StatusCode, value: &Value, location: Option<&str>, etag: &str) -> Response<Body> {
    let mut response = reply::scim_json(status, value);
    let headers = response.headers_mut();
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    if let Ok(etag) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

async fn hash_password(password: String) -> Result<String, scim::Error> {
    tokio::task::spawn_blocking(move || crate::credentials::hash_secret(&password))
        .await
        .map_err(|e| scim::Error::internal(format!("password hashing failed: {e}")))?
        .map_err(|e| scim::Error::internal(e.to_string()))
}

/// `POST /Users`.
pub async fn create_user(app: &App, request: Request<Incoming>) -> Result<Response<Body>, scim::Error> {
    let base = base_url(app, &request);
    let body = read_body(request, app.config.limits.max_body_bytes).await?;
    let mut draft = user::draft(&parse_json(&body)?)?;
    let password_hash = match draft.password.take() {
        Some(password) => Some(hash_password(password).await?),
        None => None,
    };
    let stored = app.store.create_user(draft, password_hash).await.map_err(reply::store_error)?;
    let rendered = user::render(&stored, &base);
    let location = rendered["meta"]["location"].as_str().map(str::to_owned);
    Ok(resource(StatusCode::CREATED, &rendered, location.as_deref(), &stored.etag()))
}

/// `GET /Users/{id}`; `If-None-Match` with the current version answers 304.
pub async fn get_user(app: &App, request: Request<Incoming>, id: &str) -> Result<Response<Body>, scim::Error> {
    let base = base_url(app, &request);
    let stored = app
        .store
        .get_user(id)
        .await
        .map_err(reply::store_error)?
        .ok_or_else(|| scim::Error::not_found(format!("there is no user with id {id:?}")))?;
    if if_none_match(&request, stored.version) {
        return Ok(not_modified(&stored.etag()));
    }
    Ok(resource(StatusCode::OK, &user::render(&stored, &base), None, &stored.etag()))
}

/// `DELETE /Users/{id}`: 204, and the user is gone from SCIM (kept as a tombstone for the platform).
pub async fn delete_user(app: &App, request: Request<Incoming>, id: &str) -> Result<Response<Body>, scim::Error> {
    let precondition = if_match(&request);
    app.store.delete_user(id, precondition).await.map_err(reply::store_error)?;
    let mut response = Response::new(reply::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

/// The `If-Match` requirement of a request: `*`, or the versions of the entity tags it lists (weak or
/// strong; ours are `W/"<n>"`). Tags that are not ours can never match.
fn if_match<B>(request: &Request<B>) -> Option<Precondition> {
    let value = request.headers().get(header::IF_MATCH)?.to_str().unwrap_or("");
    if value.trim() == "*" {
        return Some(Precondition::Any);
    }
    Some(Precondition::Versions(value.split(',').filter_map(tag_version).collect()))
}

/// Whether `If-None-Match` names the current version (or `*`).
fn if_none_match<B>(request: &Request<B>, current: i64) -> bool {
    let Some(value) = request.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value.trim() == "*" || value.split(',').filter_map(tag_version).any(|version| version == current)
}

fn tag_version(tag: &str) -> Option<i64> {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

fn not_modified(etag: &str) -> Response<Body> {
    let mut response = Response::new(reply::empty());
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    if let Ok(etag) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// The list parameters of a request's query string (`+` decodes as a space).
fn query_params<B>(request: &Request<B>) -> Params {
    let query = request.uri().query().unwrap_or("");
    Params::from_query(form_urlencoded::parse(query.as_bytes()).into_owned())
}

/// `GET /Users`.
pub async fn list_users(app: &App, request: Request<Incoming>) -> Result<Response<Body>, scim::Error> {
    let base = base_url(app, &request);
    let params = query_params(&request);
    respond_users(app, params, base).await
}

/// `POST /Users/.search`.
pub async fn search_users(app: &App, request: Request<Incoming>) -> Result<Response<Body>, scim::Error> {
    let base = base_url(app, &request);
    let body = read_body(request, app.config.limits.max_body_bytes).await?;
    let params = Params::from_search_body(&parse_json(&body)?)?;
    respond_users(app, params, base).await
}

async fn respond_users(app: &App, params: Params, base: String) -> Result<Response<Body>, scim::Error> {
    let max_results = u64::try_from(app.config.limits.max_results).unwrap_or(u64::MAX);
    let query = params.into_query(ResourceKind::User, max_results)?;
    let page = query.page;
    let found = app.store.list_users(query, base.clone()).await.map_err(reply::store_error)?;
    let resources = found.items.iter().map(|stored| user::render(stored, &base)).collect();
    Ok(reply::scim_json(StatusCode::OK, &list::list_response(&page, found.total, resources, found.next)))
}

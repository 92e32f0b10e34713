//! The JSON-API kit that the admin API (`admin/`) and the platform API (`platform/`) share: the error
//! type that knows its status, JSON answers that no cache keeps, request bodies, query parameters and
//! paging, and the check of a name an admin typed.
//!
//! Every answer is JSON: `{"error": "…"}` with a fitting status on failure, never a SCIM error body, and
//! every answer carries `Cache-Control: no-store` (they hold names, e-mail addresses and, once, a token).

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::reply::{self, Body};
use super::request::read_body;
use crate::store::StoreError;

/// JSON-API request bodies are small; this bounds them whatever the SCIM body limit is.
const MAX_BODY: usize = 64 * 1024;

/// A JSON-API failure: the status and the sentence the page (or the calling service) shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), retry_after: None }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "you are not signed in, or your session has ended; sign in again")
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

/// Store failures, through the one mapping in `reply.rs` (which logs and hides internal causes).
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        let scim = reply::store_error(error);
        ApiError::new(StatusCode::from_u16(scim.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), scim.detail)
    }
}

/// argon2 pool failures, through the same mapping as SCIM's (`reply::pool_error`, which logs a failed
/// run): a full pool is 503 with `Retry-After`.
impl From<crate::hashing::PoolError> for ApiError {
    fn from(error: crate::hashing::PoolError) -> Self {
        let scim = reply::pool_error(error);
        let status = StatusCode::from_u16(scim.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = (status == StatusCode::SERVICE_UNAVAILABLE).then_some(1);
        ApiError { status, message: scim.detail, retry_after }
    }
}

pub type ApiResult = Result<Response<Body>, ApiError>;

/// A JSON answer that no cache keeps.
pub fn answer(status: StatusCode, value: &Value) -> Response<Body> {
    let mut response = reply::json(status, value);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub fn no_content() -> Response<Body> {
    let mut response = Response::new(reply::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The response for a handler's result.
pub fn respond(result: ApiResult) -> Response<Body> {
    result.unwrap_or_else(|error| error_response(&error))
}

pub fn error_response(error: &ApiError) -> Response<Body> {
    let mut response = answer(error.status, &json!({ "error": error.message }));
    if let Some(seconds) = error.retry_after
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Reads a JSON body into `T`. The body must be declared `application/json`: a cross-site HTML form
/// cannot send that without the browser asking first, which no answer here allows.
pub async fn body<T: DeserializeOwned>(request: Request<Incoming>) -> Result<T, ApiError> {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send the request body as application/json"));
    }
    let bytes: Bytes = read_body(request, MAX_BODY)
        .await
        .map_err(|e| ApiError::new(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST), e.detail))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not what was expected: {e}")))
}

/// The decoded query parameters of a request.
pub fn query<B>(request: &Request<B>) -> Vec<(String, String)> {
    form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes()).into_owned().collect()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Paging of the page's lists: `start` (0-based) and `count` (1 to 200, default 50).
pub fn paging(params: &[(String, String)]) -> Result<(u64, u32), ApiError> {
    let start = match param(params, "start") {
        None | Some("") => 0,
        Some(text) => text.parse().map_err(|_| ApiError::bad_request("start must be a whole number, 0 or more"))?,
    };
    let count = match param(params, "count") {
        None | Some("") => 50,
        Some(text) => match text.parse::<u32>() {
            Ok(n @ 1..=200) => n,
            _ => return Err(ApiError::bad_request("count must be a whole number from 1 to 200")),
        },
    };
    Ok((start, count))
}

/// Paging of the lists that continue from the last entry shown (Activity, Audit): `before` (the last
/// `seq` shown, none for the newest page) and `count` (1 to 200, default 50).
pub fn cursor_paging(params: &[(String, String)]) -> Result<(Option<i64>, u32), ApiError> {
    let before = match param(params, "before") {
        None | Some("") => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| ApiError::bad_request("before must be a whole number"))?),
    };
    let count = match param(params, "count") {
        None | Some("") => 50,
        Some(text) => match text.parse::<u32>() {
            Ok(n @ 1..=200) => n,
            _ => return Err(ApiError::bad_request("count must be a whole number from 1 to 200")),
        },
    };
    Ok((before, count))
}

/// Checks a name an admin typed (a token name, an admin's user name): trimmed, 1 to `max` characters,
/// nothing invisible.
pub fn checked_name(what: &str, text: &str, max: usize) -> Result<String, ApiError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!("{what} must be 1 to {max} printable characters")));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    #[test]
    fn paging_parameters() {
        assert_eq!(paging(&params("")), Ok((0, 50)));
        assert_eq!(paging(&params("start=100&count=25")), Ok((100, 25)));
        assert!(paging(&params("count=0")).is_err());
        assert!(paging(&params("count=201")).is_err());
        assert!(paging(&params("start=-1")).is_err());
        assert!(paging(&params("start=x")).unwrap_err().message.contains("start"));
    }

    #[test]
    fn names() {
        assert_eq!(checked_name("name", "  okta ", 10), Ok("okta".into()));
        assert!(checked_name("name", "", 10).is_err());
        assert!(checked_name("name", "a\u{7}b", 10).is_err());
        assert!(checked_name("name", &"x".repeat(11), 10).is_err());
    }
}

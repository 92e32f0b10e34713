//! Building responses, and the one place where errors of the lower layers become HTTP.
//!
//! `store_error` and `auth_error` are exhaustive matches without a catch-all arm: a new error variant does
//! not compile until someone decides what a client sees for it. Internal causes are logged, never sent.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::Value;

use super::auth::AuthError;
use crate::scim;
use crate::store::StoreError;

/// The body type of every response.
pub type Body = BoxBody<Bytes, std::convert::Infallible>;

pub const SCIM_JSON: &str = "application/scim+json";
pub const JSON: &str = "application/json";

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

pub fn empty() -> Body {
    full(Bytes::new())
}

/// A response with `status`, a content type and a body.
pub fn with_body(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A body sent as the given pieces in order, without joining them first: a large group's members are
/// rendered once into their own buffer and go out behind the group's head as they are.
#[derive(Debug)]
struct Pieces(std::collections::VecDeque<Bytes>);

impl hyper::body::Body for Pieces {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.get_mut().0.pop_front().map(|piece| Ok(hyper::body::Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.0.iter().map(|piece| piece.len() as u64).sum())
    }
}

/// A response whose body is `pieces` in order (with an exact `Content-Length`).
pub fn with_pieces(status: StatusCode, content_type: &'static str, pieces: Vec<Bytes>) -> Response<Body> {
    let mut response = Response::new(Pieces(pieces.into_iter().filter(|p| !p.is_empty()).collect()).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A SCIM JSON response.
pub fn scim_json(status: StatusCode, value: &Value) -> Response<Body> {
    with_body(status, SCIM_JSON, serde_json::to_vec(value).unwrap_or_default())
}

/// A plain JSON response (admin and platform APIs, probes).
pub fn json(status: StatusCode, value: &Value) -> Response<Body> {
    with_body(status, JSON, serde_json::to_vec(value).unwrap_or_default())
}

/// The RFC 7644 §3.12 response for `error`, with the headers its status calls for.
pub fn scim_error(error: &scim::Error) -> Response<Body> {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = scim_json(status, &error.to_json());
    let headers = response.headers_mut();
    match error.kind {
        scim::Kind::Unauthorized => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"scimbox\""));
        }
        scim::Kind::TooManyRequests | scim::Kind::Unavailable => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        _ => {}
    }
    response
}

/// What a client is told when the argon2 pool cannot run a hash.
pub fn pool_error(error: crate::hashing::PoolError) -> scim::Error {
    match error {
        crate::hashing::PoolError::Full => {
            scim::Error::unavailable("the server is busy hashing passwords; retry in a second")
        }
        crate::hashing::PoolError::Failed(cause) => {
            tracing::error!(%cause, "argon2 failed");
            scim::Error::internal("an internal error occurred; the server log has the details")
        }
    }
}

/// What a client is told when the store fails. Causes that are ours are logged here and hidden.
pub fn store_error(error: StoreError) -> scim::Error {
    match error {
        StoreError::Conflict(what) => scim::Error::uniqueness(format!("{what} is already taken")),
        StoreError::NotFound(what) => scim::Error::not_found(format!("{what} was not found")),
        StoreError::VersionMismatch { current } => scim::Error::precondition_failed(format!(
            "the resource has changed: its current version is W/\"{current}\"; read it again and retry"
        )),
        StoreError::Rejected(error) => error,
        StoreError::Sharing(error) => scim::Error::bad_request(error.to_string()),
        StoreError::Busy => scim::Error::unavailable("the database is busy; retry shortly"),
        StoreError::Closed => scim::Error::unavailable("the server is shutting down"),
        error @ (StoreError::DataDir { .. }
        | StoreError::Open { .. }
        | StoreError::Corrupt { .. }
        | StoreError::NewerSchema { .. }
        | StoreError::Migration { .. }
        | StoreError::Internal(_)) => {
            tracing::error!(%error, "store failure");
            scim::Error::internal("an internal error occurred; the server log has the details")
        }
    }
}

/// The SCIM answer to a failed authentication, with the `Retry-After` a throttled client must honour.
pub fn auth_error_response(error: AuthError) -> Response<Body> {
    let retry_after = match &error {
        AuthError::Throttled(seconds) => Some(*seconds),
        _ => None,
    };
    let mut response = scim_error(&auth_error(error));
    if let Some(value) = retry_after.and_then(|seconds| HeaderValue::from_str(&seconds.to_string()).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// What a client is told when authentication fails.
pub fn auth_error(error: AuthError) -> scim::Error {
    match error {
        AuthError::Missing | AuthError::Malformed | AuthError::Invalid | AuthError::WrongScope { .. } => {
            scim::Error::unauthorized(error.to_string())
        }
        AuthError::Overloaded => scim::Error::unavailable(error.to_string()),
        AuthError::Throttled(_) => scim::Error::too_many_requests(error.to_string()),
        AuthError::Store(error) => store_error(error),
    }
}

//! The SCIM error: what a client is told when a request fails, in the shape of RFC 7644 §3.12.
//!
//! Every failure a SCIM client can see is one `Error`: a `Kind` that fixes the HTTP status and the
//! `scimType`, and a `detail` sentence that says what to fix. The mapping from `Kind` to status and
//! `scimType` is one exhaustive `match`, so a new kind forces a decision. Nothing here knows about hyper:
//! `http/` turns an `Error` into a response.

use serde_json::{Value, json};

/// The schema URI of an error body (RFC 7644 §3.12).
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// What went wrong, as far as the protocol distinguishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 400 `invalidFilter`: the filter syntax was invalid or the attribute/operator combination is not
    /// supported.
    InvalidFilter,
    /// 400 `tooMany`: the filter yields more results than the server is willing to process.
    TooMany,
    /// 409 `uniqueness`: a value that must be unique is already taken.
    Uniqueness,
    /// 400 `mutability`: the request tried to change a readOnly or immutable attribute.
    Mutability,
    /// 400 `invalidSyntax`: the body is not valid JSON or does not follow the schema's structure.
    InvalidSyntax,
    /// 400 `invalidPath`: a PATCH `path` is malformed or names no attribute.
    InvalidPath,
    /// 400 `noTarget`: a PATCH `path` matched nothing where something was required.
    NoTarget,
    /// 400 `invalidValue`: a required value is missing or a value has the wrong type or form.
    InvalidValue,
    /// 400 `invalidVers`: the requested SCIM protocol version is not supported.
    InvalidVersion,
    /// 400 `invalidCursor` (RFC 9865): the `cursor` is not one this server handed out.
    InvalidCursor,
    /// 400 `invalidCount` (RFC 9865): `count` is not a usable page size for cursor pagination.
    InvalidCount,
    /// 400 without `scimType`: a malformed request that none of the typed kinds describes.
    BadRequest,
    /// 401: no credentials, or credentials that are not valid for this endpoint.
    Unauthorized,
    /// 403: valid credentials that may not do this.
    Forbidden,
    /// 404: the resource or endpoint does not exist.
    NotFound,
    /// 405: the endpoint exists but not with this method.
    MethodNotAllowed,
    /// 408: the request body did not arrive within the server's deadline.
    RequestTimeout,
    /// 412: `If-Match` named a version that is no longer current.
    PreconditionFailed,
    /// 413: the body is larger than the configured limit.
    PayloadTooLarge,
    /// 415: a body in a media type we do not read.
    UnsupportedMediaType,
    /// 429: too many requests right now; `Retry-After` says when to come back.
    TooManyRequests,
    /// 500: a fault on our side; the detail is generic and the cause is logged, never sent.
    Internal,
    /// 501: a feature the protocol defines that this server does not offer.
    NotImplemented,
    /// 503: the server cannot answer now (shutting down, database unavailable).
    Unavailable,
}

impl Kind {
    /// The HTTP status of this kind.
    pub fn status(self) -> u16 {
        match self {
            Kind::InvalidFilter
            | Kind::TooMany
            | Kind::Mutability
            | Kind::InvalidSyntax
            | Kind::InvalidPath
            | Kind::NoTarget
            | Kind::InvalidValue
            | Kind::InvalidVersion
            | Kind::InvalidCursor
            | Kind::InvalidCount
            | Kind::BadRequest => 400,
            Kind::Unauthorized => 401,
            Kind::Forbidden => 403,
            Kind::NotFound => 404,
            Kind::MethodNotAllowed => 405,
            Kind::RequestTimeout => 408,
            Kind::Uniqueness => 409,
            Kind::PreconditionFailed => 412,
            Kind::PayloadTooLarge => 413,
            Kind::UnsupportedMediaType => 415,
            Kind::TooManyRequests => 429,
            Kind::Internal => 500,
            Kind::NotImplemented => 501,
            Kind::Unavailable => 503,
        }
    }

    /// The `scimType` keyword of this kind, where RFC 7644 Table 9 defines one.
    pub fn scim_type(self) -> Option<&'static str> {
        match self {
            Kind::InvalidFilter => Some("invalidFilter"),
            Kind::TooMany => Some("tooMany"),
            Kind::Uniqueness => Some("uniqueness"),
            Kind::Mutability => Some("mutability"),
            Kind::InvalidSyntax => Some("invalidSyntax"),
            Kind::InvalidPath => Some("invalidPath"),
            Kind::NoTarget => Some("noTarget"),
            Kind::InvalidValue => Some("invalidValue"),
            Kind::InvalidVersion => Some("invalidVers"),
            Kind::InvalidCursor => Some("invalidCursor"),
            Kind::InvalidCount => Some("invalidCount"),
            Kind::BadRequest
            | Kind::Unauthorized
            | Kind::Forbidden
            | Kind::NotFound
            | Kind::MethodNotAllowed
            | Kind::RequestTimeout
            | Kind::PreconditionFailed
            | Kind::PayloadTooLarge
            | Kind::UnsupportedMediaType
            | Kind::TooManyRequests
            | Kind::Internal
            | Kind::NotImplemented
            | Kind::Unavailable => None,
        }
    }
}

/// A failed SCIM request: the kind and a sentence for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Error {
    pub kind: Kind,
    pub detail: String,
}

impl Error {
    pub fn new(kind: Kind, detail: impl Into<String>) -> Self {
        Error { kind, detail: detail.into() }
    }

    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The RFC 7644 §3.12 body: `status` is a string, `scimType` only where defined.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status().to_string(),
            "detail": self.detail,
        });
        if let Some(scim_type) = self.kind.scim_type() {
            body["scimType"] = Value::from(scim_type);
        }
        body
    }
}

/// Shorthand constructors, one per kind a handler commonly raises.
macro_rules! constructors {
    ($($name:ident => $kind:ident),* $(,)?) => {
        impl Error {
            $(
                #[doc = concat!("An error of kind [`Kind::", stringify!($kind), "`].")]
                pub fn $name(detail: impl Into<String>) -> Self {
                    Error::new(Kind::$kind, detail)
                }
            )*
        }
    };
}

constructors! {
    invalid_filter => InvalidFilter,
    too_many => TooMany,
    uniqueness => Uniqueness,
    mutability => Mutability,
    invalid_syntax => InvalidSyntax,
    invalid_path => InvalidPath,
    no_target => NoTarget,
    invalid_value => InvalidValue,
    invalid_cursor => InvalidCursor,
    invalid_count => InvalidCount,
    bad_request => BadRequest,
    unauthorized => Unauthorized,
    forbidden => Forbidden,
    not_found => NotFound,
    method_not_allowed => MethodNotAllowed,
    request_timeout => RequestTimeout,
    precondition_failed => PreconditionFailed,
    payload_too_large => PayloadTooLarge,
    too_many_requests => TooManyRequests,
    internal => Internal,
    not_implemented => NotImplemented,
    unavailable => Unavailable,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: Kind, status: &str, scim_type: Option<&str>) {
        let body = Error::new(kind, "why").to_json();
        assert_eq!(body["status"], status, "{kind:?}");
        assert_eq!(body["schemas"][0], ERROR_SCHEMA);
        assert_eq!(body["detail"], "why");
        assert_eq!(body.get("scimType").and_then(Value::as_str), scim_type, "{kind:?}");
    }

    #[test]
    fn bodies_follow_rfc7644_section_3_12() {
        check(Kind::InvalidFilter, "400", Some("invalidFilter"));
        check(Kind::Uniqueness, "409", Some("uniqueness"));
        check(Kind::Mutability, "400", Some("mutability"));
        check(Kind::InvalidVersion, "400", Some("invalidVers"));
        check(Kind::NoTarget, "400", Some("noTarget"));
        check(Kind::BadRequest, "400", None);
        check(Kind::Unauthorized, "401", None);
        check(Kind::NotFound, "404", None);
        check(Kind::RequestTimeout, "408", None);
        check(Kind::PreconditionFailed, "412", None);
        check(Kind::PayloadTooLarge, "413", None);
        check(Kind::NotImplemented, "501", None);
    }
}

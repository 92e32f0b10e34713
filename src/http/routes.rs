//! The route table, the per-request envelope (request id, one log line, security headers) and body
//! reading. Every route the server answers is in the `match`es below (the platform API's own table is in
//! `platform/mod.rs`).

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use super::App;
use super::admin::{self, ApiError};
use super::auth::Principal;
use super::platform;
use super::reply::{self, Body};
use super::scim as scim_handlers;
use super::web;
use crate::credentials::Scope;
use crate::scim;

/// What the envelope learns while a request is handled, for its log line.
#[derive(Debug, Default)]
pub struct Exchange {
    pub principal: Option<Principal>,
}

/// Serves one request: routes it, stamps the response, and logs one line.
pub async fn handle(app: Arc<App>, mut request: Request<Incoming>) -> Response<Body> {
    let started = Instant::now();
    let body_deadline = tokio::time::Instant::from_std(started) + app.config.limits.body_timeout;
    request.extensions_mut().insert(BodyDeadline(body_deadline));
    let request_id = app.next_request_id();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let version = request.version();
    let mut exchange = Exchange::default();

    let mut response = route(&app, request, &mut exchange).await;

    let headers = response.headers_mut();
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert("x-request-id", id);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // API answers hold names, e-mail addresses and, once, a token: no cache keeps them. Page files keep
    // their own caching (ETags).
    if is_api(&path) && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if app.config.tls.is_some() {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    let status = response.status().as_u16();
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let token = exchange.principal.as_ref().map(|p| p.token_name.as_str());
    // The query string is left out on purpose: SCIM filters carry user names and e-mail addresses.
    if path.starts_with("/scim/v2") {
        let facts = admin::recorder::Facts { request_id: &request_id, method: &method, path: &path, latency_us };
        response = admin::recorder::record(&app, response, facts, exchange.principal.as_ref()).await;
    }
    tracing::info!(
        target: "scimbox::request",
        request_id = %request_id,
        method = %method,
        path = %LogSafe(&path),
        version = ?version,
        status,
        latency_us,
        token,
        "request"
    );
    response
}

/// Whether `path` is one of the JSON APIs (SCIM, platform, admin) rather than the page.
fn is_api(path: &str) -> bool {
    ["/scim/", "/api/", "/admin/api/"].iter().any(|prefix| path.starts_with(prefix))
}

/// A request path as a log line may show it: the client chose every character, so quotes, backslashes,
/// control characters and anything outside printable ASCII (bidi overrides such as U+202E, zero-width
/// characters) are written as escapes, and a log reader sees exactly what was sent.
#[derive(Debug)]
pub struct LogSafe<'a>(pub &'a str);

impl std::fmt::Display for LogSafe<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                ' '..='~' => f.write_char(c)?,
                other => write!(f, "\\u{{{:x}}}", u32::from(other))?,
            }
        }
        Ok(())
    }
}

/// The host a request names (its HTTP/2 `:authority` or its `Host` header), when it names one.
pub fn requested_host<B>(request: &Request<B>) -> Option<&str> {
    match request.uri().authority() {
        Some(authority) => Some(authority.as_str()),
        None => request.headers().get(header::HOST).map(|h| h.to_str().unwrap_or("\0")),
    }
}

/// Whether `host` is a well-formed `host[:port]`: a DNS name or IPv4 address (letters, digits, dots,
/// hyphens) or a bracketed IPv6 address, and an optional decimal port. Nothing else (no user info, no
/// quotes, spaces or slashes), since the host may become part of `Location`, `meta.location` and the
/// base URL the page shows.
pub fn is_well_formed_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && (name.starts_with('[') == name.ends_with(']')) => {
            (name, Some(port))
        }
        _ => (host, None),
    };
    let port_ok = port.is_none_or(|port| !port.is_empty() && port.len() <= 5 && port.parse::<u16>().is_ok());
    let name_ok = match name.strip_prefix('[').and_then(|inner| inner.strip_suffix(']')) {
        Some(inner) => inner.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !name.is_empty()
                && name.len() <= 253
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                && !name.starts_with(['.', '-'])
        }
    };
    port_ok && name_ok
}

async fn route(app: &App, request: Request<Incoming>, exchange: &mut Exchange) -> Response<Body> {
    let path = request.uri().path().to_owned();
    if requested_host(&request).is_some_and(|host| !is_well_formed_host(host)) {
        // RFC 9112 §3.2: a Host with an invalid value is a bad request.
        let detail = "the Host header must be a host name or address with an optional port";
        return if path.starts_with("/scim/") {
            reply::scim_error(&scim::Error::bad_request(detail))
        } else if is_api(&path) {
            admin::error_response(&ApiError::bad_request(detail))
        } else {
            plain(StatusCode::BAD_REQUEST, "bad request: the Host header is malformed")
        };
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let get = matches!(*request.method(), Method::GET | Method::HEAD);
    match (request.method(), segments.as_slice()) {
        (_, ["scim", "v2", rest @ ..]) => scim_route(app, request, rest, exchange).await,
        (&Method::GET | &Method::HEAD, ["healthz"]) => reply::json(StatusCode::OK, &json!({"status": "ok"})),
        (&Method::GET | &Method::HEAD, ["readyz"]) => readiness(app).await,
        (_, ["healthz" | "readyz"]) => plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        (_, ["admin", "api", rest @ ..]) => admin_route(app, request, rest).await,
        (_, ["api", "v1", rest @ ..]) => platform::route(app, request, rest, exchange).await,
        (_, ["setup"]) if get => setup_page(app, request.headers()).await,
        (_, [] | ["login" | "integrations" | "users" | "groups" | "assets" | "activity" | "admins"]) if get => {
            page(request.headers(), "index.html")
        }
        (_, ["users" | "groups" | "assets", _]) if get => page(request.headers(), "index.html"),
        (_, [file]) if get => page(request.headers(), file),
        _ => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

/// The SCIM endpoints: every one needs a token of scope `scim`.
async fn scim_route(app: &App, request: Request<Incoming>, rest: &[&str], exchange: &mut Exchange) -> Response<Body> {
    let authorization = request.headers().get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
    let client = admin::session::client_ip(&request);
    match app.tokens.authenticate(authorization, Scope::Scim, client).await {
        Ok(principal) => exchange.principal = Some(principal),
        Err(error) => return reply::auth_error_response(error),
    }
    use scim_handlers::{bulk, discovery, groups, root, users};
    let method = request.method().clone();
    // Endpoint names are matched whatever their case (`/users` from some clients); ids are kept as sent.
    let endpoint = rest.first().map(|name| {
        ["Users", "Groups", "Bulk", "Me", "ServiceProviderConfig", "ResourceTypes", "Schemas"]
            .into_iter()
            .find(|known| known.eq_ignore_ascii_case(name))
            .unwrap_or(name)
    });
    let canonical: Vec<&str> = endpoint.into_iter().chain(rest.iter().skip(1).copied()).collect();
    let rest = canonical.as_slice();
    let result: Result<Response<Body>, scim::Error> = match (&method, rest) {
        (&Method::GET, ["Users"]) => users::list(app, request, false).await,
        (&Method::POST, ["Users"]) => users::create(app, request).await,
        (&Method::POST, ["Users", ".search"]) => users::list(app, request, true).await,
        (&Method::GET, ["Users", id]) => users::get(app, request, id).await,
        (&Method::PUT, ["Users", id]) => users::replace(app, request, id).await,
        (&Method::PATCH, ["Users", id]) => users::patch(app, request, id).await,
        (&Method::DELETE, ["Users", id]) => users::delete(app, request, id).await,
        (&Method::GET, ["Groups"]) => groups::list(app, request, false).await,
        (&Method::POST, ["Groups"]) => groups::create(app, request).await,
        (&Method::POST, ["Groups", ".search"]) => groups::list(app, request, true).await,
        (&Method::GET, ["Groups", id]) => groups::get(app, request, id).await,
        (&Method::PUT, ["Groups", id]) => groups::replace(app, request, id).await,
        (&Method::PATCH, ["Groups", id]) => groups::patch(app, request, id).await,
        (&Method::DELETE, ["Groups", id]) => groups::delete(app, request, id).await,
        (&Method::POST, [".search"]) => root::search(app, request).await,
        (&Method::POST, ["Bulk"]) => bulk::handle(app, request).await,
        (&Method::GET, ["ServiceProviderConfig"]) => discovery::service_provider_config(app, &request),
        (&Method::GET, ["ResourceTypes"]) => discovery::resource_types(app, &request, None),
        (&Method::GET, ["ResourceTypes", id]) => discovery::resource_types(app, &request, Some(id)),
        (&Method::GET, ["Schemas"]) => discovery::schemas(app, &request, None),
        (&Method::GET, ["Schemas", id]) => discovery::schemas(app, &request, Some(id)),
        (_, [endpoint @ ("ServiceProviderConfig" | "ResourceTypes" | "Schemas"), ..]) => {
            Err(discovery::read_only(endpoint))
        }
        (_, ["Me", ..]) => {
            Err(scim::Error::not_implemented("/Me is not offered: tokens belong to provisioning clients, not to users"))
        }
        (_, ["Users" | "Groups" | "Bulk", ..]) | (_, [".search"]) => {
            Err(scim::Error::method_not_allowed(format!("{method} is not allowed on /scim/v2/{}", rest.join("/"))))
        }
        _ => Err(scim::Error::not_found(format!("there is no SCIM endpoint /scim/v2/{}", rest.join("/")))),
    };
    result.unwrap_or_else(|error| reply::scim_error(&error))
}

/// The admin API the page uses. Setup and sign-in are open; every other route needs a session, and every
/// change (anything but GET and HEAD) also the session's CSRF token: `session::authenticate` checks both
/// before any handler runs.
async fn admin_route(app: &App, mut request: Request<Incoming>, rest: &[&str]) -> Response<Body> {
    use admin::{accounts, activity, directory, session, tokens};
    let method = request.method().clone();
    if matches!(rest, ["setup" | "login"]) {
        // No credential is needed to send these bodies, so they get the tightest deadline.
        let open = tokio::time::Instant::now() + app.config.limits.body_timeout.min(crate::config::OPEN_BODY_TIMEOUT);
        if let Some(deadline) = request.extensions_mut().get_mut::<BodyDeadline>() {
            deadline.0 = deadline.0.min(open);
        }
    }
    match (&method, rest) {
        (&Method::GET, ["setup"]) => return admin::respond(session::setup_state(app).await),
        (&Method::POST, ["setup"]) => return admin::respond(session::setup(app, request).await),
        (&Method::POST, ["login"]) => return admin::respond(session::login(app, request).await),
        (_, ["setup" | "login"]) => return admin::error_response(&not_allowed(&method)),
        _ => {}
    }
    let caller = match session::authenticate(app, &request).await {
        Ok(caller) => caller,
        Err(error) => return admin::error_response(&error),
    };
    let result = match (&method, rest) {
        (&Method::GET, ["me"]) => Ok(session::me(&caller)),
        (&Method::POST, ["logout"]) => session::logout(app, &caller).await,
        (&Method::POST, ["password"]) => accounts::change_password(app, &caller, request).await,
        (&Method::GET, ["integration"]) => tokens::integration(app, &request),
        (&Method::GET, ["tokens"]) => tokens::list(app).await,
        (&Method::POST, ["tokens"]) => tokens::create(app, &caller, request).await,
        (&Method::DELETE, ["tokens", id]) => tokens::revoke(app, &caller, id).await,
        (&Method::GET, ["users"]) => directory::users(app, &request).await,
        (&Method::GET, ["users", id]) => directory::user(app, &request, id).await,
        (&Method::GET, ["groups"]) => directory::groups(app, &request).await,
        (&Method::GET, ["groups", id]) => directory::group(app, &request, id).await,
        (&Method::GET, ["activity"]) => activity::list(app, &request).await,
        (&Method::GET, ["admins"]) => accounts::list(app, &caller).await,
        (&Method::POST, ["admins"]) => accounts::create(app, &caller, request).await,
        (&Method::DELETE, ["admins", id]) => accounts::remove(app, &caller, id).await,
        (_, ["me" | "logout" | "password" | "integration" | "activity"])
        | (_, ["tokens" | "users" | "groups" | "admins", ..]) => Err(not_allowed(&method)),
        _ => Err(ApiError::not_found(format!("there is no admin API /admin/api/{}", rest.join("/")))),
    };
    admin::respond(result)
}

fn not_allowed(method: &Method) -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, format!("{method} is not allowed here"))
}

/// The setup page exists only while no admin does.
async fn setup_page(app: &App, headers: &hyper::HeaderMap) -> Response<Body> {
    match app.store.admin_count().await {
        Ok(0) => page(headers, "index.html"),
        Ok(_) => plain(StatusCode::NOT_FOUND, "not found"),
        Err(error) => {
            tracing::warn!(%error, "cannot count admins");
            plain(StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn readiness(app: &App) -> Response<Body> {
    match app.store.ping().await {
        Ok(()) => reply::json(StatusCode::OK, &json!({"status": "ready"})),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            reply::json(StatusCode::SERVICE_UNAVAILABLE, &json!({"status": "database unavailable"}))
        }
    }
}

fn page(headers: &hyper::HeaderMap, file: &str) -> Response<Body> {
    match web::asset(file, headers) {
        Some(mut response) => {
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
                ),
            );
            response
        }
        None => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    reply::with_body(status, "text/plain; charset=utf-8", text)
}

/// When a request's body must have arrived: put into every request's extensions by [`handle`], tighter on
/// the routes that need no credential.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline(pub tokio::time::Instant);

/// Reads a whole request body, refusing more than `limit` bytes with 413 (early when `Content-Length`
/// already says so, otherwise as soon as the stream passes the limit), and a body that has not arrived by
/// the request's [`BodyDeadline`] with 408: a trickled body, or one shorter than its `Content-Length`,
/// holds its connection no longer than that.
pub async fn read_body(request: Request<Incoming>, limit: usize) -> Result<Bytes, scim::Error> {
    let too_large = || scim::Error::payload_too_large(format!("the request body is larger than {limit} bytes"));
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let deadline = request.extensions().get::<BodyDeadline>().copied();
    let collect = Limited::new(request.into_body(), limit).collect();
    let collected = match deadline {
        Some(BodyDeadline(at)) => match tokio::time::timeout_at(at, collect).await {
            Ok(collected) => collected,
            Err(_) => {
                return Err(scim::Error::request_timeout(
                    "the request body did not arrive in time; send it whole and at once",
                ));
            }
        },
        None => collect.await,
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large()),
        Err(error) => Err(scim::Error::bad_request(format!("the request body could not be read: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, logged: &str) {
        assert_eq!(LogSafe(path).to_string(), logged, "{path:?}");
    }

    #[test]
    fn hosts() {
        for good in [
            "scim.example.com",
            "scim.example.com:8443",
            "127.0.0.1",
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:8080",
            "localhost",
        ] {
            assert!(is_well_formed_host(good), "{good}");
        }
        for bad in [
            "127.0.0.1:1@evil.example",
            "user@host",
            "evil.example\"",
            "a b",
            "host:",
            "host:99999",
            "host:8a",
            "[::1",
            "::1",
            "[not-v6]:80",
            "",
            "-leading.example",
            "a/b",
            "\0",
        ] {
            assert!(!is_well_formed_host(bad), "{bad}");
        }
    }

    #[test]
    fn paths_are_logged_with_escapes() {
        check("/scim/v2/Users", "/scim/v2/Users");
        check("/a\u{202e}gnp.exe", "/a\\u{202e}gnp.exe");
        check("/\"quoted\"", "/\\\"quoted\\\"");
        check("/back\\slash", "/back\\\\slash");
        check("/tab\there\n", "/tab\\u{9}here\\u{a}");
        check("/zero\u{200b}width/é", "/zero\\u{200b}width/\\u{e9}");
    }
}

//! The top of `http/`: the per-request envelope (request id, one log line, security headers, the Activity
//! record) and the route table. Every route the server answers is in the `match`es below (the platform
//! API's own table is in `platform/mod.rs`).

use std::sync::Arc;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use super::json_api::{self, ApiError};
use super::reply::{self, Body};
use super::request::{BodyDeadline, LogSafe, client_ip, is_well_formed_host, requested_host};
use super::scim as scim_handlers;
use super::{App, Exchange, admin, me, metrics, oidc, platform, recorder, session, web};
use crate::credentials::Scope;
use crate::scim;

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
    let elapsed = started.elapsed();
    let latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    let token = exchange.principal.as_ref().map(|p| p.token_name.as_str());
    app.metrics.request(metrics::route_class(&path), &method, status, elapsed);
    // The query string is left out on purpose: SCIM filters carry user names and e-mail addresses.
    if path.starts_with("/scim/v2") {
        if let Some(token) = token {
            app.metrics.scim_operation(token, &metrics::scim_operation(&method, &path), status);
        }
        let facts = recorder::Facts {
            request_id: &request_id,
            method: &method,
            path: &path,
            latency_us,
            presented_token: exchange.presented_token.as_deref(),
        };
        response = recorder::record(&app, response, facts, exchange.principal.as_ref()).await;
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

async fn route(app: &App, request: Request<Incoming>, exchange: &mut Exchange) -> Response<Body> {
    let path = request.uri().path().to_owned();
    if requested_host(&request).is_some_and(|host| !is_well_formed_host(host)) {
        // RFC 9112 §3.2: a Host with an invalid value is a bad request.
        let detail = "the Host header must be a host name or address with an optional port";
        return if path.starts_with("/scim/") {
            reply::scim_error(&scim::Error::bad_request(detail))
        } else if is_api(&path) {
            json_api::error_response(&ApiError::bad_request(detail))
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
        (&Method::GET, ["api", "me"]) => json_api::respond(me::access(app, &request).await),
        (_, ["api", "me"]) => json_api::error_response(&not_allowed(request.method())),
        (&Method::GET, ["auth", "oidc", "start"]) => oidc::start(app, request).await,
        (&Method::GET, ["auth", "oidc", "callback"]) => oidc::callback(app, request).await,
        (_, ["auth", "oidc", "start" | "callback"]) => plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        (_, ["setup"]) if get => setup_page(app, request.headers()).await,
        (
            _,
            [] | ["login" | "me" | "integrations" | "users" | "groups" | "assets" | "activity" | "audit" | "admins"],
        ) if get => page(request.headers(), "index.html"),
        (_, ["users" | "groups" | "assets", _]) if get => page(request.headers(), "index.html"),
        (_, [file]) if get => page(request.headers(), file),
        _ => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

/// The SCIM endpoints: every one needs a token of scope `scim`.
async fn scim_route(
    app: &App,
    mut request: Request<Incoming>,
    rest: &[&str],
    exchange: &mut Exchange,
) -> Response<Body> {
    let authorization = request.headers().get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
    let client = client_ip(&request);
    match app.tokens.authenticate(authorization, Scope::Scim, client).await {
        Ok(principal) => {
            // What the request changes is the identity provider's doing, by this token (`request::actor`
            // names it so when a handler writes: reads never need the actor).
            request.extensions_mut().insert(principal.clone());
            exchange.principal = Some(principal);
        }
        Err(error) => {
            // The token's public id, so that Activity can name a revoked or expired token.
            exchange.presented_token = super::auth::presented_token_id(authorization);
            return reply::auth_error_response(error);
        }
    }
    use scim_handlers::{bulk, discovery, groups, root, users};
    let method = request.method().clone();
    // Endpoint names are matched whatever their case (`/users` from some clients); ids are kept as sent.
    let endpoint = rest.first().map(|name| super::request::scim_endpoint(name).unwrap_or(name));
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
        // Boxed: a request's future is as large as its largest branch, and it is moved whole on its way
        // into hyper. Bulk's (7 KB) and the root search's (5 KB) made every lookup's copy that large.
        (&Method::POST, [".search"]) => Box::pin(root::search(app, request)).await,
        (&Method::POST, ["Bulk"]) => Box::pin(bulk::handle(app, request)).await,
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
    use admin::{accounts, activity, audit, directory, tokens};
    let method = request.method().clone();
    if matches!(rest, ["setup" | "login"]) {
        // No credential is needed to send these bodies, so they get the tightest deadline.
        let open = tokio::time::Instant::now() + app.config.limits.body_timeout.min(crate::config::OPEN_BODY_TIMEOUT);
        if let Some(deadline) = request.extensions_mut().get_mut::<BodyDeadline>() {
            deadline.0 = deadline.0.min(open);
        }
    }
    match (&method, rest) {
        (&Method::GET, ["setup"]) => return json_api::respond(admin::session::setup_state(app).await),
        (&Method::POST, ["setup"]) => return json_api::respond(admin::session::setup(app, request).await),
        (&Method::POST, ["login"]) => return json_api::respond(admin::session::login(app, request).await),
        (&Method::GET, ["session"]) => return json_api::respond(admin::session::current(app, &request).await),
        (&Method::POST, ["logout"]) => {
            // Anyone signed in may sign out, admin or not.
            let result = match session::signed_in(app, &request).await {
                Ok(signed) => admin::session::logout(app, &request, &signed).await,
                Err(error) if error.status == StatusCode::UNAUTHORIZED => {
                    return admin::session::logout_signed_out(app);
                }
                Err(error) => Err(error),
            };
            return json_api::respond(result);
        }
        (_, ["setup" | "login" | "session"]) => return json_api::error_response(&not_allowed(&method)),
        _ => {}
    }
    let caller = match session::authenticate(app, &request).await {
        Ok(caller) => caller,
        Err(error) => return json_api::error_response(&error),
    };
    let result = match (&method, rest) {
        (&Method::GET, ["me"]) => Ok(admin::session::me(app, &caller)),
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
        (&Method::GET, ["audit"]) => audit::list(app, &request).await,
        (&Method::GET, ["audit", "export"]) => audit::export(app, &request).await,
        (&Method::GET, ["admins"]) => accounts::list(app, &caller).await,
        (&Method::POST, ["admins"]) => accounts::create(app, &caller, request).await,
        (&Method::DELETE, ["admins", id]) => accounts::remove(app, &caller, id).await,
        (_, ["me" | "logout" | "password" | "integration" | "activity" | "audit"] | ["audit", "export"])
        | (_, ["tokens" | "users" | "groups" | "admins", ..]) => Err(not_allowed(&method)),
        _ => Err(ApiError::not_found(format!("there is no admin API /admin/api/{}", rest.join("/")))),
    };
    json_api::respond(result)
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

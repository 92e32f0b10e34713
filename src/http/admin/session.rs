//! Signing in and out, the first-run setup, and the check every other admin request passes.
//!
//! A session is a 256-bit random id in the `scimbox_session` cookie (`HttpOnly; SameSite=Strict; Path=/`,
//! `Secure` when the page is served over HTTPS); the store keeps only its SHA-256, with an absolute expiry
//! and an idle timeout. The CSRF token is the SHA-256 of a fixed label and the session id: unguessable
//! without the cookie, derivable again on every request (so nothing more is stored), and unrelated to
//! the stored hash. Every request that is not GET or HEAD must echo it in `X-CSRF-Token`.
//!
//! Passwords are verified with argon2id in the process's one pool (`hashing.rs`); an unknown user name is
//! verified against a dummy hash so that the answer takes as long as for a real one. Failures are
//! counted by the sign-in throttle (`http/throttle.rs`), which a wrong current password on a password
//! change also counts against.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{ApiError, ApiResult, answer, body, no_content};
use crate::credentials;
use crate::hashing::Lane;
use crate::http::App;
use crate::http::reply::Body;
use crate::store::{AdminRecord, StoreError};

pub const COOKIE: &str = "scimbox_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Session ids are this many random bytes (hex in the cookie).
const ID_BYTES: usize = 32;
/// Longest admin user name.
pub const USERNAME_MAX_CHARS: usize = credentials::ADMIN_NAME_MAX_CHARS;

/// The address of the client that sent a request, put into its extensions by the accept loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// A signed-in admin making a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub admin: AdminRecord,
    /// The hex SHA-256 of the session id, as stored.
    pub session_hash: String,
    pub csrf_token: String,
    pub expires_at: String,
}

/// The admin JSON the page shows.
pub fn admin_json(admin: &AdminRecord) -> serde_json::Value {
    json!({ "id": admin.id, "username": admin.username, "createdAt": admin.created_at })
}

fn hash_id(id: &str) -> String {
    credentials::hex(&Sha256::digest(id.as_bytes()))
}

fn csrf_for(id: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"scimbox csrf token\0");
    digest.update(id.as_bytes());
    credentials::hex(&digest.finalize())
}

/// The session id in the request's cookies, if it has the right shape.
fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| value.len() == ID_BYTES * 2 && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn duration(d: std::time::Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

/// Checks the session cookie (and, for a change, the CSRF header) of a request to the admin API.
pub async fn authenticate<B>(app: &App, request: &Request<B>) -> Result<Caller, ApiError> {
    let id = session_id(request.headers()).ok_or_else(ApiError::unauthorized)?;
    let settings = &app.config.admin;
    let idle = duration(settings.session_idle_timeout);
    let now = crate::store::now();
    let session = app.store.session(hash_id(&id), now, idle).await?.ok_or_else(ApiError::unauthorized)?;
    let csrf_token = csrf_for(&id);
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let presented = request.headers().get(CSRF_HEADER).map(HeaderValue::as_bytes).unwrap_or_default();
        if !bool::from(presented.ct_eq(csrf_token.as_bytes())) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this change needs the page's X-CSRF-Token header; reload the page and try again",
            ));
        }
    }
    // The idle clock is refreshed every tenth of the idle timeout (at most every minute), not on every
    // request: an admin who keeps working is never signed out, and reads cost no write.
    let refresh = std::cmp::min(idle / 10_i32, time::Duration::minutes(1));
    if now - session.last_seen >= refresh {
        app.store.touch_session(hash_id(&id), now).await?;
    }
    Ok(Caller { admin: session.admin, session_hash: hash_id(&id), csrf_token, expires_at: session.expires_at })
}

/// Whether the page is served over HTTPS, directly or behind a proxy named by `--public-url`.
fn secure(app: &App) -> bool {
    app.config.tls.is_some() || app.config.public_url.as_ref().is_some_and(|url| url.as_str().starts_with("https:"))
}

fn cookie(app: &App, value: &str, max_age: u64) -> HeaderValue {
    let secure = if secure(app) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("scimbox_session=; Path=/; Max-Age=0"))
}

/// Starts a session for `admin` and answers with its cookie and what the page needs.
async fn start_session(app: &App, admin: &AdminRecord, status: StatusCode) -> ApiResult {
    let id = credentials::random_hex(ID_BYTES).map_err(|e| ApiError::internal(e.to_string()))?;
    let settings = &app.config.admin;
    let now = crate::store::now();
    let lifetime = duration(settings.session_lifetime);
    app.store.create_session(hash_id(&id), &admin.id, now, lifetime, duration(settings.session_idle_timeout)).await?;
    let expires_at = crate::store::format_time(now + lifetime);
    let mut response =
        answer(status, &json!({ "admin": admin_json(admin), "csrfToken": csrf_for(&id), "expiresAt": expires_at }));
    response.headers_mut().insert(header::SET_COOKIE, cookie(app, &id, settings.session_lifetime.as_secs()));
    Ok(response)
}

/// Verifies a password against a PHC hash in the argon2 pool.
pub async fn verify_password(app: &App, password: String, hash: String) -> Result<bool, ApiError> {
    Ok(app.store.argon2().verify(Lane::Interactive, password, hash).await?)
}

/// Hashes a new admin password in the argon2 pool.
pub async fn hash_password(app: &App, password: String) -> Result<String, ApiError> {
    Ok(app.store.argon2().hash(Lane::Interactive, password).await?)
}

/// 429 with `Retry-After` while the throttle holds `username` at `address`.
pub fn check_throttle(app: &App, username: &str, address: Option<IpAddr>) -> Result<(), ApiError> {
    let Some(wait) = app.admin.throttle.wait(username, address, Instant::now()) else { return Ok(()) };
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Err(ApiError {
        status: StatusCode::TOO_MANY_REQUESTS,
        message: format!("too many failed attempts; try again in {seconds} seconds"),
        retry_after: Some(seconds),
    })
}

/// The client address of a request, as the accept loop recorded it.
pub fn client_ip<B>(request: &Request<B>) -> Option<IpAddr> {
    request.extensions().get::<ClientAddr>().map(|a| a.0.ip())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    username: String,
    password: String,
}

/// `POST /admin/api/login`.
pub async fn login(app: &App, request: Request<Incoming>) -> ApiResult {
    let address = client_ip(&request);
    let SignIn { username, password } = body(request).await?;
    let username = username.trim().to_owned();
    if username.is_empty() || password.is_empty() {
        return Err(ApiError::bad_request("enter a user name and a password"));
    }
    check_throttle(app, &username, address)?;
    let found = if username.chars().count() <= USERNAME_MAX_CHARS {
        app.store.admin_credentials(&username).await?
    } else {
        None
    };
    let hash = found.as_ref().map_or_else(|| app.admin.dummy_hash.clone(), |f| f.password_hash.clone());
    let bounded = password.len() <= credentials::PASSWORD_MAX_BYTES;
    let matches = bounded && verify_password(app, password, hash).await?;
    match found {
        Some(found) if matches => {
            app.admin.throttle.succeeded(&username, address);
            tracing::info!(admin = %found.admin.username, "admin signed in");
            start_session(app, &found.admin, StatusCode::OK).await
        }
        _ => {
            app.admin.throttle.failed(&username, address, Instant::now());
            tracing::info!(address = ?address, "failed admin sign-in");
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "the user name or the password is wrong"))
        }
    }
}

/// `POST /admin/api/logout`: ends the session and clears the cookie.
pub async fn logout(app: &App, caller: &Caller) -> ApiResult {
    app.store.delete_session(caller.session_hash.clone()).await?;
    let mut response = no_content();
    response.headers_mut().insert(header::SET_COOKIE, cookie(app, "", 0));
    Ok(response)
}

/// `GET /admin/api/me`: who is signed in, and the CSRF token the page sends with changes.
pub fn me(caller: &Caller) -> Response<Body> {
    answer(
        StatusCode::OK,
        &json!({ "admin": admin_json(&caller.admin), "csrfToken": caller.csrf_token, "expiresAt": caller.expires_at }),
    )
}

fn setup_done() -> ApiError {
    ApiError::not_found("setup is complete: an admin exists. Sign in instead")
}

/// `GET /admin/api/setup`: 200 while no admin exists, 404 afterwards.
pub async fn setup_state(app: &App) -> ApiResult {
    if app.store.admin_count().await? > 0 {
        return Err(setup_done());
    }
    Ok(answer(StatusCode::OK, &json!({ "needed": true })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Setup {
    code: String,
    username: String,
    password: String,
}

/// `POST /admin/api/setup`: creates the first admin with the one-time code of the setup link, and signs
/// them in.
pub async fn setup(app: &App, request: Request<Incoming>) -> ApiResult {
    if app.store.admin_count().await? > 0 {
        return Err(setup_done());
    }
    let Setup { code, username, password } = body(request).await?;
    if !app.check_setup_code(code.trim()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this setup link is not valid: it works once, until scimbox restarts. Restart scimbox for a new \
             link, or run `scimbox admin create`",
        ));
    }
    let username = credentials::check_admin_name(&username).map_err(|e| ApiError::bad_request(e.to_string()))?;
    credentials::check_password(&username, &password).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let hash = hash_password(app, password).await?;
    let admin = match app.store.create_first_admin(&username, hash).await {
        Ok(admin) => admin,
        Err(StoreError::Conflict(_)) => return Err(setup_done()),
        Err(error) => return Err(error.into()),
    };
    app.clear_setup_code();
    tracing::info!(admin = %admin.username, "first admin created with the setup link");
    start_session(app, &admin, StatusCode::CREATED).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        headers
    }

    #[test]
    fn session_cookie_is_found_and_shape_checked() {
        let id = "ab".repeat(32);
        assert_eq!(session_id(&headers(&format!("{COOKIE}={id}"))), Some(id.clone()));
        assert_eq!(session_id(&headers(&format!("theme=dark; {COOKIE}={id}; x=1"))), Some(id.clone()));
        assert_eq!(session_id(&headers(&format!("{COOKIE}={}", &id[1..]))), None);
        assert_eq!(session_id(&headers(&format!("{COOKIE}={}zz", &id[2..]))), None);
        assert_eq!(session_id(&headers("other=1")), None);
        assert_eq!(session_id(&HeaderMap::new()), None);
    }

    #[test]
    fn csrf_token_is_neither_the_id_nor_its_stored_hash() {
        let id = "cd".repeat(32);
        let csrf = csrf_for(&id);
        assert_ne!(csrf, id);
        assert_ne!(csrf, hash_id(&id));
        assert_eq!(csrf, csrf_for(&id));
        assert_ne!(csrf, csrf_for(&"ce".repeat(32)));
    }
}

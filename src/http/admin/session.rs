//! Signing in and out and the first-run setup: the handlers that start and end the sessions which
//! `http/session.rs` checks.
//!
//! Passwords are verified with argon2id in the process's one pool (`hashing.rs`); an unknown user name is
//! verified against a dummy hash so that the answer takes as long as for a real one. Failures are
//! counted by the sign-in throttle (`http/throttle.rs`), which a wrong current password on a password
//! change also counts against.

use std::net::IpAddr;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::audit::{Action, Actor, Entry, Target};
use crate::credentials;
use crate::hashing::Lane;
use crate::http::App;
use crate::http::json_api::{ApiError, ApiResult, answer, body, no_content};
use crate::http::reply::Body;
use crate::http::request::client_ip;
use crate::http::session::{COOKIE, Caller, ID_BYTES, SignedIn, csrf_for, duration, hash_id};
use crate::store::{AdminRecord, StoreError};

/// Longest admin user name.
pub const USERNAME_MAX_CHARS: usize = credentials::ADMIN_NAME_MAX_CHARS;

/// The admin JSON the page shows.
pub fn admin_json(admin: &AdminRecord) -> serde_json::Value {
    json!({ "id": admin.id, "username": admin.username, "createdAt": admin.created_at })
}

/// Whether the page is served over HTTPS, directly or behind a proxy named by `--public-url`.
pub(crate) fn secure(app: &App) -> bool {
    app.config.tls.is_some() || app.config.public_url.as_ref().is_some_and(|url| url.as_str().starts_with("https:"))
}

pub(crate) fn cookie(app: &App, value: &str, max_age: u64) -> HeaderValue {
    let secure = if secure(app) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("scimbox_session=; Path=/; Max-Age=0"))
}

/// Starts a session for `admin`, signing in from `address`, and answers with its cookie and what the page
/// needs.
async fn start_session(app: &App, admin: &AdminRecord, address: Option<IpAddr>, status: StatusCode) -> ApiResult {
    let id = credentials::random_hex(ID_BYTES).map_err(|e| ApiError::internal(e.to_string()))?;
    let settings = &app.config.admin;
    let now = crate::store::now();
    let lifetime = duration(settings.session_lifetime);
    let actor = Actor::admin(&admin.id, &admin.username, address);
    app.store.create_session(&actor, hash_id(&id), admin, now, lifetime).await?;
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

/// Records a failed password check (`failure`, a sign-in or a password change) and, when the failure
/// made the sign-in throttle lock (`lock`), the lockout that begins: not every refusal while it lasts.
pub async fn record_failure(
    app: &App,
    actor: Actor,
    failure: Entry,
    lock: Option<std::time::Duration>,
    known_name: bool,
) -> Result<(), ApiError> {
    let target = failure.target.clone();
    app.store.audit(actor.clone(), failure).await?;
    if let Some(lock) = lock {
        let details = json!({ "lockedForSeconds": lock.as_secs().max(1), "knownName": known_name });
        app.store.audit(actor, Entry::new(Action::LockedOut, target, details)).await?;
    }
    Ok(())
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
    if !app.config.admin.password_sign_in {
        let provider = app.oidc.as_ref().map_or("the identity provider", |p| p.settings().display_name.as_str());
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("sign-in with a password is turned off here; sign in with {provider}"),
        ));
    }
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
            start_session(app, &found.admin, address, StatusCode::OK).await
        }
        _ => {
            let lock = app.admin.throttle.failed(&username, address, Instant::now());
            tracing::info!(address = ?address, "failed admin sign-in");
            // The name is recorded only when an admin has it: what someone typed into the name field can
            // be a password.
            let target = found.as_ref().map(|f| Target::new("admin", f.admin.id.clone(), f.admin.username.clone()));
            let failure = Entry::new(Action::SignInFailed, target, json!({ "knownName": found.is_some() }));
            record_failure(app, Actor::anonymous(address), failure, lock, found.is_some()).await?;
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "the user name or the password is wrong"))
        }
    }
}

/// `POST /admin/api/logout`, for any session: ends it and clears the cookie. For someone signed in
/// through the identity provider, the answer offers the provider's sign-out (RP-initiated logout) when
/// it has one.
pub async fn logout(app: &App, request: &Request<Incoming>, signed: &SignedIn) -> ApiResult {
    let provider_sign_out = match signed {
        SignedIn::Admin(caller) if !caller.through_provider => {
            app.store.delete_session(&caller.actor(), caller.session_hash.clone()).await?;
            None
        }
        _ => {
            let sealed = app.store.delete_user_session(&signed.actor(), signed.session_hash().to_owned()).await?;
            let id_token = match (crate::http::session::session_id(request.headers()), sealed) {
                (Some(id), Some(sealed)) => crate::http::oidc::unseal(&id, &sealed),
                _ => None,
            };
            app.oidc.as_ref().and_then(|provider| provider.end_session_url(id_token.as_deref()))
        }
    };
    let mut response = match provider_sign_out {
        Some(url) => answer(StatusCode::OK, &json!({ "providerSignOut": url })),
        None => no_content(),
    };
    response.headers_mut().insert(header::SET_COOKIE, cookie(app, "", 0));
    Ok(response)
}

/// `POST /admin/api/logout` without a valid session: nothing to end, but the cookie is cleared all the same.
pub fn logout_signed_out(app: &App) -> Response<Body> {
    let mut response = no_content();
    response.headers_mut().insert(header::SET_COOKIE, cookie(app, "", 0));
    response
}

/// The signed-in person as the page sees them: the admin (if they are one), the provisioned user (if
/// they signed in through the identity provider), and how to sign in.
fn session_json(app: &App, signed: Option<&SignedIn>) -> serde_json::Value {
    let (admin, user, csrf, expires) = match signed {
        Some(SignedIn::Admin(caller)) => {
            let mut admin = admin_json(&caller.admin);
            admin["throughProvider"] = json!(caller.through_provider);
            let user =
                caller.through_provider.then(|| json!({ "id": caller.admin.id, "userName": caller.admin.username }));
            (Some(admin), user, Some(&caller.csrf_token), Some(&caller.expires_at))
        }
        Some(SignedIn::User(person)) => (
            None,
            Some(
                json!({ "id": person.user.id, "userName": person.user.user_name, "displayName": person.user.display_name }),
            ),
            Some(&person.csrf_token),
            Some(&person.expires_at),
        ),
        None => (None, None, None, None),
    };
    let mut value = json!({ "admin": admin, "user": user, "signIn": sign_in_json(app) });
    if let (Some(csrf), Some(expires)) = (csrf, expires) {
        value["csrfToken"] = json!(csrf);
        value["expiresAt"] = json!(expires);
    }
    value
}

/// How people sign in here: with a password, through the identity provider, or both.
fn sign_in_json(app: &App) -> serde_json::Value {
    let provider = app.oidc.as_ref().map(|p| json!({ "name": p.settings().display_name, "start": "/auth/oidc/start" }));
    json!({ "password": app.config.admin.password_sign_in, "provider": provider })
}

/// `GET /admin/api/me`: who is signed in, and the CSRF token the page sends with changes.
pub fn me(app: &App, caller: &Caller) -> Response<Body> {
    answer(StatusCode::OK, &session_json(app, Some(&SignedIn::Admin(caller.clone()))))
}

/// `GET /admin/api/session`, open: who is signed in (with the CSRF token), or `"admin": null` and
/// `"user": null`, how to sign in, and whether the first admin is still to be created. Always 200 when
/// the store answers, so that a signed-out page load asks nothing the browser reports as a failed request.
pub async fn current(app: &App, request: &Request<Incoming>) -> ApiResult {
    let setup_needed = app.store.admin_count().await? == 0;
    let signed = match crate::http::session::signed_in(app, request).await {
        Ok(signed) => Some(signed),
        Err(error) if error.status == StatusCode::UNAUTHORIZED => None,
        Err(error) => return Err(error),
    };
    let mut value = session_json(app, signed.as_ref());
    value["setupNeeded"] = json!(setup_needed);
    Ok(answer(StatusCode::OK, &value))
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
    let address = client_ip(&request);
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
    let holder = Actor { name: Some("holder of the setup link".into()), ..Actor::anonymous(address) };
    let admin = match app.store.create_first_admin(&holder, &username, hash).await {
        Ok(admin) => admin,
        Err(StoreError::Conflict(_)) => return Err(setup_done()),
        Err(error) => return Err(error.into()),
    };
    app.clear_setup_code();
    tracing::info!(admin = %admin.username, "first admin created with the setup link");
    start_session(app, &admin, address, StatusCode::CREATED).await
}

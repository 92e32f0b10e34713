//! The session check every admin request passes, whichever API it calls (the admin API, or the platform
//! API from the page).
//!
//! A session is a 256-bit random id in the `scimbox_session` cookie (`HttpOnly; SameSite=Strict; Path=/`,
//! `Secure` when the page is served over HTTPS); the store keeps only its SHA-256, with an absolute expiry
//! and an idle timeout. The CSRF token is the SHA-256 of a fixed label and the session id: unguessable
//! without the cookie, derivable again on every request (so nothing more is stored), and unrelated to
//! the stored hash. Every request that is not GET or HEAD must echo it in `X-CSRF-Token`.

use hyper::header::{self, HeaderValue};
use hyper::{HeaderMap, Method, Request, StatusCode};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use std::net::IpAddr;

use super::App;
use super::json_api::ApiError;
use super::request::client_ip;
use crate::audit::{Action, Actor, Entry};
use crate::credentials;
use crate::store::{AdminRecord, AnySession, SessionUser};

pub const COOKIE: &str = "scimbox_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Session ids are this many random bytes (hex in the cookie).
pub const ID_BYTES: usize = 32;
/// A signed-in admin making a request: a local admin account, or a provisioned user in the admin group
/// signed in through the identity provider.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The admin; for a provisioned user, their SCIM id, userName and creation time.
    pub admin: AdminRecord,
    /// Whether this is a provisioned user signed in through the identity provider.
    pub through_provider: bool,
    /// The hex SHA-256 of the session id, as stored.
    pub session_hash: String,
    pub csrf_token: String,
    pub expires_at: String,
    /// The client address the request came from.
    pub address: Option<IpAddr>,
}

impl Caller {
    /// The admin, as the audit log names the actor of what this request does.
    pub fn actor(&self) -> Actor {
        if self.through_provider {
            Actor::user(&self.admin.id, &self.admin.username, self.address)
        } else {
            Actor::admin(&self.admin.id, &self.admin.username, self.address)
        }
    }
}

/// Whoever a valid session belongs to: an admin, or a provisioned user who is not one (and may see only
/// their own access).
#[derive(Debug, Clone)]
pub enum SignedIn {
    Admin(Caller),
    User(Person),
}

/// A provisioned user, signed in through the identity provider, who is not an admin.
#[derive(Debug, Clone)]
pub struct Person {
    pub user: SessionUser,
    pub session_hash: String,
    pub csrf_token: String,
    pub expires_at: String,
    pub address: Option<IpAddr>,
}

impl SignedIn {
    /// The provisioned user behind the session, if it is one.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            SignedIn::Admin(caller) => caller.through_provider.then_some(caller.admin.id.as_str()),
            SignedIn::User(person) => Some(person.user.id.as_str()),
        }
    }

    pub fn actor(&self) -> Actor {
        match self {
            SignedIn::Admin(caller) => caller.actor(),
            SignedIn::User(person) => Actor::user(&person.user.id, &person.user.user_name, person.address),
        }
    }

    pub fn session_hash(&self) -> &str {
        match self {
            SignedIn::Admin(caller) => &caller.session_hash,
            SignedIn::User(person) => &person.session_hash,
        }
    }
}

pub fn hash_id(id: &str) -> String {
    credentials::hex(&Sha256::digest(id.as_bytes()))
}

pub fn csrf_for(id: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"scimbox csrf token\0");
    digest.update(id.as_bytes());
    credentials::hex(&digest.finalize())
}

/// The value of cookie `name` in the request's headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| value.len() == ID_BYTES * 2 && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The session id in the request's cookies, if it has the right shape.
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE)
}

pub fn duration(d: std::time::Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

/// Checks the session cookie (and, for a change, the CSRF header) of a request to the admin API: an admin
/// (a local account, or a provisioned user who is in the admin group at this moment).
pub async fn authenticate<B>(app: &App, request: &Request<B>) -> Result<Caller, ApiError> {
    match signed_in(app, request).await? {
        SignedIn::Admin(caller) => Ok(caller),
        SignedIn::User(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "you are signed in, but not as an admin: your account can see My access only",
        )),
    }
}

/// Checks the session cookie (and, for a change, the CSRF header) of any request from the page.
pub async fn signed_in<B>(app: &App, request: &Request<B>) -> Result<SignedIn, ApiError> {
    let id = session_id(request.headers()).ok_or_else(ApiError::unauthorized)?;
    let session_hash = hash_id(&id);
    let settings = &app.config.admin;
    let idle = duration(settings.session_idle_timeout);
    let now = crate::store::now();
    let admin_group = app.oidc.as_ref().and_then(|p| p.settings().admin_group.clone());
    let session = app
        .store
        .any_session(session_hash.clone(), now, idle, admin_group)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    let csrf_token = csrf_for(&id);
    let address = client_ip(request);
    let (signed, last_seen) = match session {
        AnySession::Admin(session) => {
            if !settings.password_sign_in {
                // Password sign-in was turned off: sessions begun with a password end too.
                return Err(ApiError::unauthorized());
            }
            let caller = Caller {
                admin: session.admin,
                through_provider: false,
                session_hash,
                csrf_token,
                expires_at: session.expires_at,
                address,
            };
            (SignedIn::Admin(caller), session.last_seen)
        }
        AnySession::User(session) if session.admin => {
            let admin = AdminRecord {
                id: session.user.id,
                username: session.user.user_name,
                created_at: session.user.created_at,
            };
            let caller = Caller {
                admin,
                through_provider: true,
                session_hash,
                csrf_token,
                expires_at: session.expires_at,
                address,
            };
            (SignedIn::Admin(caller), session.last_seen)
        }
        AnySession::User(session) => {
            let person =
                Person { user: session.user, session_hash, csrf_token, expires_at: session.expires_at, address };
            (SignedIn::User(person), session.last_seen)
        }
    };
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let expected = match &signed {
            SignedIn::Admin(caller) => &caller.csrf_token,
            SignedIn::User(person) => &person.csrf_token,
        };
        let presented = request.headers().get(CSRF_HEADER).map(HeaderValue::as_bytes).unwrap_or_default();
        if !bool::from(presented.ct_eq(expected.as_bytes())) {
            // A valid session without the page's CSRF token: a forged cross-site request, or a stale page.
            let details = serde_json::json!({ "method": request.method().as_str(), "path": request.uri().path() });
            app.store.audit(signed.actor(), Entry::new(Action::CsrfRefused, None, details)).await?;
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this change needs the page's X-CSRF-Token header; reload the page and try again",
            ));
        }
    }
    // The idle clock is refreshed every tenth of the idle timeout (at most every minute), not on every
    // request: someone who keeps working is never signed out, and reads cost no write.
    let refresh = std::cmp::min(idle / 10_i32, time::Duration::minutes(1));
    if now - last_seen >= refresh {
        match &signed {
            SignedIn::Admin(Caller { through_provider: false, .. }) => {
                app.store.touch_session(signed.session_hash().to_owned(), now).await?
            }
            _ => app.store.touch_user_session(signed.session_hash().to_owned(), now).await?,
        }
    }
    Ok(signed)
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

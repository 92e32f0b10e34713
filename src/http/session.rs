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
use crate::store::AdminRecord;

pub const COOKIE: &str = "scimbox_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Session ids are this many random bytes (hex in the cookie).
pub const ID_BYTES: usize = 32;
/// A signed-in admin making a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub admin: AdminRecord,
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
        Actor::admin(&self.admin.id, &self.admin.username, self.address)
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

pub fn duration(d: std::time::Duration) -> time::Duration {
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
    let address = client_ip(request);
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let presented = request.headers().get(CSRF_HEADER).map(HeaderValue::as_bytes).unwrap_or_default();
        if !bool::from(presented.ct_eq(csrf_token.as_bytes())) {
            // A valid session without the page's CSRF token: a forged cross-site request, or a stale page.
            let actor = Actor::admin(&session.admin.id, &session.admin.username, address);
            let details = serde_json::json!({ "method": request.method().as_str(), "path": request.uri().path() });
            app.store.audit(actor, Entry::new(Action::CsrfRefused, None, details)).await?;
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
    Ok(Caller { admin: session.admin, session_hash: hash_id(&id), csrf_token, expires_at: session.expires_at, address })
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

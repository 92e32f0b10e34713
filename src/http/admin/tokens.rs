//! Integrations → SCIM: the base URL an identity provider is given, and the SCIM tokens (generate, list,
//! revoke). A new token's text is in exactly one answer, the one that created it.

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::credentials::{self, Scope};
use crate::http::App;
use crate::http::json_api::{ApiError, ApiResult, answer, body, checked_name};
use crate::http::session::Caller;
use crate::store::{ActivityEntry, RevokeOutcome, StoreError, TokenRecord};

/// Longest token name.
const NAME_MAX_CHARS: usize = 100;

/// How the SCIM page shows one request: when, what, the outcome and the error's detail.
fn request_json(entry: &ActivityEntry) -> Value {
    json!({ "at": entry.at, "method": entry.method, "path": entry.path, "status": entry.status, "error": entry.error })
}

fn token_json(token: &TokenRecord) -> Value {
    let status = token.status(&crate::store::format_time(crate::store::now()));
    json!({
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix(),
        "scope": token.scope.as_str(),
        "createdAt": token.created_at,
        "lastUsedAt": token.last_used_at,
        "expiresAt": token.expires_at,
        "revokedAt": token.revoked_at,
        "status": status,
    })
}

/// `GET /admin/api/integration`: what an identity provider needs besides a token.
pub fn integration<B>(app: &App, request: &Request<B>) -> ApiResult {
    let base = crate::http::request::base_url(app, request);
    Ok(answer(
        StatusCode::OK,
        &json!({
            "scimBaseUrl": format!("{base}/scim/v2"),
            "publicUrlConfigured": app.config.public_url.is_some(),
            "signIn": app.oidc.as_ref().map(|provider| {
                let settings = provider.settings();
                json!({
                    "name": settings.display_name,
                    "issuer": settings.issuer,
                    "clientId": settings.client_id,
                    "redirectUri": provider.redirect_uri(),
                    "signOutRedirectUri": provider.signed_out_uri(),
                    "initiateLoginUri": format!("{base}/auth/oidc/start"),
                    "scopes": settings.scopes,
                    "matchClaim": settings.matching.claim(),
                    "adminGroup": settings.admin_group,
                    "passwordSignIn": app.config.admin.password_sign_in,
                })
            }),
        }),
    ))
}

/// `GET /admin/api/tokens`: every token, newest first, revoked ones included, each with what the activity
/// record says of it (whether the identity provider is connected): its last request, its last failure
/// with the error's detail, and its requests in the last 24 hours.
pub async fn list(app: &App) -> ApiResult {
    let tokens = app.store.list_tokens().await?;
    let activity = app.store.token_activity(crate::store::now() - time::Duration::hours(24)).await?;
    let tokens: Vec<Value> = tokens
        .iter()
        .map(|token| {
            let mut value = token_json(token);
            let seen = activity.get(&token.id);
            value["activity"] = json!({
                "lastRequest": seen.and_then(|a| a.last.as_ref()).map(request_json),
                "lastFailure": seen.and_then(|a| a.last_failure.as_ref()).map(request_json),
                "requestsLastDay": seen.map_or(0, |a| a.since_count),
            });
            value
        })
        .collect();
    Ok(answer(StatusCode::OK, &json!({ "tokens": tokens })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NewToken {
    name: String,
    #[serde(default)]
    expires_in_days: Option<u32>,
    #[serde(default)]
    scope: Option<String>,
}

/// `POST /admin/api/tokens`: a new token, shown in this answer only.
pub async fn create(app: &App, caller: &Caller, request: Request<Incoming>) -> ApiResult {
    let NewToken { name, expires_in_days, scope } = body(request).await?;
    let name = checked_name("the token name", &name, NAME_MAX_CHARS)?;
    let scope = match scope.as_deref() {
        None | Some("scim") => Scope::Scim,
        Some("platform") => Scope::Platform,
        Some(other) => return Err(ApiError::bad_request(format!("scope {other:?} is not scim or platform"))),
    };
    if expires_in_days.is_some_and(|days| !(1..=36_500).contains(&days)) {
        return Err(ApiError::bad_request("expiresInDays must be from 1 to 36500, or left out for no expiry"));
    }
    let (record, token) = app.store.create_token(&caller.actor(), &name, scope, expires_in_days).await?;
    tracing::info!(admin = %caller.admin.username, token = %record.id, name = %record.name, "token created in the page");
    Ok(answer(StatusCode::CREATED, &json!({ "token": token_json(&record), "secret": token.text() })))
}

/// `DELETE /admin/api/tokens/{id}`: revokes the token; a running server refuses it from the next request.
pub async fn revoke(app: &App, caller: &Caller, id: &str) -> ApiResult {
    if !credentials::is_token_id(id) {
        return Err(ApiError::not_found(format!("there is no token {id:?}")));
    }
    match app.store.revoke_token(&caller.actor(), id).await {
        Ok(RevokeOutcome::Revoked(token)) => {
            tracing::info!(admin = %caller.admin.username, token = %token.id, "token revoked in the page");
            Ok(answer(StatusCode::OK, &json!({ "token": token_json(&token), "alreadyRevoked": false })))
        }
        Ok(RevokeOutcome::AlreadyRevoked(token)) => {
            Ok(answer(StatusCode::OK, &json!({ "token": token_json(&token), "alreadyRevoked": true })))
        }
        Err(StoreError::NotFound(_)) => Err(ApiError::not_found(format!("there is no token {id:?}"))),
        Err(error) => Err(error.into()),
    }
}

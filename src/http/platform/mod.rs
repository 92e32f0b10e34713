//! The platform API under `/api/v1/`: assets (capsules, data assets, pipelines), their permission lists,
//! what a user can reach and why, single access decisions, and "extend ownership". The platform's other
//! services call it with a token of scope `platform`; the admin page calls it with its session (and the
//! CSRF header for changes). SCIM tokens are refused: provisioning clients have no business here.
//!
//! Answers are JSON; failures are `{"error": "…"}` with a fitting status (400 for a level the asset's
//! kind does not offer, 404 for an unknown asset, user or group, 401/403 for authentication). Every
//! change is one store write, so a refused request changes nothing.

mod access;

pub use access::reachable_json;
mod assets;

use std::net::IpAddr;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use super::App;
use super::Exchange;
use super::auth::{AuthError, Principal};
use super::json_api::{self, ApiError, ApiResult};
use super::reply::Body;
use super::request::client_ip;
use super::session;
use crate::audit::{Action, Actor, Entry, Target};
use crate::credentials::Scope;
use crate::sharing::{Access, Source, Via};
use crate::store::{Asset, GroupSummary, PrincipalView, UserSummary};

/// Who is calling the platform API.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A service, with a `platform` token, from an address.
    Service(Principal, Option<IpAddr>),
    /// An admin signed in to the page.
    Admin(session::Caller),
}

impl Caller {
    /// The caller as the audit log names the actor of a change.
    pub fn actor(&self) -> Actor {
        match self {
            Caller::Service(principal, address) => Actor::token(&principal.token_id, &principal.token_name, *address),
            Caller::Admin(admin) => admin.actor(),
        }
    }
}

/// Serves `/api/v1/{rest}`: every route of the platform API is in the `match` below.
pub async fn route(app: &App, request: Request<Incoming>, rest: &[&str], exchange: &mut Exchange) -> Response<Body> {
    let caller = match authenticate(app, &request, exchange).await {
        Ok(caller) => caller,
        Err(error) => return error_response(&error),
    };
    let method = request.method().clone();
    let result = match (&method, rest) {
        (&Method::GET, ["assets"]) => assets::list(app, &request).await,
        (&Method::POST, ["assets"]) => assets::create(app, &caller, request).await,
        (&Method::GET, ["assets", id]) => assets::get(app, id).await,
        (&Method::PATCH, ["assets", id]) => assets::update(app, &caller, request, id).await,
        (&Method::DELETE, ["assets", id]) => assets::delete(app, &caller, id).await,
        (&Method::GET, ["assets", id, "permissions"]) => assets::permissions(app, id).await,
        (&Method::PUT, ["assets", id, "permissions"]) => assets::set_permissions(app, &caller, request, id).await,
        (&Method::GET, ["users"]) => access::find_user(app, &request).await,
        (&Method::GET, ["users", id]) => access::user(app, id).await,
        (&Method::GET, ["users", id, "assets"]) => access::user_assets(app, &request, id).await,
        (&Method::GET, ["users", id, "owned"]) => access::owned(app, &request, id).await,
        (&Method::POST, ["users", id, "extend-ownership"]) => access::extend_ownership(app, &caller, request, id).await,
        (&Method::GET, ["groups", id, "assets"]) => access::group_assets(app, &request, id).await,
        (&Method::GET, ["access"]) => access::decide(app, &request).await,
        (_, ["assets" | "users" | "access"] | ["assets" | "users", _] | ["assets", _, "permissions"])
        | (_, ["users", _, "assets" | "owned" | "extend-ownership"] | ["groups", _, "assets"]) => {
            Err(ApiError::new(StatusCode::METHOD_NOT_ALLOWED, format!("{method} is not allowed here")))
        }
        _ => Err(ApiError::not_found(format!("there is no platform API /api/v1/{}", rest.join("/")))),
    };
    result.unwrap_or_else(|error| error_response(&error))
}

/// A request with an `Authorization` header is a service and needs a `platform` token; one without is
/// the admin page and needs its session.
async fn authenticate(app: &App, request: &Request<Incoming>, exchange: &mut Exchange) -> Result<Caller, ApiError> {
    if let Some(value) = request.headers().get(header::AUTHORIZATION) {
        let client = client_ip(request);
        let principal = match app.tokens.authenticate(Some(value.as_bytes()), Scope::Platform, client).await {
            Ok(principal) => principal,
            Err(error) => {
                record_refusal(app, value.as_bytes(), client, &error).await?;
                return Err(auth_error(error));
            }
        };
        exchange.principal = Some(principal.clone());
        return Ok(Caller::Service(principal, client));
    }
    admin_session(app, request).await.map(Caller::Admin).map_err(|error| {
        if error.status == StatusCode::UNAUTHORIZED {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "this API needs an Authorization: Bearer header with a platform token, or an admin signed in to \
                 the page",
            )
        } else {
            error
        }
    })
}

/// The admin page's session, checked by the admin API's own check (cookie, expiry, and for a change the
/// CSRF header).
async fn admin_session(app: &App, request: &Request<Incoming>) -> Result<session::Caller, ApiError> {
    session::authenticate(app, request).await
}

/// Records a refused token in the audit log, within the address's budget (`throttle::RecordBudget`): by
/// the token's public id when the header has a token's shape, never its secret. A lockout is recorded by
/// the verifier when it begins; refusals while it lasts and overload are not refusals of the token.
async fn record_refusal(app: &App, header: &[u8], client: Option<IpAddr>, error: &AuthError) -> Result<(), ApiError> {
    if matches!(error, AuthError::Throttled(_) | AuthError::Overloaded | AuthError::Store(_)) {
        return Ok(());
    }
    let Some(left_out) = app.audit_budget.take(client, std::time::Instant::now()) else { return Ok(()) };
    let id = super::auth::presented_token_id(Some(header));
    let target = id.map(|id| Target { kind: "token".into(), id: Some(id), name: None });
    let details = json!({ "reason": error.to_string(), "refusalsLeftOutBefore": left_out });
    app.store.audit(Actor::anonymous(client), Entry::new(Action::TokenRefused, target, details)).await?;
    Ok(())
}

fn auth_error(error: AuthError) -> ApiError {
    match error {
        AuthError::Missing | AuthError::Malformed | AuthError::Invalid => {
            ApiError::new(StatusCode::UNAUTHORIZED, error.to_string())
        }
        AuthError::WrongScope { .. } => ApiError::new(StatusCode::FORBIDDEN, error.to_string()),
        AuthError::Overloaded => {
            ApiError { status: StatusCode::SERVICE_UNAVAILABLE, message: error.to_string(), retry_after: Some(1) }
        }
        AuthError::Throttled(seconds) => {
            ApiError { status: StatusCode::TOO_MANY_REQUESTS, message: error.to_string(), retry_after: Some(seconds) }
        }
        AuthError::Store(error) => error.into(),
    }
}

fn error_response(error: &ApiError) -> Response<Body> {
    let mut response = json_api::error_response(error);
    if error.status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"scimbox\""));
    }
    response
}

/// A 200 answer.
fn ok(value: &Value) -> ApiResult {
    Ok(json_api::answer(StatusCode::OK, value))
}

/// How a user is shown. A deleted user is a tombstone: `status` says so and `display` reads "deleted user",
/// while `userName` stays for the admins who need to know who it was.
pub fn user_json(user: &UserSummary) -> Value {
    let display = match user.status {
        crate::sharing::UserStatus::Deleted => "deleted user".to_owned(),
        _ => user.display_name.clone().unwrap_or_else(|| user.user_name.clone()),
    };
    json!({
        "type": "user",
        "id": user.id,
        "userName": user.user_name,
        "displayName": user.display_name,
        "display": display,
        "status": user.status.as_str(),
    })
}

pub fn group_json(group: &GroupSummary) -> Value {
    json!({ "type": "group", "id": group.id, "displayName": group.display_name, "display": group.display_name })
}

/// A user or group a grant or an ownership names.
pub fn principal_json(principal: &PrincipalView) -> Value {
    match principal {
        PrincipalView::User(user) => user_json(user),
        PrincipalView::Group(group) => group_json(group),
    }
}

pub fn asset_json(asset: &Asset) -> Value {
    json!({
        "id": asset.id,
        "kind": asset.kind.as_str(),
        "name": asset.name,
        "owner": user_json(&asset.owner),
        "createdAt": asset.created_at,
        "updatedAt": asset.updated_at,
    })
}

fn source_json(source: &Source) -> Value {
    match &source.via {
        Via::Owner => json!({ "type": "owner" }),
        Via::Direct => json!({ "type": "direct" }),
        Via::Group { id, display_name, nested } => {
            json!({ "type": "group", "id": id, "displayName": display_name, "nested": nested })
        }
    }
}

pub fn access_json(access: &Access) -> Value {
    json!({ "level": access.level.as_str(), "via": access.reasons.iter().map(source_json).collect::<Vec<_>>() })
}
